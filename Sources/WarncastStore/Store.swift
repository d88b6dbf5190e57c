import Foundation
import WarncastCore

/// Everything Warncast keeps. One implementation today (`SQLiteStore`); a PostgreSQL store
/// for several daemons sharing one queue can sit behind the same protocol later.
///
/// Every method that changes something is one transaction, and its audit entry commits in
/// that same transaction.
public protocol Store: Sendable {
    // Regions
    func importRegions(_ regions: [Region], audit: AuditEvent) async throws -> Int
    func region(_ code: RegionCode) async throws -> Region?
    func regionCount() async throws -> Int

    // Departments
    func saveDepartments(_ departments: [Department], audit: AuditEvent) async throws
    func department(id: String) async throws -> Department?
    func departments() async throws -> [Department]

    // Tokens
    func createToken(_ grant: TokenGrant, secretHash: String, audit: AuditEvent) async throws
    func revokeToken(id: String, audit: AuditEvent) async throws -> Bool
    func tokens() async throws -> [TokenGrant]
    /// The principal whose live token hashes to `secretHash`.
    func principal(secretHash: String) async throws -> Principal?

    // Warnings
    /// Stores an accepted warning under its approval plan (released at once if the plan says
    /// so), or finds the identical one accepted before. Throws `IntakeError` for unknown
    /// regions or references and identifier conflicts.
    func accept(_ draft: WarningDraft, plan: ApprovalPlan, by principal: Principal, at: Date) async throws -> Acceptance
    /// A warning with its approval state.
    func warning(id: String) async throws -> Warning?
    /// The warning with this CAP sender and identifier.
    func warning(sender: String, identifier: String) async throws -> Warning?
    /// The message exactly as it was received, with its format.
    func rawMessage(id: String) async throws -> (data: Data, format: CAPFormat)?
    func warnings(_ query: WarningQuery) async throws -> [Warning]
    /// Released warnings not yet expired, cancelled or superseded, newest first: the public view.
    func activeWarnings(at: Date) async throws -> [Warning]

    // Approval
    /// Records an approval or rejection, decided by `ApprovalLedger` inside one transaction
    /// with its effects (release, supersession, cancellation) and audit entries.
    /// Throws `ApprovalError`, or `StoreError.unknownWarning`.
    func decide(
        warningID: String, _ decision: Approval.Decision, by principal: Principal, reason: String?, at: Date
    ) async throws -> Decided
    /// Marks overdue undecided warnings late and escalates each one again every `repeatEvery`
    /// seconds; returns the escalations made now.
    func escalateOverdue(at: Date, repeatEvery: TimeInterval, contacts: [String]) async throws -> [Escalation]
    /// Marks warnings past their `expires` as expired; returns their ids.
    func expireWarnings(at: Date) async throws -> [String]
    /// The audit entries about one subject (a warning's history), oldest first.
    func auditEntries(subject: String) async throws -> [AuditEntry]

    // Recipients and deliveries
    /// Adds or replaces recipients; `secretHash` is the SHA-256 of the secret a recipient
    /// acknowledges with, if any.
    func saveRecipients(_ recipients: [(recipient: Recipient, secretHash: String?)], audit: AuditEvent) async throws
    func recipients(channel: String?, within region: RegionCode?, limit: Int) async throws -> [Recipient]
    func recipientCount() async throws -> Int
    /// Leases due deliveries of a channel to a dispatcher until `leaseFor` from now.
    func leaseDeliveries(channel: String, limit: Int, at: Date, leaseFor: TimeInterval) async throws -> [DeliveryJob]
    /// Records a batch of attempts in one transaction.
    func recordAttempts(_ results: [AttemptResult]) async throws
    /// Expires deliveries of expired warnings; returns how many.
    func expireDeliveries(at: Date) async throws -> Int
    /// Marks the delivery with `idempotencyKey` delivered, if `secretHash` is its recipient's.
    func acknowledge(idempotencyKey: String, secretHash: String, at: Date) async throws -> AckResult
    /// For each channel and division (the recipient's region, usually a village) of the
    /// warning's deliveries, when the first of them was delivered (nil: none yet).
    func reaches(warningID: String) async throws -> [WarningTimeline.Reach]
    /// Delivered deliveries of `warningID` on `channels` with the id the receiver gave them
    /// (for lower-tier nodes: their id of the warning).
    func deliveryReferences(warningID: String, channels: Set<String>) async throws -> [DeliveryReference]
    /// The gateways' reports on a warning's deliveries, oldest first, at most `limit`.
    func reports(warningID: String, limit: Int) async throws -> [StoredReport]
    /// A gateway's delivery report (SMS DLR, carrier callback), already authenticated.
    func report(_ report: DeliveryReport) async throws -> ReportResult
    func deliveries(warningID: String, state: DeliveryState?, limit: Int) async throws -> [DeliveryView]
    func deliverySummary(warningID: String) async throws -> [DeliveryState: Int]
    /// Deliveries counted per division at every tier down to `depth`, with times to deliver.
    func rollup(warningID: String, depth: Tier) async throws -> WarningRollup
    /// Deliveries that did not (or not yet) reach their recipient: the blind spots.
    func undelivered(warningID: String, limit: Int) async throws -> [DeliveryView]

