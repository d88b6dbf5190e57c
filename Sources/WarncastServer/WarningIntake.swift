import Foundation
import Logging
import WarncastCore
import WarncastStore

/// Takes a submission from bytes to a stored warning: read the CAP, check it against the
/// principal's rights, store it. Every refusal is counted and written to the audit log.
public struct WarningIntake: Sendable {
    let store: any Store
    let check: IntakeCheck
    let rules: ApprovalRuleSet
    let releases: ReleaseAnnouncer
    let metrics: ServerMetrics
    let now: @Sendable () -> Date
    /// Which channels a warning released at intake is planned on.
    let routing: DeliveryRouting
    let refusals: AnonymousRefusals

    init(
        store: any Store, check: IntakeCheck, rules: ApprovalRuleSet, releases: ReleaseAnnouncer,
        metrics: ServerMetrics, now: @escaping @Sendable () -> Date, routing: DeliveryRouting, refusals: AnonymousRefusals
    ) {
        self.refusals = refusals
        self.routing = routing
        self.store = store
        self.check = check
        self.rules = rules
        self.releases = releases
        self.metrics = metrics
        self.now = now
    }

    /// How a warning from an upper-tier node came: the nodes it passed, and whether it
    /// arrives approved.
    public struct HandedDown: Sendable {
        public var path: [String]
        public var preApproved: Bool
    }

    /// Accepts `body` from `principal`, or throws the `IntakeError` that refused it.
    public func submit(
        _ body: Data, contentType: String, principal: Principal, logger: Logger, handedDown: HandedDown? = nil
    ) async throws -> Acceptance {
        var identifier: String?
        do {
            var draft = try checked(body, contentType: contentType, principal: principal, identifier: &identifier)
            draft.upstreamPath = handedDown?.path
            let plan =
                handedDown?.preApproved == true
                ? ApprovalPlan.preApproved(by: principal.name) : try await approvalPlan(for: draft, principal: principal)
            let acceptance = try await store.accept(draft, plan: plan, by: principal, at: now(), routing: routing)
            if case .created(let warning) = acceptance, warning.status == .released {
                await releases.announce(warning)
            }
            metrics.countSubmission(result: isDuplicate(acceptance) ? "duplicate" : "accepted")
            logger.info(
                "warning accepted",
                metadata: [
                    "warning": .string(acceptance.warning.id.rawValue), "identifier": .string(draft.identifier),
                    "duplicate": .stringConvertible(isDuplicate(acceptance)),
                ])
            return acceptance
        } catch let error as IntakeError {
            try await refuse(error, identifier: identifier, principal: principal, logger: logger)
            throw error
        }
    }

    /// Records a submission refused before or during intake, e.g. for its size.
    public func refuse(_ error: IntakeError, identifier: String?, principal: Principal?, logger: Logger) async throws {
        metrics.countSubmission(result: "refused", reason: error.code)
        logger.notice(
            "warning refused",
            metadata: [
                "reason": .string(error.code), "identifier": .string(identifier ?? "-"),
            ])
        var detail = ["reason": error.code, "detail": error.detail]
        detail["identifier"] = identifier
        guard let principal else {
            try await refusals.record(AuditEvent(actor: .anonymous, action: .warningRefused, subject: identifier ?? "-", detail: detail))
            return
        }
        try await store.appendAudit(
            AuditEvent(actor: .principal(principal), action: .warningRefused, subject: identifier ?? "-", detail: detail), at: now())
    }

    /// Checks `body` as `submit` would, up to the approval rule, and stores nothing: the
    /// warning as it would be accepted (status pending approval), or the `IntakeError` that
    /// would refuse it. Refusals are not audited; nothing was submitted.
    public func preview(_ body: Data, contentType: String, principal: Principal) async throws -> Warning {
        var identifier: String?
        let draft = try checked(body, contentType: contentType, principal: principal, identifier: &identifier)
        _ = try await approvalPlan(for: draft, principal: principal)
        return Warning(
            id: Warning.ID(rawValue: "preview"), status: .pendingApproval, draft: draft, submittedBy: principal, receivedAt: now())
    }

    /// `body` read and checked as from `principal`; `identifier` is set as soon as the
    /// message has one, for the record of a refusal.
    private func checked(_ body: Data, contentType: String, principal: Principal, identifier: inout String?) throws -> WarningDraft {
        // Who may submit is settled before a byte of the body is interpreted.
        guard principal.role == .issuer, principal.department != nil else {
            throw IntakeError.notAnIssuer("only an issuer token of a department may submit warnings")
        }
        let format = try CAPFormat(contentType: contentType)
        let alert = try CAPReader.read(body, format: format)
        identifier = alert.identifier
        return try check.check(alert, raw: body, format: format, principal: principal, now: now())
    }

    /// The plan of the first rule matching the submission. An Update is matched with the
    /// facts of its new level and area, and whether it raises or widens the one it replaces.
    private func approvalPlan(for draft: WarningDraft, principal: Principal) async throws -> ApprovalPlan {
        guard let department = principal.department else { throw IntakeError.notAnIssuer("no department") }
        var replaced: [Warning] = []
        for reference in draft.references {
            if let warning = try await store.warning(sender: reference.sender, identifier: reference.identifier) {
                replaced.append(warning)
            }
        }
        let subject = ApprovalSubject(draft: draft, department: department, replaced: replaced, at: now())
        guard let rule = rules.rule(for: subject) else { throw IntakeError.noApprovalRule(subject.description) }
        return ApprovalPlan(rule: rule, submittedAt: now())
    }

    private func isDuplicate(_ acceptance: Acceptance) -> Bool {
        if case .duplicate = acceptance { return true }
        return false
    }
}
