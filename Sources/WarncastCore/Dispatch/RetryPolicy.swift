import Foundation

/// When to try a failed delivery again: exponential backoff with jitter, up to a number of
/// attempts. Pure, so tests can pin the random part.
public struct RetryPolicy: Sendable, Equatable {
    public var maxAttempts: Int
    public var initialDelay: TimeInterval
    public var maxDelay: TimeInterval

    public init(maxAttempts: Int = 6, initialDelay: TimeInterval = 1, maxDelay: TimeInterval = 60) {
        self.maxAttempts = maxAttempts
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
    }

    public func shouldRetry(attempt: Int) -> Bool { attempt < maxAttempts }

    /// The pause after failed attempt number `attempt` (1-based): the exponential step,
    /// capped, then scaled by `jitter` in 0.5…1 ("equal jitter") so that endpoints failing
    /// together do not all come back at the same instant.
    public func delay(afterAttempt attempt: Int, jitter: Double = Double.random(in: 0.5...1)) -> TimeInterval {
        let exponential = initialDelay * pow(2, Double(max(0, attempt - 1)))
        return min(maxDelay, exponential) * min(1, max(0.5, jitter))
    }
}
