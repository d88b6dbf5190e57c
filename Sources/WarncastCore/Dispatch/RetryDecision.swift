import Foundation

/// Whether and when a delivery is tried again after an attempt: pure, so tests can pin
/// the random part of the backoff.
public enum RetryDecision {
    /// When to try again after `outcome` of attempt number `attempt` that finished at
    /// `finishedAt`; nil when there is no next try (it was taken, refused, or the policy's
    /// attempts are used up, which makes a retry a failure). With `untilExpiry`, a retryable
    /// failure is tried again, backing off up to the policy's cap, until that moment.
    /// `jitter` (0.5 to 1) is drawn at random when not given, and only for a retry: drawing
    /// it costs a system call, and most attempts are answered.
    public static func nextAttempt(
        after outcome: DeliveryOutcome, attempt: Int, policy: RetryPolicy, finishedAt: Date,
        untilExpiry expires: Date? = nil, jitter: Double? = nil
    ) -> Date? {
        guard case .retry = outcome else { return nil }
        let jitter = jitter ?? Double.random(in: 0.5...1)
        let next = finishedAt.addingTimeInterval(policy.delay(afterAttempt: attempt, jitter: jitter))
        // A warning that must reach everyone is retried for as long as it is in force: at its
        // expiry the delivery expires rather than fails, so nothing is given up early.
        if let expires { return min(next, expires) }
        return policy.shouldRetry(attempt: attempt) ? next : nil
    }
}
