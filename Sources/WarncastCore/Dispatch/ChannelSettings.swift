import Foundation

/// One channel: which adapter speaks it, and how hard it may be pushed.
public struct ChannelSettings: Sendable {
    public var name: String
    public var adapter: AdapterKind
    public var concurrency: Int
    /// Requests per second at most; 0 for no limit.
    public var ratePerSecond: Int
    public var connectTimeoutMilliseconds: Int
    public var timeoutMilliseconds: Int
    public var retry: RetryPolicy
    /// Consecutive failures that open an endpoint's circuit breaker.
    public var breakerFailures: Int
    /// How long an open breaker holds deliveries to that endpoint back.
    public var breakerCooldown: TimeInterval
    /// What the adapter needs beyond the recipient: a gateway's URL, credentials … (the
    /// adapter checks them when the dispatcher starts).
    public var settings: [String: String]
    /// The shared gateway whose rate limit this channel counts against, if any.
    public var gateway: String?

    public init(
        name: String, adapter: AdapterKind, concurrency: Int = 256, ratePerSecond: Int = 0,
        connectTimeoutMilliseconds: Int = 3000, timeoutMilliseconds: Int = 10_000, retry: RetryPolicy = RetryPolicy(),
        breakerFailures: Int = 5, breakerCooldown: TimeInterval = 30, settings: [String: String] = [:],
        gateway: String? = nil
    ) {
        self.settings = settings
        self.gateway = gateway
        self.name = name
        self.adapter = adapter
        self.concurrency = concurrency
        self.ratePerSecond = ratePerSecond
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.timeoutMilliseconds = timeoutMilliseconds
        self.retry = retry
        self.breakerFailures = breakerFailures
        self.breakerCooldown = breakerCooldown
    }
}
