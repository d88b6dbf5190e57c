import Foundation
import WarncastCore

/// The durable outbox as a dispatcher and the receipt routes use it: lease due deliveries,
/// record what each request came to, expire what its warning outlived, apply gateways'
/// reports and recipients' acknowledgements. Every change is decided by `DeliveryLifecycle`.
public protocol Outbox: Sendable {
    /// Leases due deliveries of a channel to a dispatcher until `leaseFor` from now.
    func leaseDeliveries(channel: String, limit: Int, at: Date, leaseFor: TimeInterval) async throws -> [DeliveryJob]
    /// Extends the leases this dispatcher holds (delivery id and attempt) until `until`;
    /// returns the ids renewed. One not renewed is no longer this dispatcher's to send.
    func renewLeases(_ leases: [(id: Int64, attempt: Int)], until: Date) async throws -> Set<Int64>
    /// Records a batch of attempts in one transaction.
    func recordAttempts(_ results: [AttemptResult]) async throws
    /// Plans the next step of a release with more recipients than one step takes (see
    /// `PlanningStep`); nil when no release is being planned.
    func planNextStep(routing: DeliveryRouting, at: Date) async throws -> PlanningStep?
    /// Makes the queued deliveries of `recipientID` that wait for a later attempt due now
    /// (a dial-in terminal reconnected); returns how many.
    func wake(recipientID: String, at: Date) async throws -> Int
    /// Expires deliveries of expired warnings; returns how many.
    func expireDeliveries(at: Date) async throws -> Int
    /// A gateway's delivery report (SMS DLR, carrier callback), already authenticated.
    func report(_ report: DeliveryReport) async throws -> ReportResult
    /// Marks the delivery with `idempotencyKey` delivered, if its recipient's stored secret is
    /// one of `secretHashes` (the forms the presented secret may be stored in).
    func acknowledge(idempotencyKey: String, secretHashes: [String], at: Date) async throws -> AckResult
    /// The warning a leased delivery carries.
    func warning(id: Warning.ID) async throws -> Warning?
    /// Those of `ids` that an Update replaced or a Cancel lifted: their deliveries must not
    /// go out any more.
    func withdrawnWarnings(_ ids: [Warning.ID]) async throws -> Set<Warning.ID>
    /// The message exactly as it was received, with its format.
    func rawMessage(id: Warning.ID) async throws -> (data: Data, format: CAPFormat)?
}

/// One step of planning a release's deliveries. A release plans its first 20,000 recipients
/// (by id) in the approval's own transaction; a node with more plans the rest a step at a
/// time afterwards, each step its own transaction, so the approval is answered at once and
/// the first deliveries go out while the rest are planned. Where the next step starts is
/// kept with the warning, so a restart goes on from there.
public struct PlanningStep: Sendable, Equatable {
    public var warningID: String
    /// Deliveries this step planned.
    public var planned: Int
    /// Every recipient has been considered (or the warning was superseded, cancelled or
    /// expired meanwhile).
    public var finished: Bool

    public init(warningID: String, planned: Int, finished: Bool) {
        self.warningID = warningID
        self.planned = planned
        self.finished = finished
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
