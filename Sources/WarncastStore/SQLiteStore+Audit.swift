import Foundation
import GRDB
import WarncastCore

/// The audit log, the receipts' seals, retention.
extension SQLiteStore {
    public func prune(before cutoff: Date, actor: AuditActor, at date: Date) async throws -> (attempts: Int, receipts: Int) {
        try await write { db in
            let limit = Timestamp.string(cutoff)
            // A delivery's last attempt with a reference stays: for a lower node it is that
            // node's id of the warning, which the upper node's report asks it by for as long
            // as the delivery is kept (its villages' coverage).
            try db.execute(
                sql: """
                    DELETE FROM attempt WHERE at < ?
                      AND NOT (reference IS NOT NULL AND number = (
                        SELECT max(kept.number) FROM attempt kept WHERE kept.deliveryID = attempt.deliveryID AND kept.reference IS NOT NULL))
                    """,
                arguments: [limit])
            let attempts = db.changesCount
            try db.execute(sql: "DELETE FROM receipt WHERE at < ?", arguments: [limit])
            let receipts = db.changesCount
            if attempts + receipts > 0 {
                try AuditLog.append(
                    AuditEvent(
                        actor: actor, action: .retentionPruned, subject: "attempts,receipts",
                        detail: ["before": limit, "attempts": String(attempts), "receipts": String(receipts)]),
                    at: date, in: db)
            }
            return (attempts, receipts)
        }
    }

    public func auditSpan(since: Date, until: Date) async throws -> ClosedRange<Int64>? {
        try await writer.read { db in
            try AuditLog.span(since: Timestamp.string(since), until: Timestamp.string(until), in: db)
        }
    }

    public func exportAudit(in span: ClosedRange<Int64>, after sequence: Int64, limit: Int) async throws -> [AuditEntry] {
        try await writer.read { db in
            try AuditLog.entries(from: max(span.lowerBound, sequence + 1), through: span.upperBound, limit: limit, in: db)
        }
    }

    // MARK: Audit

    public func appendAudit(_ event: AuditEvent, at date: Date) async throws {
        try await write { db in try AuditLog.append(event, at: date, in: db) }
    }

    public func auditEntries(from sequence: Int64, limit: Int) async throws -> [AuditEntry] {
        try await writer.read { db in try AuditLog.entries(from: sequence, limit: limit, in: db) }
    }

    public func verifyReceipts() async throws -> SealVerification {
        try await writer.read { db in try Seals.verify(in: db) }
    }

    public func verifyAudit() async throws -> AuditVerification {
        try await writer.read { db in try AuditLog.verify(in: db) }
    }
}
