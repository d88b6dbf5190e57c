import Foundation
import GRDB
import WarncastCore

/// The checks and writes of accepting one warning, run inside a single write transaction so
/// that the warning, its areas and its audit entries commit together or not at all.
struct WarningWriter {
    let db: Database
    let routing: DeliveryRouting
    let planningStep: Int

    func accept(_ draft: WarningDraft, plan: ApprovalPlan, by principal: Principal, at date: Date) throws -> Acceptance {
        if let existing = try WarningRecord.find(sender: draft.sender, identifier: draft.identifier, db) {
            guard existing.fingerprint == draft.fingerprint else {
                throw IntakeError.identifierConflict(draft.identifier)
            }
            return .duplicate(try existing.warning(approvals: ApprovalRecord.all(for: existing.id, db)))
        }
        try checkRegions(draft.areas)
        try checkReferences(draft)
        let immediate = plan.release == .immediate
        let warning = Warning(
            id: Warning.ID(rawValue: UUID().uuidString.lowercased()), status: immediate ? .released : .pendingApproval, draft: draft,
            submittedBy: principal, receivedAt: date)
        let record = try WarningRecord(warning, raw: draft.raw, plan: plan)
        try record.insert(db)
        let statement = try db.makeStatement(sql: "INSERT INTO warningArea (warningID, code, prefix) VALUES (?, ?, ?)")
        for area in draft.areas {
            try statement.execute(arguments: [warning.id, area.rawValue, String(area.prefix)])
        }
        var detail = [
            "identifier": draft.identifier, "sender": draft.sender, "msgType": draft.messageType.rawValue,
            "level": draft.level.rawValue, "event": draft.event, "department": draft.departmentID,
            "areas": draft.areas.map(\.rawValue).joined(separator: " "), "fingerprint": draft.fingerprint,
            "rule": plan.rule,
        ]
        detail["deadline"] = plan.deadline.map(Timestamp.string)
        try AuditLog.append(
            AuditEvent(actor: .principal(principal), action: .warningAccepted, subject: warning.id.rawValue, detail: detail),
            at: date, in: db)
        guard immediate else {
            // Nothing changed the row since it was written: the answer is built from the
            // record in memory rather than read back and decoded (a tenth of an intake's cost).
            var accepted = warning
            accepted.approval = ApprovalState(
                plan: plan, approvals: [], awaiting: record.awaiting, late: record.late, escalations: record.escalationCount,
                lastEscalatedAt: record.lastEscalatedAt, releasedAt: record.releasedAt, decidedAt: record.decidedAt)
            return .created(accepted)
        }
        try Lifecycle(db: db, planningStep: planningStep).release(
            warning.id.rawValue, actor: .principal(principal), reason: "rule '\(plan.rule)' releases at once", at: date,
            routing: routing)
        let stored = try WarningRecord.find(id: warning.id.rawValue, db)!
        return .created(try stored.warning(approvals: []))
    }

    private func checkRegions(_ codes: [RegionCode]) throws {
        let unknown = try codes.filter { try !SQLiteStore.regionExists($0, db) }
        if !unknown.isEmpty { throw IntakeError.unknownRegion(unknown.map(\.rawValue)) }
    }

    private func checkReferences(_ draft: WarningDraft) throws {
        for reference in draft.references {
            guard let earlier = try WarningRecord.find(sender: reference.sender, identifier: reference.identifier, db) else {
                // An upper node's Update may widen a warning to areas it never sent here: this
                // node never had the warning it replaces, and takes the Update as news.
                if draft.upstreamPath != nil, draft.messageType == .update { continue }
                throw IntakeError.unknownReference(reference.description)
            }
            guard earlier.departmentID == draft.departmentID else {
                throw IntakeError.referenceNotOwned(reference.description)
            }
        }
    }
}
