import Foundation
import WarncastCore
import WarncastNet

/// What every adapter gets to build its request from: the released warning, its CAP XML,
/// and the text a person hears or reads. Built once per warning and shared by reference by
/// all its deliveries.
public final class OutgoingMessage: Sendable {
    public let warning: Warning
    /// CAP 1.2 XML, whichever format the warning arrived in.
    public let cap: Data
    /// The message exactly as this node received it, when it arrived as CAP XML (with any
    /// enveloped `<Signature>` of its sender): what a lower node is handed, unchanged.
    public let original: Data?
    /// Headline and instruction in the node's language, for broadcast and SMS.
    public let text: String
    /// The same for each `<info>` block, in the blocks' order.
    public let texts: [String]
    /// The node's language, for recipients without a language of their own.
    public let defaultLanguage: String
    /// Adapters' per-warning work, done once and shared by every delivery of the warning
    /// (for the loudspeaker adapter: the JSON of the fields all terminals get alike).
    public let prepared: [String: String]

    public init(
        warning: Warning, original: Data? = nil, defaultLanguage: String = "zh-CN", preparedBy adapter: (any ChannelAdapter)? = nil
    ) {
        let cap = CAPWriter.xml(warning.alert)
        self.original = warning.format == .xml ? original : nil
        let texts = warning.alert.info.map(Self.text(of:))
        self.warning = warning
        self.cap = cap
        self.texts = texts
        self.defaultLanguage = defaultLanguage
        let index = warning.alert.infoIndex(for: nil, fallback: defaultLanguage)
        self.text = texts.indices.contains(index) ? texts[index] : ""
        prepared = adapter?.prepare(warning: warning, cap: cap, text: text) ?? [:]
    }

    /// What a person hears or reads of a block: its headline and instruction.
    public static func text(of info: CAPInfo) -> String {
        [info.headline, info.instruction].compactMap { $0 }.joined(separator: "。")
    }

    /// Which `<info>` block `recipient` gets: the one in its `language` option (exact tag,
    /// then primary language), else the node's language.
    public func infoIndex(for recipient: Recipient) -> Int {
        warning.alert.infoIndex(for: recipient.options["language"], fallback: defaultLanguage)
    }

    /// The block `recipient` gets, and its text.
    public func info(for recipient: Recipient) -> (info: CAPInfo?, text: String) {
        let index = infoIndex(for: recipient)
        guard warning.alert.info.indices.contains(index) else { return (nil, text) }
        return (warning.alert.info[index], texts[index])
    }
}

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

/// What an adapter is built from: its channel's `settings` from the configuration, and
/// how gateways report back to this node.
public struct AdapterContext: Sendable {
    public var channel: String
    public var settings: [String: String]
    /// This node's base URL as gateways reach it (e.g. `http://127.0.0.1:8080`) and the
    /// tokens that authenticate reports.
    public var callbacks: CallbackSettings
    /// For adapters that sign inside the message (email); others are signed by the dispatcher.
    public var signer: MessageSigner?
    /// The daemon's clock, for adapters that stamp times into messages.
    public var now: @Sendable () -> Date

    public init(
        channel: String, settings: [String: String] = [:], callbacks: CallbackSettings, signer: MessageSigner? = nil,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.now = now
        self.channel = channel
        self.settings = settings
        self.callbacks = callbacks
        self.signer = signer
    }

    /// A setting the adapter cannot work without.
    public func required(_ key: String) throws(AdapterSettingError) -> String {
        guard let value = settings[key], !value.isEmpty else {
            throw AdapterSettingError(channel: channel, key: key, reason: "is required")
        }
        return value
    }

    /// A comma-separated list of http(s) URLs (`fallback_urls`), empty when absent.
    public func urls(_ key: String, describing what: String) throws(AdapterSettingError) -> [String] {
        let list = (settings[key] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for url in list where !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
            throw AdapterSettingError(channel: channel, key: key, reason: "'\(url)' is not the http(s) URL of \(what)")
        }
        return list
    }

    /// A whole-number setting within `range`, or `fallback` when absent.
    public func integer(_ key: String, _ range: ClosedRange<Int>, default fallback: Int) throws(AdapterSettingError) -> Int {
        guard let text = settings[key] else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw AdapterSettingError(
                channel: channel, key: key, reason: "expected a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// Settings the adapter does not know are refused, so a misspelt one is not silently ignored.
    public func rejectUnknown(except known: Set<String>, prefixes: [String] = []) throws(AdapterSettingError) {
        for key in settings.keys.sorted() where !known.contains(key) && !prefixes.contains(where: key.hasPrefix) {
            throw AdapterSettingError(
                channel: channel, key: key, reason: "unknown setting (known: \(known.sorted().joined(separator: ", ")))")
        }
    }

    /// The URL a gateway calls to report on delivery `id`: `path` on this node with the
    /// delivery's id and its token.
    public func callbackURL(_ path: String, deliveryID id: Int64) -> String {
        "\(callbacks.base)\(path)?d=\(id)&t=\(callbacks.tokens.token(forDelivery: id))"
    }
}

/// A channel setting that is missing or wrong; the daemon refuses to start with it.
public struct AdapterSettingError: Error, CustomStringConvertible {
    public var channel: String
    public var key: String
    public var reason: String

    public init(channel: String, key: String, reason: String) {
        self.channel = channel
        self.key = key
        self.reason = reason
    }

    public var description: String { "dispatch.channels.\(channel).settings.\(key): \(reason)" }
}
