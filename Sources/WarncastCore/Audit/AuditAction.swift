/// What an audit entry records. The names are stable: auditors filter and export by them,
/// and entries already chained keep theirs.
public struct AuditAction: Hashable, Sendable, CustomStringConvertible {
    public let name: String

    public init(name: String) {
        self.name = name
    }

    public var description: String { name }

    // Intake and approval
    public static let warningAccepted = AuditAction(name: "warning.accepted")
    public static let warningRefused = AuditAction(name: "warning.refused")
    public static let warningReleased = AuditAction(name: "warning.released")
    public static let warningReviewed = AuditAction(name: "warning.reviewed")
    public static let warningLate = AuditAction(name: "warning.late")
    public static let warningEscalated = AuditAction(name: "warning.escalated")
    public static let approvalRecorded = AuditAction(name: "approval.recorded")
    /// A warning moved to `status` (`warning.rejected`, `warning.expired`, `warning.superseded` …).
    public static func warning(_ status: WarningStatus) -> AuditAction { AuditAction(name: "warning.\(status.rawValue)") }

    // Deliveries
    public static let deliveriesPlanned = AuditAction(name: "deliveries.planned")
    public static let deliveriesSuperseded = AuditAction(name: "deliveries.superseded")
    /// An operator queued failed or expired deliveries again.
    public static let deliveriesResent = AuditAction(name: "deliveries.resent")
    /// Channels a warning's `BLOCKCHANNEL` parameters kept it off.
    public static let channelsBlocked = AuditAction(name: "channels.blocked")
    /// The terminals of a warning's area as it was released: how many were online, and the
    /// divisions where none was.
    public static let terminalsAtRelease = AuditAction(name: "terminals.at_release")
    /// A notice to a duty contact (a gateway down, deliveries given up, an approval overdue).
    public static let noticeSent = AuditAction(name: "notice.sent")
    public static let noticeFailed = AuditAction(name: "notice.failed")
    public static let receiptForged = AuditAction(name: "receipt.forged")
    /// Anonymous refusals beyond the per-minute limit, counted in one entry.
    public static let refusalsSuppressed = AuditAction(name: "refusals.suppressed")

    // Cascade
    public static let cascadeLoop = AuditAction(name: "cascade.loop")
    public static let cascadeRefused = AuditAction(name: "cascade.refused")
    public static let cascadeUpstreamLoaded = AuditAction(name: "cascade.upstream.loaded")

    // Registries, keys, tokens, configuration
    public static let regionsImported = AuditAction(name: "regions.imported")
    public static let departmentsImported = AuditAction(name: "departments.imported")
    public static let departmentSaved = AuditAction(name: "department.saved")
    public static let recipientsImported = AuditAction(name: "recipients.imported")
    public static let recipientsSaved = AuditAction(name: "recipients.saved")
    /// A recipient new to the registry, added by an operator (API or CLI): where it is and
    /// what its address is.
    public static let recipientAdded = AuditAction(name: "recipient.added")
    /// An existing recipient changed: what it was and what it became.
    public static let recipientChanged = AuditAction(name: "recipient.changed")
    /// A recipient taken out of planning; its past deliveries stay.
    public static let recipientRemoved = AuditAction(name: "recipient.removed")
    public static let keysGenerated = AuditAction(name: "keys.generated")
    public static let keysRotated = AuditAction(name: "keys.rotated")
    public static let tokenCreated = AuditAction(name: "token.created")
    public static let tokenRevoked = AuditAction(name: "token.revoked")
    /// A console account added or changed (a new password, a new grant).
    public static let userSaved = AuditAction(name: "user.saved")
    public static let userRemoved = AuditAction(name: "user.removed")
    /// A console sign-in: a session opened, or a wrong password (`result` says which).
    public static let userSignedIn = AuditAction(name: "user.signed_in")
    public static let userSignInRefused = AuditAction(name: "user.sign_in_refused")
    public static let userSignedOut = AuditAction(name: "user.signed_out")
    public static let configLoaded = AuditAction(name: "config.loaded")

    // Auditing and retention
    public static let retentionPruned = AuditAction(name: "retention.pruned")
    /// An export of `kind` (`export.audit`, `export.deliveries`).
    public static func export(_ kind: String) -> AuditAction { AuditAction(name: "export.\(kind)") }
}

/// Who an audit entry says acted: a token's holder, the CLI's user, an upper node, a part
/// of the daemon, or nobody known.
public struct AuditActor: Hashable, Sendable, CustomStringConvertible {
    public let name: String

    public init(name: String) {
        self.name = name
    }

    public var description: String { name }

    /// A caller without valid credentials.
    public static let anonymous = AuditActor(name: "anonymous")
    /// The daemon planning and superseding deliveries.
    public static let planner = AuditActor(name: "system:planner")
    public static let notifier = AuditActor(name: "system:notifier")
    /// The daemon's approval timers and expiry.
    public static let scheduler = AuditActor(name: "system:scheduler")
    public static let retention = AuditActor(name: "system:retention")
    /// The daemon at start-up.
    public static let daemon = AuditActor(name: "system:warncastd")

    /// The holder of a token: its id, name and role.
    public static func principal(_ principal: Principal) -> AuditActor { AuditActor(name: principal.auditName) }
    /// An operator at the CLI, by login.
    public static func cli(user: String) -> AuditActor { AuditActor(name: "cli:\(user)") }
    /// An upper-tier node, by its configured name.
    public static func upstream(_ name: String) -> AuditActor { AuditActor(name: "upstream:\(name)") }
}
