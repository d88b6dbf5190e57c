import Foundation
import GRDB
import Testing
import WarncastCore
import WarncastStore
import WarncastTestSupport

@Suite("The audit log in the store")
struct AuditLogTests {
    func fileStore() async throws -> (SQLiteStore, String) {
        let path = try TestSupport.temporaryDirectory().appendingPathComponent("warncast.sqlite").path
        let store = try SQLiteStore(path: path)
        try await TestSupport.load(store)
        for index in 1...5 {
            try await store.appendAudit(
                AuditEvent(actor: .test, action: AuditAction(name: "probe"), subject: "s\(index)"), at: TestSupport.now)
        }
        return (store, path)
    }

    @Test("the database is in WAL mode and survives reopening")
    func walAndReopen() async throws {
        let (store, path) = try await fileStore()
        let before = try await store.auditEntries(from: 1, limit: 1000)
        let reopened = try SQLiteStore(path: path)
        #expect(try await reopened.auditEntries(from: 1, limit: 1000) == before)
        #expect(try await reopened.regionCount() == 247)
        let mode = try await DatabaseQueue(path: path).read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
    }

    @Test("a time window's export is a piece of the chain without holes, an entry stamped out of order included")
    func windowWithoutHoles() async throws {
        let store = try SQLiteStore.inMemory()
        let base = TestSupport.now
        // The second writer took its time before the first one's entry was written.
        for (subject, minutes) in [("a", 10.0), ("late", 5.0), ("b", 20.0), ("after", 90.0)] {
            try await store.appendAudit(
                AuditEvent(actor: .test, action: AuditAction(name: "probe"), subject: subject), at: base.addingTimeInterval(minutes * 60))
        }
        let span = try #require(try await store.auditSpan(since: base.addingTimeInterval(8 * 60), until: base.addingTimeInterval(60 * 60)))
        #expect(span == 1...3)
        let first = try await store.exportAudit(in: span, after: 0, limit: 2)
        let rest = try await store.exportAudit(in: span, after: first.last?.sequence ?? 0, limit: 2)
        #expect((first + rest).map(\.subject) == ["a", "late", "b"])
        #expect(try await store.auditSpan(since: base.addingTimeInterval(100 * 60), until: base.addingTimeInterval(200 * 60)) == nil)
    }

    @Test("the store refuses to update or delete audit entries")
    func appendOnly() async throws {
        let (_, path) = try await fileStore()
        let queue = try DatabaseQueue(path: path)
        #expect(throws: DatabaseError.self) {
            try queue.write { db in try db.execute(sql: "UPDATE audit SET actor = 'x' WHERE sequence = 2") }
        }
        #expect(throws: DatabaseError.self) {
            try queue.write { db in try db.execute(sql: "DELETE FROM audit WHERE sequence = 2") }
        }
    }

    @Test("verify reports the first broken link after a manual edit of the database")
    func tamperingDetected() async throws {
        let (store, path) = try await fileStore()
        guard case .intact(let count, _) = try await store.verifyAudit() else {
            Issue.record("fresh chain should verify")
            return
        }
        #expect(count == 8)
        // An attacker with the file drops the guard and rewrites entry 4.
        try await DatabaseQueue(path: path).write { db in
            try db.execute(sql: "DROP TRIGGER audit_no_update")
            try db.execute(sql: "UPDATE audit SET subject = 'forged' WHERE sequence = 4")
        }
        let verdict = try await SQLiteStore(path: path).verifyAudit()
        #expect(verdict == .broken([AuditBreak(sequence: 4, reason: "content does not match its hash: the entry was edited")]))
    }

    @Test("a chain longer than one verification batch verifies and is broken where edited")
    func longChain() async throws {
        let store = try SQLiteStore.inMemory()
        for index in 1...2500 {
            try await store.appendAudit(
                AuditEvent(actor: .test, action: AuditAction(name: "probe"), subject: "s\(index)"), at: TestSupport.now)
        }
        guard case .intact(let count, _) = try await store.verifyAudit() else {
            Issue.record("long chain should verify")
            return
        }
        #expect(count == 2500)
    }
}
