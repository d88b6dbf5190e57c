import Foundation
import GRDB
import Testing
import WarncastCore
import WarncastTestSupport

@testable import WarncastStore

/// Deliveries expire with their warning: the sweep looks only at expired warnings that still
/// have deliveries to do (`warning.deliveriesOpen`).
@Suite("Deliveries expiring with their warning")
struct ExpiryTests {
    static func open(_ store: SQLiteStore, _ id: Warning.ID) throws -> Bool? {
        try store.writer.read { db in
            try Bool.fetchOne(db, sql: "SELECT deliveriesOpen FROM warning WHERE id = ?", arguments: [id.rawValue])
        }
    }

    static let later = ISO8601DateFormatter().date(from: "2100-01-01T00:00:00Z")!

    @Test("the sweep expires what is left of an expired warning once, then no longer looks at it; a resend looks again")
    func sweep() async throws {
        let store = try await PlanningTests.store(speakers: 9)
        let id = try await PlanningTests.release(store, identifier: "expiry-1")
        while try await store.planNextStep(routing: try TestSupport.routing, at: Date()) != nil {}
        #expect(try Self.open(store, id) == true)
        // The fixture expires in 2099: nothing to do yet.
        #expect(try await store.expireDeliveries(at: Date()) == 0)
        #expect(try Self.open(store, id) == true)

        #expect(try await store.expireDeliveries(at: Self.later) == 9)
        #expect(try await store.deliverySummary(warningID: id) == [.expired: 9])
        #expect(try Self.open(store, id) == false, "nothing left to do")
        #expect(try await store.expireDeliveries(at: Self.later) == 0)

        let resent = try await store.resend(
            warningID: id, channel: nil, within: RegionCode("430121")!, states: [.expired], by: .test, reason: "test", at: Date())
        #expect(resent == 9)
        #expect(try Self.open(store, id) == true)
        #expect(try await store.expireDeliveries(at: Self.later) == 9)
        #expect(try Self.open(store, id) == false)
    }

    @Test("a delivery sending under a live lease keeps its warning looked at until the lease runs out")
    func sendingUnderLease() async throws {
        let store = try await PlanningTests.store(speakers: 9)
        let id = try await PlanningTests.release(store, identifier: "expiry-3")
        while try await store.planNextStep(routing: try TestSupport.routing, at: Date()) != nil {}
        // The fixture expires at 2099-07-02T00:00:00Z; two are leased a minute before, for an hour.
        let date = { (text: String) in ISO8601DateFormatter().date(from: text)! }
        let leased = try await store.leaseDeliveries(
            channel: "loudspeaker", limit: 2, at: date("2099-07-01T23:59:00Z"), leaseFor: 3600)
        #expect(leased.count == 2)
        #expect(try await store.expireDeliveries(at: date("2099-07-02T00:30:00Z")) == 7)
        #expect(try Self.open(store, id) == true, "two are still sending")
        #expect(try await store.deliverySummary(warningID: id) == [.expired: 7, .sending: 2])
        #expect(try await store.expireDeliveries(at: date("2099-07-02T01:00:00Z")) == 2)
        #expect(try Self.open(store, id) == false)
    }

    @Test("a last planning step that plans nothing leaves the warning looked at for what the earlier steps planned")
    func emptyLastStep() async throws {
        // Ids 0 and (none after) in the warning's county; 1-7 in another: steps of 4 plan 1, then 0.
        let villages = ["430121001001"] + Array(repeating: "430102001001", count: 7)
        let store = try await PlanningTests.store(speakers: 8, villages: villages)
        let id = try await PlanningTests.release(store, identifier: "expiry-4")
        let last = try await store.planNextStep(routing: try TestSupport.routing, at: Date())
        #expect(last == PlanningStep(warningID: id.rawValue, planned: 0, finished: true))
        #expect(try Self.open(store, id) == true)
        #expect(try await store.expireDeliveries(at: Self.later) == 1)
    }

    @Test("the sweep finds the expired warnings through their own index, not by reading every warning")
    func sweepUsesIndex() async throws {
        let store = try await PlanningTests.store(speakers: 1)
        let plan = try await store.writer.read { db in
            try Row.fetchAll(
                db, sql: "EXPLAIN QUERY PLAN SELECT id FROM warning WHERE deliveriesOpen AND expiresAt <= ?", arguments: ["x"]
            ).map { $0["detail"] as String }
        }
        #expect(plan.contains { $0.contains("USING INDEX warning_deliveries_open") }, "\(plan)")
    }

    @Test("a v14 store with deliveries still to do: its warning is swept after the migration, and the old index is gone")
    func migration() async throws {
        let path = try TestSupport.temporaryDirectory().appendingPathComponent("warncast.sqlite").path
        let id: Warning.ID
        do {
            let store = try await PlanningTests.store(speakers: 5, path: path)
            id = try await PlanningTests.release(store, identifier: "expiry-2")
            // Back to v14 as it was: the open deliveries' index, no flag on the warning.
            try await store.writer.write { db in
                try db.execute(
                    sql: """
                        DROP INDEX warning_deliveries_open;
                        ALTER TABLE warning DROP COLUMN deliveriesOpen;
                        CREATE INDEX delivery_open_expiry ON delivery (expiresAt) WHERE state IN ('queued', 'sending');
                        DELETE FROM grdb_migrations WHERE identifier = 'v15';
                        """)
            }
        }
        var heard: [[String]] = []
        let store = try SQLiteStore(path: path, migrating: { heard.append($0) })
        #expect(heard == [["v15"]])
        #expect(try Self.open(store, id) == true)
        let indexes = try await store.writer.read { db in try db.indexes(on: "delivery").map(\.name) }
        #expect(!indexes.contains("delivery_open_expiry"))
        let warningIndexes = try await store.writer.read { db in try db.indexes(on: "warning").map(\.name) }
        #expect(warningIndexes.contains("warning_deliveries_open"))
        #expect(try await store.expireDeliveries(at: Self.later) == 4, "the first planning step's 4")
    }
}
