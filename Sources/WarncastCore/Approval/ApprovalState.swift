import Foundation

/// Where a warning stands in its approval, as the API shows it.
public struct ApprovalState: Sendable, Codable, Equatable {
    /// The rule that applies.
    public var rule: String
    public var release: ReleaseMode
    /// Approval (or, for immediate release, the review) is due by then.
    public var deadline: Timestamp?
    /// Still waiting for approvals (or the review).
    public var awaiting: Bool
    /// The deadline passed before the decision.
    public var late: Bool
    public var escalations: Int
    public var lastEscalatedAt: Timestamp?
    public var releasedAt: Timestamp?
    /// When it was released after approval, rejected, or its review completed.
    public var decidedAt: Timestamp?
    public var approvals: [Approval]
    public var missing: [MissingApproval]

    public init(
        plan: ApprovalPlan, approvals: [Approval], awaiting: Bool, late: Bool, escalations: Int,
        lastEscalatedAt: Timestamp?, releasedAt: Timestamp?, decidedAt: Timestamp?
    ) {
        rule = plan.rule
        release = plan.release
        deadline = plan.deadline.map(Timestamp.init)
        self.awaiting = awaiting
        self.late = late
        self.escalations = escalations
        self.lastEscalatedAt = lastEscalatedAt
        self.releasedAt = releasedAt
        self.decidedAt = decidedAt
        self.approvals = approvals
        missing = ApprovalLedger(plan: plan, approvals: approvals).missing
    }
}

/// An overdue warning escalated to the duty contacts.
public struct Escalation: Sendable, Codable, Equatable {
    public var warningID: String
    /// 1 for the first escalation of this warning, then 2, 3, … while it stays undecided.
    public var number: Int
    public var at: Timestamp
    public var deadline: Timestamp
    public var headline: String?
    public var level: Level
    public var rule: String
    public var missing: [MissingApproval]
    public var contacts: [String]

    public init(
        warningID: String, number: Int, at: Timestamp, deadline: Timestamp, headline: String?, level: Level, rule: String,
        missing: [MissingApproval], contacts: [String]
    ) {
        self.warningID = warningID
        self.number = number
        self.at = at
        self.deadline = deadline
        self.headline = headline
        self.level = level
        self.rule = rule
        self.missing = missing
        self.contacts = contacts
    }
}

/// Subscribes to warnings reaching the public. The dispatch engine is one; approval ends in
/// exactly one call to `warningReleased` per released warning.
public protocol ReleaseSubscriber: Sendable {
    func warningReleased(_ warning: Warning) async
}

/// Tells people that a warning is overdue. Channel adapters will implement this; until then
/// the daemon logs it (and the store always records it in the audit log).
public protocol EscalationNotifier: Sendable {
    func notify(_ escalation: Escalation) async
}
