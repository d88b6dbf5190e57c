import Foundation

/// The decisions on one warning so far, and the pure logic of taking the next one: the
/// two-person rule, scope checks, one vote per approver, and when the plan is complete.
/// It performs no I/O; the store runs it inside the transaction that records its result.
public struct ApprovalLedger: Sendable, Equatable {
    public var plan: ApprovalPlan
    public var approvals: [Approval]

    public init(plan: ApprovalPlan, approvals: [Approval] = []) {
        self.plan = plan
        self.approvals = approvals
    }

    /// What the warning's state is when a decision arrives.
    public struct Facts: Sendable {
        public var status: WarningStatus
        public var expires: Date?
        public var submitterTokenID: String?
        /// The holder's name on the submitting token: tokens with the same name are one person.
        public var submitterName: String?
        public var issuer: Department

        public init(status: WarningStatus, expires: Date?, submitterTokenID: String?, submitterName: String?, issuer: Department) {
            self.status = status
            self.expires = expires
            self.submitterTokenID = submitterTokenID
            self.submitterName = submitterName
            self.issuer = issuer
        }
    }

    /// What a decision did.
    public enum Outcome: Sendable, Equatable {
        /// Counted; approvals are still missing.
        case recorded
        /// The last missing approval: the warning is released now.
        case released
        /// The last missing review approval of a warning released at once.
        case reviewed
        case rejected
    }

    /// Requirements with approvals still missing, in plan order.
    public var missing: [MissingApproval] {
        plan.requirements.enumerated().compactMap { index, requirement in
            let given = approvals.filter { $0.decision == .approve && $0.requirement == index }.count
            let remaining = requirement.count - given
            return remaining > 0 ? MissingApproval(role: requirement.role, scope: requirement.scope, remaining: remaining) : nil
        }
    }

    public var isComplete: Bool { missing.isEmpty }

    /// Takes `decision` by `principal`, appending it to `approvals` when it counts.
    public mutating func decide(
        _ decision: Approval.Decision, by principal: Principal, reason: String?, facts: Facts, at now: Date
    ) throws(ApprovalError) -> Outcome {
        guard principal.role == .approver, let role = principal.approvalRole else { throw .notAnApprover }
        guard principal.tokenID != facts.submitterTokenID, principal.name != facts.submitterName else {
            throw .selfApproval
        }
        if let expires = facts.expires, expires <= now { throw .expired }
        try checkStatus(facts.status, decision: decision)
        // One person decides once, whichever of their tokens they use: each console sign-in
        // is a token of its own, so the holder's name counts as well as the token, as for
        // self-approval.
        guard !approvals.contains(where: { $0.tokenID == principal.tokenID || $0.name == principal.name }) else {
            throw .alreadyDecided
        }
        let eligible = try eligibleRequirements(for: principal, role: role, issuer: facts.issuer)
        let trimmedReason = reason?.trimmingCharacters(in: .whitespacesAndNewlines)
        var approval = Approval(
            tokenID: principal.tokenID, name: principal.name, role: role, requirement: eligible.first,
            decision: decision, reason: trimmedReason, at: Timestamp.string(now))
        if decision == .reject {
            guard let trimmedReason, !trimmedReason.isEmpty else { throw .reasonRequired }
            approvals.append(approval)
            return .rejected
        }
        guard let open = eligible.first(where: { stillMissing(requirement: $0) }) else {
            throw .nothingMissingForApprover
        }
        approval.requirement = open
        approvals.append(approval)
        guard isComplete else { return .recorded }
        return facts.status == .pendingApproval ? .released : .reviewed
    }

    private func checkStatus(_ status: WarningStatus, decision: Approval.Decision) throws(ApprovalError) {
        switch status {
        case .pendingApproval:
            return
        case .released where plan.release == .immediate && !isComplete && decision == .approve:
            return  // the review of a warning that went out at once
        case .expired:
            throw .expired
        default:
            throw .notPending(status)
        }
    }

    private func stillMissing(requirement index: Int) -> Bool {
        let given = approvals.filter { $0.decision == .approve && $0.requirement == index }.count
        return given < plan.requirements[index].count
    }

    /// Indices of the requirements `principal` may sign, or why it may sign none.
    private func eligibleRequirements(for principal: Principal, role: String, issuer: Department) throws(ApprovalError) -> [Int] {
        let sameRole = plan.requirements.indices.filter { plan.requirements[$0].role == role }
        guard !sameRole.isEmpty else {
            let wanted = Set(plan.requirements.map(\.role)).sorted().joined(separator: ", ")
            throw .outOfScope("rule '\(plan.rule)' needs approval from \(wanted), not \(role)")
        }
        var reasons: [String] = []
        var eligible: [Int] = []
        for index in sameRole {
            if let problem = Self.scopeProblem(principal, scope: plan.requirements[index].scope, issuer: issuer) {
                reasons.append(problem)
            } else {
                eligible.append(index)
            }
        }
        guard !eligible.isEmpty else { throw .outOfScope(reasons.joined(separator: "; ")) }
        return eligible
    }

    /// Why `principal` does not sit in `scope` relative to `issuer`, or `nil` if it does.
    public static func scopeProblem(_ principal: Principal, scope: ApprovalScope, issuer: Department) -> String? {
        switch scope {
        case .department:
            guard principal.department?.id == issuer.id else {
                return "a department approval must come from \(issuer.id) itself"
            }
        case .government:
            guard principal.department == nil, principal.region == issuer.region else {
                return "a government approval must come from the government of \(issuer.region) (a region token, no department)"
            }
        case .above:
            guard principal.department == nil, let above = issuer.tier.above, principal.region.tier == above,
                principal.region.contains(issuer.region)
            else {
                return
                    "an approval from the tier above must come from the government of the \(issuer.tier.above?.rawValue ?? "tier") containing \(issuer.region)"
            }
        }
        return nil
    }
}
