import Foundation

/// A delivery leased to a dispatcher: everything needed to attempt it once.
public struct DeliveryJob: Sendable, Equatable {
    public var id: Int64
    public var warningID: Warning.ID
    public var recipient: Recipient
    public var idempotencyKey: String
    /// This attempt's number, from 1.
    public var attempt: Int
    /// Until when this dispatcher holds it; it must renew the lease to send later than that.
    public var leaseUntil: Date?
    /// The warning's level and expiry, for how long its delivery is retried.
    public var level: Level?
    public var expiresAt: Timestamp?

    public init(
        id: Int64, warningID: Warning.ID, recipient: Recipient, idempotencyKey: String, attempt: Int, leaseUntil: Date? = nil,
        level: Level? = nil, expiresAt: Timestamp? = nil
    ) {
        self.level = level
        self.expiresAt = expiresAt
        self.leaseUntil = leaseUntil
        self.id = id
        self.warningID = warningID
        self.recipient = recipient
        self.idempotencyKey = idempotencyKey
        self.attempt = attempt
    }
}

/// What one attempt came to, as the adapter reads the response.
public enum DeliveryOutcome: Sendable, Equatable {
    /// The recipient acknowledged it.
    case delivered
    /// Taken; an acknowledgement may follow (`POST /v1/receipts/ack`).
    case accepted
    /// Worth trying again later (timeouts, 5xx, 429, refused connections).
    case retry(String)
    /// Refused for good (4xx other than 408 and 429).
    case failed(String)
    /// Not attempted: the endpoint's circuit breaker is open. Does not count as an attempt.
    case deferred(until: Date)

    /// The outcome's name, as attempts are stored and counted: delivered, accepted, retry,
    /// failed or deferred.
    public var name: String {
        switch self {
        case .delivered: "delivered"
        case .accepted: "accepted"
        case .retry: "retry"
        case .failed: "failed"
        case .deferred: "deferred"
        }
    }
}

/// One attempt's record, batched by the dispatcher and written to the store.
public struct AttemptResult: Sendable, Equatable {
    public var deliveryID: Int64
    public var attempt: Int
    public var at: Date
    public var httpStatus: Int?
    public var error: String?
    public var outcome: DeliveryOutcome
    public var milliseconds: Int
    /// When to try again, for `retry`; after the last attempt a retry becomes a failure.
    public var nextAttemptAt: Date?
    /// The gateway's id for the message, where it gives one (a carrier's message id).
    public var reference: String?

    public init(
        deliveryID: Int64, attempt: Int, at: Date, httpStatus: Int?, error: String?, outcome: DeliveryOutcome,
        milliseconds: Int, nextAttemptAt: Date? = nil, reference: String? = nil
    ) {
        self.reference = reference
        self.deliveryID = deliveryID
        self.attempt = attempt
        self.at = at
        self.httpStatus = httpStatus
        self.error = error
        self.outcome = outcome
        self.milliseconds = milliseconds
        self.nextAttemptAt = nextAttemptAt
    }
}

/// A delivery as the API lists it.
public struct DeliveryView: Sendable, Codable, Equatable {
    public var id: Int64
    public var recipient: String
    public var recipientName: String
    public var region: String
    public var channel: String
    public var state: DeliveryState
    public var attempts: Int
    public var idempotencyKey: String
    public var queuedAt: Timestamp
    public var sendingAt: Timestamp?
    public var acceptedAt: Timestamp?
    public var deliveredAt: Timestamp?
    public var failedAt: Timestamp?
    public var expiredAt: Timestamp?
    public var supersededAt: Timestamp?
    public var nextAttemptAt: Timestamp?
    public var lastStatus: Int?
    public var lastError: String?
    /// For a delivery not reached yet after at least one attempt: when its first attempt
    /// was made (it has been retried since).
    public var retryingSince: Timestamp?

    public init(
        id: Int64,
        recipient: String,
        recipientName: String,
        region: String,
        channel: String,
        state: DeliveryState,
        attempts: Int,
        idempotencyKey: String,
        queuedAt: Timestamp,
        sendingAt: Timestamp?,
        acceptedAt: Timestamp?,
        deliveredAt: Timestamp?,
        failedAt: Timestamp?,
        expiredAt: Timestamp?,
        supersededAt: Timestamp?,
        nextAttemptAt: Timestamp?,
        lastStatus: Int?,
        lastError: String?,
        retryingSince: Timestamp? = nil
    ) {
        self.id = id
        self.recipient = recipient
        self.recipientName = recipientName
        self.region = region
        self.channel = channel
        self.state = state
        self.attempts = attempts
        self.idempotencyKey = idempotencyKey
        self.queuedAt = queuedAt
        self.sendingAt = sendingAt
        self.acceptedAt = acceptedAt
        self.deliveredAt = deliveredAt
        self.failedAt = failedAt
        self.expiredAt = expiredAt
        self.supersededAt = supersededAt
        self.nextAttemptAt = nextAttemptAt
        self.lastStatus = lastStatus
        self.lastError = lastError
        self.retryingSince = retryingSince
    }
}
