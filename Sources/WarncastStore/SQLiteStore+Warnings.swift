import Foundation
import GRDB
import WarncastCore

/// Warnings, their approvals and their timers.
extension SQLiteStore {
    // MARK: Warnings

    public func accept(
        _ draft: WarningDraft, plan: ApprovalPlan, by principal: Principal, at date: Date, routing: DeliveryRouting
    ) async throws -> Acceptance {
        try await write { db in
            try WarningWriter(db: db, routing: routing, planningStep: planningStep).accept(draft, plan: plan, by: principal, at: date)
        }
    }

    public func warning(id: Warning.ID) async throws -> Warning? {
        try await writer.read { db in
            try WarningRecord.fetchOne(db, key: id.rawValue)?.warning(approvals: ApprovalRecord.all(for: id.rawValue, db))
        }
    }

    public func warning(sender: String, identifier: String) async throws -> Warning? {
        try await writer.read { db in
            guard let record = try WarningRecord.find(sender: sender, identifier: identifier, db) else { return nil }
            return try record.warning(approvals: ApprovalRecord.all(for: record.id, db))
        }
    }

    public func rawMessage(id: Warning.ID) async throws -> (data: Data, format: CAPFormat)? {
        try await writer.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT raw, format FROM warning WHERE id = ?", arguments: [id]),
                let format = CAPFormat(rawValue: row["format"])
            else { return nil }
            return (row["raw"], format)
        }
    }

    public func warnings(_ query: WarningQuery) async throws -> [Warning] {
        try await writer.read { db in
            try WarningRecord.fetchAll(db, WarningRecord.request(for: query)).map {
                try $0.warning(approvals: ApprovalRecord.all(for: $0.id, db))
            }
        }
    }

    /// The released messages' condition, shared by `releasedMessages` and its mark.
    private static let releasedSince = """
        status IN ('released', 'superseded', 'cancelled', 'expired') AND releasedAt > ?1
          AND (expiresAt IS NULL OR expiresAt > ?1)
        """

    public func releasedMessages(since date: Date) async throws -> [Warning] {
        try await writer.read { db in
            try WarningRecord.fetchAll(
                db, sql: "SELECT * FROM warning WHERE \(Self.releasedSince) ORDER BY releasedAt DESC, id LIMIT 2000",
                arguments: [Timestamp.string(date)]
            ).map { try $0.warning(approvals: []) }
        }
    }

    public func releasedMessagesMark(since date: Date) async throws -> ReleasedMessagesMark {
        try await writer.read { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT count(*), max(releasedAt), total(status = 'superseded'), total(status = 'cancelled')
                    FROM warning WHERE \(Self.releasedSince)
                    """,
                arguments: [Timestamp.string(date)])
            return ReleasedMessagesMark(
                count: row?[0] ?? 0, newestRelease: row?[1], superseded: Int(row?[2] ?? 0.0), cancelled: Int(row?[3] ?? 0.0))
        }
    }

    // MARK: Approval

    public func decide(
        warningID: Warning.ID, _ decision: Approval.Decision, by principal: Principal, reason: String?, at date: Date,
        routing: DeliveryRouting
    ) async throws -> Decided {
        try await write { db in
            try ApprovalWriter(db: db, routing: routing, planningStep: planningStep).decide(
                warningID: warningID.rawValue, decision, by: principal, reason: reason, at: date)
        }
    }

    public func escalateOverdue(at date: Date, repeatEvery: TimeInterval, contacts: [String]) async throws -> [Escalation] {
        try await write { db in
            try Scheduling(db: db).escalateOverdue(at: date, repeatEvery: repeatEvery, contacts: contacts)
        }
    }

    public func expireWarnings(at date: Date) async throws -> [String] {
        try await write { db in try Scheduling(db: db).expireWarnings(at: date) }
    }

    public func auditEntries(subject: String) async throws -> [AuditEntry] {
        try await writer.read { db in try AuditLog.entries(subject: subject, in: db) }
    }

    public func visibleWarnings(_ ids: [String], within scope: RegionCode) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        return try await writer.read { db in
            var visible: Set<String> = []
            let unique = Array(Set(ids))
            for start in stride(from: 0, to: unique.count, by: 500) {
                let chunk = Array(unique[start..<min(start + 500, unique.count)])
                var arguments = StatementArguments(chunk)
                _ = arguments.append(contentsOf: [String(scope.prefix), scope.rawValue])
                let found = try String.fetchAll(
                    db,
                    sql: """
                        SELECT DISTINCT warningID FROM warningArea
                        WHERE warningID IN (\(chunk.map { _ in "?" }.joined(separator: ","))) AND (code LIKE ? || '%' OR ? LIKE prefix || '%')
                        """,
                    arguments: arguments)
                visible.formUnion(found)
            }
            return visible
        }
    }

    public func resend(
        warningID: Warning.ID, channel: String?, within region: RegionCode, states: Set<DeliveryState>, by actor: AuditActor,
        reason: String, at date: Date
    ) async throws -> Int {
        try await write { db in
            let count = try Deliveries(db: db).resend(
                warningID: warningID.rawValue, channel: channel, within: region, states: states, at: date)
            try AuditLog.append(
                AuditEvent(
                    actor: actor, action: .deliveriesResent, subject: warningID.rawValue,
                    detail: [
                        "count": String(count), "channel": channel ?? "all", "region": region.rawValue,
                        "states": states.map(\.rawValue).sorted().joined(separator: ","), "reason": reason,
                    ]),
                at: date, in: db)
            return count
        }
    }
}
