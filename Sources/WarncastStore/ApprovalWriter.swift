import Foundation
import GRDB
import WarncastCore

/// Records one approval decision inside a write transaction: the ledger decides, this type
/// writes the decision, the resulting status change and their audit entries.
struct ApprovalWriter {
    let db: Database
    let routing: DeliveryRouting
    let planningStep: Int

    func decide(
        warningID: String, _ decision: Approval.Decision, by principal: Principal, reason: String?, at date: Date
    ) throws -> Decided {
        guard let record = try WarningRecord.fetchOne(db, key: warningID),
            let plan = record.approvalPlan,
            let status = WarningStatus(rawValue: record.status)
        else { throw StoreError.unknownWarning(warningID) }
        guard let issuer = try DepartmentRecord.fetchOne(db, key: record.departmentID)?.department else {
            throw StoreError.unknownDepartment(record.departmentID)
        }
        var ledger = ApprovalLedger(plan: plan, approvals: try ApprovalRecord.all(for: warningID, db))
        let facts = ApprovalLedger.Facts(
            status: status, expires: record.expiresAt?.date,
            submitterTokenID: record.submitterTokenID, submitterName: try record.warning().submitterName, issuer: issuer)
        let outcome = try ledger.decide(decision, by: principal, reason: reason, facts: facts, at: date)
        let approval = ledger.approvals.last!
        try ApprovalRecord(approval, warningID: warningID).insert(db)
        var detail = ["decision": decision.rawValue, "role": approval.role, "rule": plan.rule]
        detail["reason"] = approval.reason
        detail["missing"] = ledger.missing.map { "\($0.role)@\($0.scope.rawValue)×\($0.remaining)" }.joined(separator: " ")
        if status == .released { detail["review"] = "true" }
        try AuditLog.append(
            AuditEvent(actor: .principal(principal), action: .approvalRecorded, subject: warningID, detail: detail),
            at: date, in: db)
        let replaced = try apply(outcome, to: warningID, actor: .principal(principal), rule: plan.rule, at: date)
        let stored = try WarningRecord.fetchOne(db, key: warningID)!
        return Decided(warning: try stored.warning(approvals: ledger.approvals), outcome: outcome, replaced: replaced)
    }

    private func apply(_ outcome: ApprovalLedger.Outcome, to id: String, actor: AuditActor, rule: String, at date: Date) throws -> [String]
    {
        let lifecycle = Lifecycle(db: db, planningStep: planningStep)
        switch outcome {
        case .recorded:
            return []
        case .released:
            try db.execute(
                sql: "UPDATE warning SET awaiting = 0, decidedAt = ? WHERE id = ?",
                arguments: [Timestamp.string(date), id])
            return try lifecycle.release(id, actor: actor, reason: "every approval of rule '\(rule)' given", at: date, routing: routing)
        case .reviewed:
            try db.execute(
                sql: "UPDATE warning SET awaiting = 0, decidedAt = ? WHERE id = ?",
                arguments: [Timestamp.string(date), id])
            try AuditLog.append(
                AuditEvent(actor: actor, action: .warningReviewed, subject: id, detail: ["rule": rule]), at: date, in: db)
            return []
        case .rejected:
            try lifecycle.transition(id, to: .rejected, actor: actor, detail: ["rule": rule], at: date)
            return []
        }
    }
}
