import Foundation
import GRDB
import WarncastCore

/// The durable outbox; every change of a delivery is decided by `DeliveryLifecycle`.
extension SQLiteStore {
    public func leaseDeliveries(channel: String, limit: Int, at date: Date, leaseFor: TimeInterval) async throws -> [DeliveryJob] {
        try await write { db in
            try Deliveries(db: db).lease(channel: channel, limit: limit, at: date, leaseFor: leaseFor)
        }
    }

    public func renewLeases(_ leases: [(id: Int64, attempt: Int)], until: Date) async throws -> Set<Int64> {
        try await write { db in try Deliveries(db: db).renew(leases, until: until) }
    }

    public func withdrawnWarnings(_ ids: [Warning.ID]) async throws -> Set<Warning.ID> {
        guard !ids.isEmpty else { return [] }
        return try await writer.read { db in
            let marks = ids.map { _ in "?" }.joined(separator: ",")
            return Set(
                try String.fetchAll(
                    db, sql: "SELECT id FROM warning WHERE id IN (\(marks)) AND status IN ('superseded', 'cancelled')",
                    arguments: StatementArguments(ids.map(\.rawValue))
                ).map(Warning.ID.init(rawValue:)))
        }
    }

    public func recordAttempts(_ results: [AttemptResult]) async throws {
        try await write { db in try Deliveries(db: db).record(results) }
    }

    public func planNextStep(routing: DeliveryRouting, at date: Date) async throws -> PlanningStep? {
        try await write { db in try Planning(db: db, size: planningStep).next(routing: routing, at: date) }
    }

    public func wake(recipientID: String, at date: Date) async throws -> Int {
        // Thousands of terminals dial in again after a restart, most with nothing waiting:
        // those take a read, not a write transaction each.
        let waiting = try await writer.read { db in
            try Bool.fetchOne(
                db.cachedStatement(
                    sql: "SELECT EXISTS (SELECT 1 FROM delivery WHERE recipientID = ? AND state = 'queued' AND endpoint = 'dial-in')"),
                arguments: [recipientID]) ?? false
        }
        guard waiting else { return 0 }
        return try await write { db in try Deliveries(db: db).wake(recipientID: recipientID, at: date) }
    }

    public func expireDeliveries(at date: Date) async throws -> Int {
        try await write { db in try Deliveries(db: db).expire(at: date) }
    }

    public func report(_ report: DeliveryReport) async throws -> ReportResult {
        try await write { db in try Deliveries(db: db).report(report) }
    }

    public func acknowledge(idempotencyKey: String, secretHashes: [String], at date: Date) async throws -> AckResult {
        try await write { db in
            try Deliveries(db: db).acknowledge(idempotencyKey: idempotencyKey, secretHashes: secretHashes, at: date)
        }
    }
}
