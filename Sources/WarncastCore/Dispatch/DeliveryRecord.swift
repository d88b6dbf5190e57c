import Foundation

/// What the delivery lifecycle reads and writes of one delivery: its state, the attempt it
/// is on, its lease, and the time it reached each state. The store keeps these columns and
/// writes back whatever `DeliveryLifecycle` returns.
public struct DeliveryRecord: Sendable, Equatable {
    public var id: Int64
    public var state: DeliveryState
    /// Requests made so far; while `sending`, the number of the request in flight.
    public var attempts: Int
    /// While `sending`: until when the dispatcher holding it may send.
    public var leaseUntil: Timestamp?
    /// While `queued`: not before this time.
    public var nextAttemptAt: Timestamp?
    /// The warning's expiry; nothing is sent after it.
    public var expiresAt: Timestamp?
    public var sendingAt: Timestamp?
    public var acceptedAt: Timestamp?
    public var deliveredAt: Timestamp?
    public var failedAt: Timestamp?
    public var expiredAt: Timestamp?
    public var supersededAt: Timestamp?
    /// When the terminal's broadcast report said it finished playing.
    public var playedAt: Timestamp?
    /// The status (HTTP or SMTP reply code) and error of the last answer.
    public var lastStatus: Int?
    public var lastError: String?

    public init(
        id: Int64, state: DeliveryState = .queued, attempts: Int = 0, leaseUntil: Timestamp? = nil,
        nextAttemptAt: Timestamp? = nil, expiresAt: Timestamp? = nil, sendingAt: Timestamp? = nil,
        acceptedAt: Timestamp? = nil, deliveredAt: Timestamp? = nil, failedAt: Timestamp? = nil,
        expiredAt: Timestamp? = nil, supersededAt: Timestamp? = nil, lastStatus: Int? = nil, lastError: String? = nil,
        playedAt: Timestamp? = nil
    ) {
        self.playedAt = playedAt
        self.id = id
        self.state = state
        self.attempts = attempts
        self.leaseUntil = leaseUntil
        self.nextAttemptAt = nextAttemptAt
        self.expiresAt = expiresAt
        self.sendingAt = sendingAt
        self.acceptedAt = acceptedAt
        self.deliveredAt = deliveredAt
        self.failedAt = failedAt
        self.expiredAt = expiredAt
        self.supersededAt = supersededAt
        self.lastStatus = lastStatus
        self.lastError = lastError
    }

    /// When the delivery reached its final state, for the receipt's seal.
    public var finishedAt: Timestamp? {
        switch state {
        case .delivered: deliveredAt
        case .played: playedAt
        case .failed: failedAt
        case .expired: expiredAt
        case .superseded: supersededAt
        case .queued, .sending, .accepted: nil
        }
    }

    /// What a receipt's seal covers; a final delivery whose sealed fields change is sealed again.
    public var sealedFields: SealedFields {
        SealedFields(state: state, at: finishedAt, attempts: attempts, lastStatus: lastStatus, lastError: lastError)
    }

    public struct SealedFields: Sendable, Equatable {
        public var state: DeliveryState
        public var at: Timestamp?
        public var attempts: Int
        public var lastStatus: Int?
        public var lastError: String?
    }
}

/// Something that happens to a delivery. `DeliveryLifecycle` decides what it changes.
public enum DeliveryEvent: Sendable, Equatable {
    /// A dispatcher takes the delivery for its next request, holding it until `until`.
    case leased(at: Timestamp, until: Timestamp)
    /// The dispatcher holding attempt `attempt` keeps it longer, until `until`.
    case renewed(attempt: Int, until: Timestamp)
    /// An attempt's result (including a lease handed back unsent: `.deferred`).
    case attempted(AttemptResult)
    /// A gateway's delivery report (SMS DLR, carrier callback).
    case reported(DeliveryState, detail: String?, at: Timestamp)
    /// The recipient acknowledged it (`POST /v1/receipts/ack`).
    case acknowledged(at: Timestamp)
    /// A terminal reported broadcasting it, finishing at `at` (`POST /v1/terminals/{id}/playback`).
    case played(at: Timestamp)
    /// Time passed: the warning may have expired.
    case expiryChecked(at: Timestamp)
    /// A newer message of the same warning (Update or Cancel) replaced it.
    case superseded(at: Timestamp)
    /// An operator sends a failed or expired delivery again (`warncast warnings resend`).
    case resent(at: Timestamp)
    /// Its recipient can be reached again (a dial-in terminal reconnected): a queued
    /// delivery waiting for a later attempt is due now.
    case woken(at: Timestamp)
}

/// A change the lifecycle decided: the delivery as it must now read, and whether its
/// receipt is to be (re)sealed because it is final and its sealed fields changed.
public struct DeliveryTransition: Sendable, Equatable {
    public var record: DeliveryRecord
    public var seal: Bool

    public init(record: DeliveryRecord, seal: Bool) {
        self.record = record
        self.seal = seal
    }
}
