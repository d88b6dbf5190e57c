import Foundation
import GRDB
import Testing
import WarncastCore
import WarncastStore
import WarncastTestSupport

/// The receipts' seal chain: every finished delivery is sealed, and a receipt changed in
/// the database file afterwards is found by verify.
@Suite("Receipt seals")
struct SealTests {
    /// A file store with a released red warning to four loudspeakers: two delivered, one
    /// failed, one still queued.
    func released() async throws -> (SQLiteStore, String, [Int64]) {
        let path = try TestSupport.temporaryDirectory().appendingPathComponent("warncast.sqlite").path
        let store = try SQLiteStore(path: path)
        try await TestSupport.load(store)
        let speakers = (1...4).map { index in
            (
                recipient: Recipient(
                    id: "ls-\(index)", channel: "loudspeaker", region: RegionCode("43012100100\(index)")!, name: "大喇叭 \(index)",
                    address: "http://127.0.0.1:9/\(index)"), secretHash: String?.none
            )
        }
        try await store.saveRecipients(speakers, audit: AuditEvent(actor: .test, action: .recipientsSaved, subject: "4"))
        let issuer = try await TestSupport.principal(store, try await TestSupport.token(store, role: .issuer, department: "csx-weather"))
        let id = try await TestSupport.accept("rainstorm-red-csx.xml", into: store, as: issuer, at: Date()).warning.id
        for (role, department, region) in [("duty-leader", "csx-weather", nil), ("government-leader", nil, "430121")]
            as [(String, String?, String?)]
        {
            let approver = try await TestSupport.principal(
                store, try await TestSupport.token(store, role: .approver, department: department, region: region, approvalRole: role))
            _ = try await store.decide(warningID: id, .approve, by: approver, reason: nil, at: Date(), routing: try TestSupport.routing)
        }
        let jobs = try await store.leaseDeliveries(channel: "loudspeaker", limit: 3, at: Date(), leaseFor: 30)
        #expect(jobs.count == 3)
        let outcomes: [DeliveryOutcome] = [.delivered, .delivered, .failed("HTTP 404")]
        try await store.recordAttempts(
            zip(jobs, outcomes).map { job, outcome in
                AttemptResult(
                    deliveryID: job.id, attempt: 1, at: Date(), httpStatus: outcome == .delivered ? 200 : 404, error: nil,
                    outcome: outcome, milliseconds: 5)
            })
        return (store, path, jobs.map(\.id))
    }

    @Test("finished deliveries are sealed; the chain and every receipt verify")
    func sealed() async throws {
        let (store, _, ids) = try await released()
        guard case .intact(let seals, let deliveries, _) = try await store.verifyReceipts() else {
            Issue.record("a fresh chain should verify")
            return
        }
        #expect(seals == 3 && deliveries == 3)
        // A later report on a finished delivery is sealed again, and still verifies.
        _ = try await store.report(DeliveryReport(deliveryID: ids[2], state: .delivered, detail: "late", source: "test", at: Date()))
        guard case .intact(4, 3, _) = try await store.verifyReceipts() else {
            Issue.record("a re-sealed receipt should verify")
            return
        }
    }

    @Test("a failed receipt turned into a delivered one in the file is found, and so is an edited seal")
    func tampering() async throws {
        let (_, path, ids) = try await released()
        try await DatabaseQueue(path: path).write { db in
            try db.execute(sql: "UPDATE delivery SET state = 'delivered', deliveredAt = failedAt WHERE id = ?", arguments: [ids[2]])
        }
        let verdict = try await SQLiteStore(path: path).verifyReceipts()
        guard case .broken(let delivery, let reason) = verdict else {
            Issue.record("the edit went unnoticed")
            return
        }
        #expect(delivery == ids[2])
        #expect(reason == "it differs from its seal: state reads delivered but was sealed failed")

        // Only the status changed: the reason names that field.
        try await DatabaseQueue(path: path).write { db in
            try db.execute(sql: "UPDATE delivery SET lastStatus = 202 WHERE id = ?", arguments: [ids[0]])
        }
        let status = try await SQLiteStore(path: path).verifyReceipts()
        #expect(status == .broken(delivery: ids[0], reason: "it differs from its seal: lastStatus reads 202 but was sealed 200"))
        try await DatabaseQueue(path: path).write { db in
            try db.execute(sql: "UPDATE delivery SET lastStatus = 200 WHERE id = ?", arguments: [ids[0]])
        }

        // Cover it up by editing the seal too: the seal no longer matches its hash.
        try await DatabaseQueue(path: path).write { db in
            #expect(throws: DatabaseError.self) { try db.execute(sql: "UPDATE delivery_seal SET state = 'delivered'") }
            try db.execute(sql: "DROP TRIGGER delivery_seal_no_update")
            try db.execute(sql: "UPDATE delivery_seal SET state = 'delivered' WHERE deliveryID = ?", arguments: [ids[2]])
        }
        let again = try await SQLiteStore(path: path).verifyReceipts()
        #expect(again == .broken(delivery: ids[2], reason: "seal 3 does not match its hash: it was edited"))
    }

    @Test("a queued delivery marked delivered by hand was never sealed so")
    func neverSealed() async throws {
        let (_, path, _) = try await released()
        let queued = try await DatabaseQueue(path: path).write { db -> Int64 in
            let id = try Int64.fetchOne(db, sql: "SELECT id FROM delivery WHERE state = 'queued'")!
            try db.execute(sql: "UPDATE delivery SET state = 'delivered', deliveredAt = queuedAt WHERE id = ?", arguments: [id])
            return id
        }
        let verdict = try await SQLiteStore(path: path).verifyReceipts()
        #expect(verdict == .broken(delivery: queued, reason: "it reads delivered but was never sealed so"))
    }

    @Test("a resend reopens receipts under a seal; reopened or removed in the file instead, they are found")
    func reopened() async throws {
        let (store, path, ids) = try await released()
        let warning = try #require(
            try await DatabaseQueue(path: path).read { db in
                try String.fetchOne(db, sql: "SELECT warningID FROM delivery WHERE id = ?", arguments: [ids[2]])
            })
        let resent = try await store.resend(
            warningID: Warning.ID(rawValue: warning), channel: nil, within: RegionCode("430121")!, states: [.failed], by: .test,
            reason: "gateway back", at: Date())
        #expect(resent == 1)
        guard case .intact = try await store.verifyReceipts() else {
            Issue.record("a resend is not tampering")
            return
        }
        // A delivered receipt put back in the queue by hand, with no seal to say so.
        try await DatabaseQueue(path: path).write { db in
            try db.execute(sql: "UPDATE delivery SET state = 'queued' WHERE id = ?", arguments: [ids[1]])
        }
        #expect(
            try await SQLiteStore(path: path).verifyReceipts()
                == .broken(delivery: ids[1], reason: "it reads queued but was sealed delivered, with no seal since"))
        // Removed from the store altogether.
        try await DatabaseQueue(path: path).write { db in
            try db.execute(sql: "UPDATE delivery SET state = 'delivered' WHERE id = ?", arguments: [ids[1]])
            try db.execute(sql: "DELETE FROM delivery WHERE id = ?", arguments: [ids[0]])
        }
        #expect(
            try await SQLiteStore(path: path).verifyReceipts()
                == .broken(delivery: ids[0], reason: "it was sealed delivered but is gone from the store"))
    }
}
