import Foundation

/// Whether and when a delivery is tried again after an attempt: pure, so tests can pin
/// the random part of the backoff.
public enum RetryDecision {
    /// When to try again after `outcome` of attempt number `attempt` that finished at
    /// `finishedAt`; nil when there is no next try (it was taken, refused, or the policy's
    /// attempts are used up, which makes a retry a failure).
    public static func nextAttempt(
        after outcome: DeliveryOutcome, attempt: Int, policy: RetryPolicy, finishedAt: Date,
        jitter: Double = Double.random(in: 0.5...1)
    ) -> Date? {
        guard case .retry = outcome, policy.shouldRetry(attempt: attempt) else { return nil }
        return finishedAt.addingTimeInterval(policy.delay(afterAttempt: attempt, jitter: jitter))
    }
}
