import Foundation
import GRDB
import Testing
import WarncastTestSupport

@testable import WarncastStore

@Suite("Opening a store of an older schema")
struct MigrationTests {
    @Test("a v13 store is migrated on open and its opener hears v14, v15 and v16 first; a current or new store says nothing")
    func pendingMigrations() throws {
        let path = try TestSupport.temporaryDirectory().appendingPathComponent("warncast.sqlite").path
        do {
            let older = try DatabasePool(path: path)
            try Schema.migrator.migrate(older, upTo: "v13")
        }
        var heard: [[String]] = []
        _ = try SQLiteStore(path: path, migrating: { heard.append($0) })
        #expect(heard == [["v14", "v15", "v16"]])
        _ = try SQLiteStore(path: path, migrating: { heard.append($0) })
        #expect(heard.count == 1, "a current store has nothing to migrate")
        let fresh = try TestSupport.temporaryDirectory().appendingPathComponent("warncast.sqlite").path
        _ = try SQLiteStore(path: fresh, migrating: { heard.append($0) })
        #expect(heard.count == 1, "a new store is created, not migrated")

        let columns = try DatabasePool(path: path).read { db in
            try db.indexes(on: "delivery").first { $0.name == "delivery_warning_receipts" }?.columns
        }
        #expect(columns == ["warningID", "state", "deliveredAt", "id", "region", "channel"])
    }

    @Test("a new store has pages of 16 KiB and checkpoints every 250 of them; an older store keeps its 4 KiB pages and 1000")
    func pageSize() throws {
        let fresh = try TestSupport.temporaryDirectory().appendingPathComponent("warncast.sqlite").path
        let store = try SQLiteStore(path: fresh)
        let settings = { (db: Database) in
            (try Int.fetchOne(db, sql: "PRAGMA page_size"), try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint"))
        }
        let (size, checkpoint) = try store.writer.write(settings)
        #expect(size == 16384 && checkpoint == 250, "\(String(describing: size)) \(String(describing: checkpoint))")
        let path = try TestSupport.temporaryDirectory().appendingPathComponent("warncast.sqlite").path
        do {
            let older = try DatabasePool(path: path)
            try Schema.migrator.migrate(older, upTo: "v13")
        }
        let migrated = try SQLiteStore(path: path)
        let (oldSize, oldCheckpoint) = try migrated.writer.write(settings)
        #expect(oldSize == 4096 && oldCheckpoint == 1000, "\(String(describing: oldSize)) \(String(describing: oldCheckpoint))")
    }
}
