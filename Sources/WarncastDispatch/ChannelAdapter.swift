import Foundation
import WarncastCore
import WarncastNet

/// One way of reaching recipients: builds the request for a delivery and reads what the
/// response means. The dispatcher signs, sends, retries and records; adapters know nothing
/// of that, and the dispatcher knows nothing of any adapter.
public protocol ChannelAdapter: Sendable {
    /// Work that is the same for every delivery of a message, done once per warning;
    /// the result is handed back in `message.prepared`.
    func prepare(warning: Warning, cap: Data, text: String) -> [String: String]

    /// The unsigned request for `job`; the dispatcher adds the signature and idempotency headers.
    func request(for job: DeliveryJob, message: OutgoingMessage) throws -> HTTPRequestSpec

    /// What an answer means for the delivery.
    func outcome(of result: HTTPResult) -> DeliveryOutcome

    /// The gateway's id for the message in its answer, if it gives one; kept with the attempt.
    func reference(in result: HTTPResult) -> String?

    /// What a delivery's circuit breaker is keyed by: the endpoint it is sent to (by
    /// default the recipient's address; for a gateway, the gateway).
    func endpoint(for job: DeliveryJob) -> String

    /// Every endpoint the delivery may go through, the usual one first and then fallbacks (a
    /// second SMS gateway), each with a breaker of its own: a request goes through the first
    /// whose breaker is closed. By default only `endpoint(for:)`.
    func endpoints(for job: DeliveryJob) -> [String]

    /// The request for `job` through `endpoint`, one of `endpoints(for:)`. By default
    /// `request(for:message:)`, for adapters with one endpoint.
    func request(for job: DeliveryJob, message: OutgoingMessage, via endpoint: String) throws -> HTTPRequestSpec

    /// A plain-text notice to a person on duty (a gateway down, deliveries given up, an
    /// approval overdue) through `endpoint`, or nil if the channel cannot carry one (a
    /// loudspeaker, a lower node). Not a warning: no delivery, no receipt.
    func notice(_ text: String, to recipient: Recipient, via endpoint: String) -> HTTPRequestSpec?

    /// Whether the adapter sends the message as it was received (`message.original`)
    /// rather than as this node writes it; only then is the raw message read.
    var wantsOriginal: Bool { get }

    /// Whether the adapter signs inside the message itself (email); otherwise the
    /// dispatcher adds the signature headers to each request. Default: false.
    var signsItself: Bool { get }
}

/// An adapter that can send one request for several deliveries of the same warning (an
/// email to many mailboxes in one SMTP transaction) and tell each one's result apart.
public protocol BatchChannelAdapter: ChannelAdapter {
    /// Deliveries per request at most.
    var batchLimit: Int { get }

    func request(for batch: [DeliveryJob], message: OutgoingMessage) throws -> HTTPRequestSpec

    /// The request for `batch` through `endpoint`, one of `endpoints(for:)` of its first
    /// delivery. By default `request(for:message:)`.
    func request(for batch: [DeliveryJob], message: OutgoingMessage, via endpoint: String) throws -> HTTPRequestSpec

    /// One outcome per delivery of `batch`, in its order.
    func outcomes(of result: Result<HTTPResult, CurlError>, for batch: [DeliveryJob]) -> [BatchOutcome]
}

extension BatchChannelAdapter {
    public func request(for batch: [DeliveryJob], message: OutgoingMessage, via endpoint: String) throws -> HTTPRequestSpec {
        try request(for: batch, message: message)
    }
}

/// One delivery's share of an answer: its outcome, the status (HTTP or SMTP reply code)
/// and text that are recorded with the attempt.
public struct BatchOutcome: Sendable, Equatable {
    public var outcome: DeliveryOutcome
    public var status: Int?
    public var detail: String?
    public var reference: String?

    public init(_ outcome: DeliveryOutcome, status: Int?, detail: String?, reference: String? = nil) {
        self.outcome = outcome
        self.status = status
        self.detail = detail
        self.reference = reference
    }
}

extension ChannelAdapter {
    public func prepare(warning: Warning, cap: Data, text: String) -> [String: String] { [:] }

    public func reference(in result: HTTPResult) -> String? { nil }

    public func endpoint(for job: DeliveryJob) -> String { job.recipient.address }

    public func endpoints(for job: DeliveryJob) -> [String] { [endpoint(for: job)] }

    public func notice(_ text: String, to recipient: Recipient, via endpoint: String) -> HTTPRequestSpec? { nil }

    public func request(for job: DeliveryJob, message: OutgoingMessage, via endpoint: String) throws -> HTTPRequestSpec {
        try request(for: job, message: message)
    }

    public var signsItself: Bool { false }

    public var wantsOriginal: Bool { false }

    /// The usual reading of HTTP statuses: 2xx taken, 408 / 429 / 5xx worth retrying, any
    /// other status a refusal.
    public func standardOutcome(of result: HTTPResult, acknowledged: Bool) -> DeliveryOutcome {
        HTTPStatusClass(result.status).outcome(taken: acknowledged ? .delivered : .accepted, reason: "HTTP \(result.status)")
    }
}

/// The one reading of an HTTP status every adapter shares: 2xx taken, 408 (timeout), 429
/// (too many requests) and 5xx worth retrying, anything else a refusal.
public enum HTTPStatusClass: Sendable, Equatable {
    case taken
    case retryable
    case refused

    public init(_ status: Int) {
        switch status {
        case 200..<300: self = .taken
        case 408, 429, 500...599: self = .retryable
        default: self = .refused
        }
    }

    /// The outcome: `taken` for a 2xx, otherwise a retry or a refusal giving `reason`.
    public func outcome(taken: DeliveryOutcome, reason: @autoclosure () -> String) -> DeliveryOutcome {
        switch self {
        case .taken: taken
        case .retryable: .retry(reason())
        case .refused: .failed(reason())
        }
    }
}
