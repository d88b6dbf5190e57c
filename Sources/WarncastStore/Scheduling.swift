import Foundation
import GRDB
import WarncastCore

/// The scheduler's queries: overdue decisions and expired warnings. Timers live in the
/// `warning` table (`deadline`, `lastEscalatedAt`, `expiresAt`), so they survive a restart.
struct Scheduling {
    let db: Database

    func escalateOverdue(at date: Date, repeatEvery: TimeInterval, contacts: [String]) throws -> [Escalation] {
        let now = Timestamp.string(date)
        let again = Timestamp.string(date.addingTimeInterval(-repeatEvery))
        let overdue = try WarningRecord.fetchAll(
            db,
            sql: """
                SELECT * FROM warning WHERE awaiting = 1 AND deadline IS NOT NULL AND deadline <= ?
                  AND (lastEscalatedAt IS NULL OR lastEscalatedAt <= ?)
                ORDER BY deadline
                """,
            arguments: [now, again])
        var escalations: [Escalation] = []
        for record in overdue {
            guard let plan = record.approvalPlan, let deadline = record.deadline else { continue }
            let number = record.escalationCount + 1
            let warning = try record.warning()
            let escalation = Escalation(
                warningID: record.id, number: number, at: Timestamp(stored: now), deadline: deadline, headline: warning.headline,
                level: warning.level, rule: plan.rule,
                missing: ApprovalLedger(plan: plan, approvals: try ApprovalRecord.all(for: record.id, db)).missing,
                contacts: contacts)
            try db.execute(
                sql: "UPDATE warning SET late = 1, escalationCount = ?, lastEscalatedAt = ? WHERE id = ?",
                arguments: [number, now, record.id])
            try db.execute(
                sql: "INSERT INTO escalation (warningID, number, at, contacts) VALUES (?, ?, ?, ?)",
                arguments: [record.id, number, now, contacts.joined(separator: "; ")])
            if number == 1 {
                try AuditLog.append(
                    AuditEvent(
                        actor: .scheduler, action: .warningLate, subject: record.id,
                        detail: ["deadline": deadline.text, "rule": plan.rule, "release": plan.release.rawValue]),
                    at: date, in: db)
            }
            try AuditLog.append(
                AuditEvent(
                    actor: .scheduler, action: .warningEscalated, subject: record.id,
                    detail: [
                        "number": String(number), "contacts": contacts.joined(separator: "; "),
                        "missing": escalation.missing.map { "\($0.role)@\($0.scope.rawValue)×\($0.remaining)" }
                            .joined(separator: " "),
                    ]),
                at: date, in: db)
            escalations.append(escalation)
        }
        return escalations
    }

    func expireWarnings(at date: Date) throws -> [String] {
        let ids = try String.fetchAll(
            db,
            sql: "SELECT id FROM warning WHERE status IN (?, ?) AND expiresAt IS NOT NULL AND expiresAt <= ?",
            arguments: [WarningStatus.pendingApproval.rawValue, WarningStatus.released.rawValue, Timestamp.string(date)])
        for id in ids {
            try Lifecycle(db: db).transition(id, to: .expired, actor: .scheduler, detail: [:], at: date)
        }
        return ids
    }
}
