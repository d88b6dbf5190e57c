import Foundation
import WarncastCore

/// Warnings from intake to release: accepting, approving, the approval timers, expiry.
public protocol WarningStore: Sendable {
    /// Stores an accepted warning under its approval plan (released at once if the plan says
    /// so, its deliveries planned by `routing`), or finds the identical one accepted before.
    /// Throws `IntakeError` for unknown regions or references and identifier conflicts.
    func accept(
        _ draft: WarningDraft, plan: ApprovalPlan, by principal: Principal, at: Date, routing: DeliveryRouting
    ) async throws -> Acceptance
    /// A warning with its approval state.
    func warning(id: Warning.ID) async throws -> Warning?
    /// The warning with this CAP sender and identifier.
    func warning(sender: String, identifier: String) async throws -> Warning?
    /// The message exactly as it was received, with its format.
    func rawMessage(id: Warning.ID) async throws -> (data: Data, format: CAPFormat)?
    func warnings(_ query: WarningQuery) async throws -> [Warning]
    /// Every message released since `since` (Alert, Update and Cancel, whatever became of
    /// it since), unless its `expires` is before `since`; newest release first, at most 2,000.
    /// What the public feeds choose their entries from.
    func releasedMessages(since: Date) async throws -> [Warning]
    /// What changes whenever `releasedMessages(since:)` could answer differently: a message
    /// released, updated or cancelled, or one leaving the window. Read without decoding a
    /// message, so the public channel can keep what it decoded until the mark moves.
    func releasedMessagesMark(since: Date) async throws -> ReleasedMessagesMark
    /// Records an approval or rejection, decided by `ApprovalLedger` inside one transaction
    /// with its effects (release with deliveries planned by `routing`, supersession,
    /// cancellation) and audit entries. Throws `ApprovalError`, or `StoreError.unknownWarning`.
    func decide(
        warningID: Warning.ID, _ decision: Approval.Decision, by principal: Principal, reason: String?, at: Date,
        routing: DeliveryRouting
    ) async throws -> Decided
    /// Marks overdue undecided warnings late and escalates each one again every `repeatEvery`
    /// seconds; returns the escalations made now.
    func escalateOverdue(at: Date, repeatEvery: TimeInterval, contacts: [String]) async throws -> [Escalation]
    /// Queues the failed or expired deliveries of a warning again, with their idempotency
    /// keys, narrowed to a channel and to recipients within `region`, while the warning is in
    /// force; audited with who asked and why. Returns how many were queued.
    func resend(
        warningID: Warning.ID, channel: String?, within region: RegionCode, states: Set<DeliveryState>, by actor: AuditActor,
        reason: String, at: Date
    ) async throws -> Int
    /// Those of `ids` that are warnings with an area overlapping `scope` (what a principal
    /// of that scope may see).
    func visibleWarnings(_ ids: [String], within scope: RegionCode) async throws -> Set<String>
    /// Marks warnings past their `expires` as expired; returns their ids.
    func expireWarnings(at: Date) async throws -> [String]
}

/// A summary of the released messages `WarningStore.releasedMessages(since:)` chooses from:
/// how many, the newest release, and how many of them were updated or cancelled since.
public struct ReleasedMessagesMark: Hashable, Sendable {
    public var count: Int
    public var newestRelease: String?
    public var superseded: Int
    public var cancelled: Int

    public init(count: Int, newestRelease: String?, superseded: Int, cancelled: Int) {
        self.count = count
        self.newestRelease = newestRelease
        self.superseded = superseded
        self.cancelled = cancelled
    }
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

/// The result of a recorded decision.
public struct Decided: Sendable {
    public var warning: Warning
    public var outcome: ApprovalLedger.Outcome
    /// Earlier warnings this one superseded or cancelled on release.
    public var replaced: [String]
}
