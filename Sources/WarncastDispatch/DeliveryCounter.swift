/// Where the dispatcher counts attempts for monitoring (the daemon's Prometheus registry).
public protocol DeliveryCounter: Sendable {
    /// One attempt on `channel` came to `outcome`: delivered, accepted, retry, failed or deferred.
    func countAttempt(channel: String, outcome: String)
    /// A delivery on `channel` was given up: refused for good, or out of attempts.
    func countGiveUp(channel: String)
}

extension DeliveryCounter {
    public func countGiveUp(channel: String) {}
}
