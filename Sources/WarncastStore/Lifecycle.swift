import Foundation
import GRDB
import WarncastCore

/// Status changes of warnings, each with its audit entry, inside the caller's transaction.
struct Lifecycle {
    let db: Database
    /// Recipients considered per planning step.
    var planningStep = Lifecycle.planningStep

    /// Releases a warning. An Update supersedes the messages it references; a Cancel (解除)
    /// ends them. Returns the ids of the earlier warnings it replaced.
    @discardableResult
    func release(_ id: String, actor: AuditActor, reason: String, at date: Date, routing: DeliveryRouting) throws -> [String] {
        try db.execute(
            sql: "UPDATE warning SET status = ?, releasedAt = ? WHERE id = ?",
            arguments: [WarningStatus.released.rawValue, Timestamp.string(date), id])
        try AuditLog.append(
            AuditEvent(actor: actor, action: .warningReleased, subject: id, detail: ["reason": reason]), at: date, in: db)
        guard let record = try WarningRecord.fetchOne(db, key: id) else { return [] }
        let warning = try record.warning()
        let deliveries = Deliveries(db: db)
        let routed = routing.channels(level: warning.level, event: warning.event)
        let blocked = warning.alert.blockedChannels
        if !blocked.isEmpty {
            try AuditLog.append(
                AuditEvent(
                    actor: .planner, action: .channelsBlocked, subject: id,
                    detail: [
                        "asked": blocked.sorted().joined(separator: ","),
                        "kept_off": routed.filter(blocked.contains).joined(separator: ","),
                    ]), at: date, in: db)
        }
        try planStep(record, warning, after: "", routing: routing, at: date)
        let replacedStatus: WarningStatus
        switch warning.msgType {
        case .alert: return []
        case .update: replacedStatus = .superseded
        case .cancel: replacedStatus = .cancelled
        }
        var replaced: [String] = []
        for reference in warning.references {
            guard let earlier = try WarningRecord.find(sender: reference.sender, identifier: reference.identifier, db),
                earlier.status != replacedStatus.rawValue
            else { continue }
            try transition(earlier.id, to: replacedStatus, actor: actor, detail: ["by": id], at: date)
            let superseded = try deliveries.supersede(warningID: earlier.id, at: date)
            if superseded > 0 {
                try AuditLog.append(
                    AuditEvent(
                        actor: .planner, action: .deliveriesSuperseded, subject: earlier.id,
                        detail: ["count": String(superseded), "by": id]),
                    at: date, in: db)
            }
            replaced.append(earlier.id)
        }
        return replaced
    }

    /// How many recipients one planning step considers by default. A release plans the
    /// first step in its own transaction, so the approving leader waits for one step at
    /// most; `planNext` takes the rest a step per transaction while the first deliveries
    /// are going out.
    static let planningStep = 20_000

    /// Plans the deliveries of the next `planningStep` recipients after `after` (in id
    /// order; "" for the first step), and notes where the next step starts, or that planning
    /// is finished (with the audit entry counting every delivery planned).
    @discardableResult
    func planStep(
        _ record: WarningRecord, _ warning: Warning, after: String, routing: DeliveryRouting, at date: Date
    ) throws -> PlanningStep {
        let deliveries = Deliveries(db: db)
        let through = try deliveries.chunkEnd(after: after, size: planningStep)
        let blocked = warning.alert.blockedChannels
        let planned = try deliveries.plan(
            warningID: record.id, channels: routing.channels(level: warning.level, event: warning.event).filter { !blocked.contains($0) },
            covering: routing.covering, expiresAt: record.expiresAt?.text, testOnly: warning.capStatus != "Actual",
            after: after.isEmpty ? nil : after, through: through, at: date)
        try db.execute(sql: "UPDATE warning SET planAfter = ? WHERE id = ?", arguments: [through, record.id])
        if through == nil { try finishPlanning(record.id, stopped: nil, at: date) }
        return PlanningStep(warningID: record.id, planned: planned, finished: through == nil)
    }

    /// Takes the next step of a release still being planned, if any: the most severe level
    /// first (a red warning does not wait behind a large yellow one), then the oldest. A
    /// warning that was superseded, cancelled or has expired meanwhile, or whose stored
    /// message can no longer be read, is planned no further.
    func planNext(routing: DeliveryRouting, at date: Date) throws -> PlanningStep? {
        guard
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT id, planAfter FROM warning WHERE planAfter IS NOT NULL
                    ORDER BY CASE level WHEN 'red' THEN 0 WHEN 'orange' THEN 1 WHEN 'yellow' THEN 2 ELSE 3 END, releasedAt, id
                    LIMIT 1
                    """),
            let record = try WarningRecord.find(id: row[0], db)
        else { return nil }
        let now = Timestamp(date)
        var stopped: String? =
            record.status != WarningStatus.released.rawValue
            ? record.status : (record.expiresAt.map { $0.text <= now.text } == true ? "expired" : nil)
        var warning: Warning?
        if stopped == nil {
            do {
                warning = try record.warning()
            } catch is DecodingError {
                // Retrying would never succeed, and would hold up every release behind it.
                stopped = "unreadable"
            }
        }
        guard let warning, stopped == nil else {
            try db.execute(sql: "UPDATE warning SET planAfter = NULL WHERE id = ?", arguments: [record.id])
            try finishPlanning(record.id, stopped: stopped, at: date)
            return PlanningStep(warningID: record.id, planned: 0, finished: true)
        }
        return try planStep(record, warning, after: row[1], routing: routing, at: date)
    }

    /// The audit entry of a finished (or stopped) planning: how many deliveries it made.
    private func finishPlanning(_ id: String, stopped: String?, at date: Date) throws {
        let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM delivery WHERE warningID = ?", arguments: [id]) ?? 0
        guard count > 0 || stopped != nil else { return }
        var detail = ["count": String(count)]
        if let stopped { detail["stopped"] = stopped }
        try AuditLog.append(AuditEvent(actor: .planner, action: .deliveriesPlanned, subject: id, detail: detail), at: date, in: db)
    }

    /// Moves a warning to `status`; it no longer waits for approvals.
    func transition(_ id: String, to status: WarningStatus, actor: AuditActor, detail: [String: String], at date: Date) throws {
        try db.execute(
            sql: "UPDATE warning SET status = ?, awaiting = 0, decidedAt = coalesce(decidedAt, ?) WHERE id = ?",
            arguments: [status.rawValue, Timestamp.string(date), id])
        try AuditLog.append(
            AuditEvent(actor: actor, action: .warning(status), subject: id, detail: detail), at: date, in: db)
    }
}
