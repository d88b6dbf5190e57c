import Foundation
import GRDB
import WarncastCore

/// Status changes of warnings, each with its audit entry, inside the caller's transaction.
struct Lifecycle {
    let db: Database
    /// Recipients considered per planning step (see `Planning`).
    var planningStep = Planning.defaultStep

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
        try recordTerminals(of: warning, routing: routing, at: date)
        try Planning(db: db, size: planningStep).step(record, warning, after: "", routing: routing, at: date)
        let replacedStatus: WarningStatus
        switch warning.msgType {
        case .alert: return []
        case .update: replacedStatus = .superseded
        case .cancel: replacedStatus = .cancelled
        }
        var replaced: [String] = []
        for reference in warning.references {
            // Only a warning in force, awaiting approval or updated already is replaced (a
            // Cancel ends the whole chain): a rejected or expired one keeps what became of it,
            // also one past its expiry that the sweep has not marked yet (as the approval
            // rules judged it).
            guard let earlier = try WarningRecord.find(sender: reference.sender, identifier: reference.identifier, db),
                earlier.status != replacedStatus.rawValue,
                [WarningStatus.pendingApproval, .approved, .released, .superseded].map(\.rawValue).contains(earlier.status),
                earlier.expiresAt.map({ $0.date > date }) != false
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

    /// What the audit log keeps of the terminals in a warning's area as it goes out: how many
    /// were online, offline or faulty, and the divisions (villages) with none working, so
    /// a report can say later who could not have heard it.
    private func recordTerminals(of warning: Warning, routing: DeliveryRouting, at date: Date) throws {
        guard !routing.terminals.channels.isEmpty, warning.capStatus == "Actual" else { return }
        let summary = try Terminals(db: db, watch: routing.terminals).summary(areas: warning.areas, at: date)
        guard summary.terminals > 0 || summary.unequippedCount > 0 else { return }
        try AuditLog.append(
            AuditEvent(
                actor: .planner, action: .terminalsAtRelease, subject: warning.id.rawValue,
                detail: [
                    "terminals": String(summary.terminals), "online": String(summary.online), "offline": String(summary.offline),
                    "faulty": String(summary.faulty), "silent": String(summary.silentCount),
                    "silent_divisions": summary.silent.prefix(200).map(\.code).joined(separator: ","),
                    "unequipped": String(summary.unequippedCount),
                    "unequipped_villages": summary.unequipped.prefix(200).map(\.code).joined(separator: ","),
                ]), at: date, in: db)
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
