import Foundation

/// The approval a particular warning needs, fixed when it is accepted: the rule that
/// matched, what it asks for, and by when.
public struct ApprovalPlan: Sendable, Codable, Equatable {
    public var rule: String
    public var requirements: [ApprovalRequirement]
    public var release: ReleaseMode
    /// Approval (or review, for immediate release) must be complete by then.
    public var deadline: Date?

    /// A plan that asks for nothing and releases at once: a warning an upper-tier node
    /// handed down, which this node's configuration takes as approved there.
    public static func preApproved(by upstream: String) -> ApprovalPlan {
        ApprovalPlan(rule: "upstream:\(upstream)", requirements: [], release: .immediate, deadline: nil)
    }

    public init(rule: String, requirements: [ApprovalRequirement], release: ReleaseMode, deadline: Date?) {
        self.rule = rule
        self.requirements = requirements
        self.release = release
        self.deadline = deadline
    }

    public init(rule: ApprovalRule, submittedAt: Date) {
        self.rule = rule.name
        requirements = rule.requirements
        release = rule.release
        deadline = rule.deadline.map { submittedAt.addingTimeInterval($0) }
    }
}

/// One approver's decision on a warning.
public struct Approval: Sendable, Codable, Equatable {
    public enum Decision: String, Sendable, Codable {
        case approve, reject
    }

    public var tokenID: String
    public var name: String
    public var role: String
    /// Which requirement of the plan this approval counts towards (approvals only).
    public var requirement: Int?
    public var decision: Decision
    public var reason: String?
    public var at: String

    public init(
        tokenID: String, name: String, role: String, requirement: Int?, decision: Decision, reason: String?, at: String
    ) {
        self.tokenID = tokenID
        self.name = name
        self.role = role
        self.requirement = requirement
        self.decision = decision
        self.reason = reason
        self.at = at
    }
}

/// A requirement and how many more approvals it still needs.
public struct MissingApproval: Sendable, Codable, Equatable {
    public var role: String
    public var scope: ApprovalScope
    public var remaining: Int

    public init(role: String, scope: ApprovalScope, remaining: Int) {
        self.role = role
        self.scope = scope
        self.remaining = remaining
    }
}
