import Foundation

/// Where an approver must sit relative to the issuing department.
public enum ApprovalScope: String, Sendable, Codable, CaseIterable {
    /// The issuing department itself (its duty leader, 值班领导).
    case department
    /// The government of the issuer's own tier and region (分管领导签发).
    case government
    /// The government of the tier above, whose region contains the issuer's.
    case above
}

/// One sign-off a rule asks for: `count` different approvers holding `role` within `scope`.
public struct ApprovalRequirement: Sendable, Codable, Equatable {
    /// Approval role, e.g. `duty-leader` or `government-leader`; approver tokens carry one.
    public var role: String
    public var scope: ApprovalScope
    public var count: Int

    public init(role: String, scope: ApprovalScope, count: Int = 1) {
        self.role = role
        self.scope = scope
        self.count = count
    }
}

/// When a warning may reach the public.
public enum ReleaseMode: String, Sendable, Codable {
    /// Only once every requirement is met.
    case afterApproval = "after-approval"
    /// At once ("publish first, review after"); the requirements are then a review that must
    /// be complete within the rule's review time, or the warning is recorded as reviewed late.
    case immediate
}

/// What a rule looks at. Every condition that is set must hold; an empty rule matches all.
public struct ApprovalMatch: Sendable, Codable, Equatable {
    public var levels: Set<Level>?
    public var events: Set<String>?
    /// Tier of the issuing department.
    public var tiers: Set<Tier>?
    /// Kind of the issuing department.
    public var kinds: Set<String>?
    public var messageTypes: Set<MessageType>?
    /// `true`: only Updates that raise the level or widen the area; `false`: only those that do not.
    public var escalates: Bool?

    public init(
        levels: Set<Level>? = nil, events: Set<String>? = nil, tiers: Set<Tier>? = nil, kinds: Set<String>? = nil,
        messageTypes: Set<MessageType>? = nil, escalates: Bool? = nil
    ) {
        self.levels = levels
        self.events = events
        self.tiers = tiers
        self.kinds = kinds
        self.messageTypes = messageTypes
        self.escalates = escalates
    }

    public func matches(_ subject: ApprovalSubject) -> Bool {
        (levels?.contains(subject.level) ?? true)
            && (events?.contains(subject.event) ?? true)
            && (tiers?.contains(subject.tier) ?? true)
            && (kinds?.contains(subject.kind) ?? true)
            && (messageTypes?.contains(subject.messageType) ?? true)
            && (escalates.map { $0 == subject.escalates } ?? true)
    }
}

/// The facts about a submission that approval rules are matched on.
public struct ApprovalSubject: Sendable, Equatable {
    public var level: Level
    public var event: String
    public var tier: Tier
    public var kind: String
    public var messageType: MessageType
    /// An Update that raises the level or widens the area of the message it replaces.
    public var escalates: Bool

    public init(level: Level, event: String, tier: Tier, kind: String, messageType: MessageType, escalates: Bool) {
        self.level = level
        self.event = event
        self.tier = tier
        self.kind = kind
        self.messageType = messageType
        self.escalates = escalates
    }

    /// The subject of `draft` from `department`; `replaced` are the warnings its references
    /// name. An Update is judged against those of them in force at `now` (released, not
    /// expired): it escalates when it is higher than all of them or reaches beyond their
    /// areas together, and when none is in force (it names a rejected, pending or expired
    /// warning) it is a new warning and escalates, so that it meets the rules in full.
    public init(draft: WarningDraft, department: Department, replaced: [Warning], at now: Date) {
        var escalates = false
        if draft.messageType == .update {
            let inForce = replaced.filter { $0.status == .released && ($0.expires?.date).map { $0 > now } != false }
            if let highest = inForce.map(\.level).max() {
                let areas = inForce.flatMap(\.areas)
                let widens = draft.areas.contains { area in !areas.contains { area.isWithin($0) } }
                escalates = draft.level > highest || widens
            } else {
                escalates = true
            }
        }
        self.init(
            level: draft.level, event: draft.event, tier: department.tier, kind: department.kind,
            messageType: draft.messageType, escalates: escalates)
    }
}

extension ApprovalSubject: CustomStringConvertible {
    public var description: String {
        "a \(level.rawValue) \(event) \(messageType.rawValue) from a \(tier.rawValue) \(kind) department"
            + (escalates ? " that raises or widens the warning it replaces" : "")
    }
}

/// A named approval rule from the configuration.
public struct ApprovalRule: Sendable, Codable, Equatable {
    public var name: String
    public var match: ApprovalMatch
    public var requirements: [ApprovalRequirement]
    public var release: ReleaseMode
    /// Seconds from submission within which approval (or, for immediate release, the review)
    /// must be complete; past it the warning is late and escalated.
    public var deadline: TimeInterval?

    public init(
        name: String, match: ApprovalMatch, requirements: [ApprovalRequirement],
        release: ReleaseMode = .afterApproval, deadline: TimeInterval? = nil
    ) {
        self.name = name
        self.match = match
        self.requirements = requirements
        self.release = release
        self.deadline = deadline
    }
}

/// The ordered rules; the first that matches applies.
public struct ApprovalRuleSet: Sendable, Equatable {
    public var rules: [ApprovalRule]

    public init(_ rules: [ApprovalRule]) {
        self.rules = rules
    }

    public func rule(for subject: ApprovalSubject) -> ApprovalRule? {
        rules.first { $0.match.matches(subject) }
    }
}