    /// A page of deliveries planned in `[since, until)` to recipients within `region`, after
    /// delivery `id`, by id.
    func exportDeliveries(since: Date, until: Date, within region: RegionCode, after id: Int64, limit: Int) async throws -> [DeliveryExportRow]
    /// A page of audit entries recorded in `[since, until)`, after `sequence`.
    func exportAudit(since: Date, until: Date, after sequence: Int64, limit: Int) async throws -> [AuditEntry]

    /// Deletes attempts and gateway reports recorded before `cutoff` (retention); returns
    /// how many of each. Warnings, deliveries and the audit log are never deleted.
    func prune(before cutoff: Date, actor: String, at: Date) async throws -> (attempts: Int, receipts: Int)

    // Audit log
    func appendAudit(_ event: AuditEvent, at: Date) async throws
    func auditEntries(from sequence: Int64, limit: Int) async throws -> [AuditEntry]
    func verifyAudit() async throws -> AuditVerification
    /// Walks the receipts' seal chain and checks every finished delivery against it.
    func verifyReceipts() async throws -> SealVerification

    /// Whether the store answers; for `/healthz`.
    func ping() async throws
}

/// What happened to a submission.
public enum Acceptance: Sendable {
    /// Stored now.
    case created(Warning)
    /// The identical message was accepted before; nothing new was stored.
    case duplicate(Warning)

    public var warning: Warning {
        switch self {
        case .created(let warning), .duplicate(let warning): warning
        }
    }
}

/// What an acknowledgement came to.
public enum AckResult: Sendable, Equatable {
    case delivered
    /// It was acknowledged before; nothing changed.
    case alreadyDelivered
    /// No delivery with that key, or the secret is not its recipient's.
    case forged
}

/// One delivery in an export, with its warning.
public struct DeliveryExportRow: Sendable, Codable, Equatable {
    public var warning: String
    public var identifier: String
    public var delivery: DeliveryView

    public init(warning: String, identifier: String, delivery: DeliveryView) {
        self.warning = warning
        self.identifier = identifier
        self.delivery = delivery
    }
}

/// A delivered delivery and the receiver's id for what it received.
public struct DeliveryReference: Sendable, Equatable {
    public var deliveryID: Int64
    public var recipientID: String
    public var recipientName: String
    public var address: String
    public var reference: String

    public init(deliveryID: Int64, recipientID: String, recipientName: String, address: String, reference: String) {
        self.deliveryID = deliveryID
        self.recipientID = recipientID
        self.recipientName = recipientName
        self.address = address
        self.reference = reference
    }
}

/// A gateway's report as kept: which delivery (and recipient), when, from whom, what it said.
public struct StoredReport: Sendable, Codable, Equatable {
    public var delivery: Int64
    public var recipient: String
    public var at: String
    public var source: String
    public var state: String
    public var detail: String?

    public init(delivery: Int64, recipient: String, at: String, source: String, state: String, detail: String?) {
        self.delivery = delivery
        self.recipient = recipient
        self.at = at
        self.source = source
        self.state = state
        self.detail = detail
    }
}

/// A gateway's word on one delivery.
public struct DeliveryReport: Sendable, Equatable {
    public var deliveryID: Int64
    /// `accepted`, `delivered` or `failed`; anything else is recorded but changes nothing.
    public var state: DeliveryState
    /// The gateway's reason or status text.
    public var detail: String?
    /// Who reported: `kannel`, `carrier` …
    public var source: String
    public var at: Date

    public init(deliveryID: Int64, state: DeliveryState, detail: String?, source: String, at: Date) {
        self.deliveryID = deliveryID
        self.state = state
        self.detail = detail
        self.source = source
        self.at = at
    }
}

public enum ReportResult: Sendable, Equatable {
    /// The delivery moved to this state.
    case applied(DeliveryState)
    /// Recorded; the delivery stays as it was (e.g. already delivered).
    case unchanged(DeliveryState)
    case unknownDelivery
}

/// The result of a recorded decision.
public struct Decided: Sendable {
    public var warning: Warning
    public var outcome: ApprovalLedger.Outcome
    /// Earlier warnings this one superseded or cancelled on release.
    public var replaced: [String]
}

/// A token as the store lists it: everything except the secret.
public struct TokenGrant: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var role: Role
    public var departmentID: String?
    public var region: RegionCode
    public var createdAt: String
    public var revokedAt: String?
    /// For approvers: the approval role, e.g. `duty-leader`.
    public var approvalRole: String?

    public init(
        id: String, name: String, role: Role, departmentID: String?, region: RegionCode,
        createdAt: String, revokedAt: String? = nil, approvalRole: String? = nil
    ) {
        self.approvalRole = approvalRole
        self.id = id
        self.name = name
        self.role = role
        self.departmentID = departmentID
        self.region = region
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// Failures of the store that a caller can act on.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownDepartment(String)
    case unknownRegion(String)
    case unknownWarning(String)
    case cannotOpen(path: String, reason: String)

    public var description: String {
        switch self {
        case .unknownDepartment(let id): "no department '\(id)'"
        case .unknownRegion(let code): "no region \(code) in the registry"
        case .unknownWarning(let id): "no warning '\(id)'"
        case .cannotOpen(let path, let reason): "cannot open the store at \(path): \(reason)"
        }
    }
}
