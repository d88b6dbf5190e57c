import Foundation
import Synchronization
import WarncastCore

/// One breaker per endpoint: after `threshold` failures in a row the endpoint is left alone
/// for `cooldown`, then tried again; a success closes it.
public final class CircuitBreakers: Sendable {
    private let threshold: Int
    private let cooldown: TimeInterval
    private let states = Mutex<[String: State]>([:])

    private struct State {
        var failures = 0
        var openUntil: Date?
    }

    public init(threshold: Int, cooldown: TimeInterval) {
        self.threshold = threshold
        self.cooldown = cooldown
    }

    /// How many endpoints' breakers are open at `now`.
    public func openCount(now: Date) -> Int {
        states.withLock { states in states.values.count { ($0.openUntil ?? .distantPast) > now } }
    }

    /// When the breaker of `endpoint` will let requests through again, or `nil` if it does now.
    public func blockedUntil(_ endpoint: String, now: Date) -> Date? {
        states.withLock { states in
            guard let until = states[endpoint]?.openUntil, until > now else { return nil }
            return until
        }
    }

    /// Counts an attempt's outcome: taken closes the breaker, worth-retrying counts as a
    /// failure, a refusal (the endpoint answered) and a deferral count as neither. Returns
    /// `true` when it opened the breaker.
    @discardableResult
    public func record(_ outcome: DeliveryOutcome, for endpoint: String, now: Date) -> Bool {
        switch outcome {
        case .delivered, .accepted:
            recordSuccess(endpoint)
            return false
        case .retry:
            return recordFailure(endpoint, now: now)
        case .failed, .deferred:
            return false
        }
    }

    public func recordSuccess(_ endpoint: String) {
        states.withLock { _ = $0.removeValue(forKey: endpoint) }
    }

    /// Counts a failure; returns `true` when it opened the breaker.
    @discardableResult
    public func recordFailure(_ endpoint: String, now: Date) -> Bool {
        states.withLock { states in
            var state = states[endpoint] ?? State()
            state.failures += 1
            var opened = false
            if state.failures >= threshold {
                state.openUntil = now.addingTimeInterval(cooldown)
                state.failures = 0
                opened = true
            }
            states[endpoint] = state
            return opened
        }
    }
}

/// Spaces requests out to at most `perSecond` (0: no limit), shared by a channel's tasks.
/// It keeps time by the monotonic clock: with the wall clock, NTP stepping it back by an
/// hour would have held every rate-limited channel (the SMS gateway) for that hour.
public final class RateLimiter: Sendable {
    private let interval: Duration
    private let next = Mutex<ContinuousClock.Instant?>(nil)

    public init(perSecond: Int) {
        interval = perSecond > 0 ? .seconds(1) / perSecond : .zero
    }

    /// Waits for this caller's slot.
    public func acquire() async {
        guard interval > .zero else { return }
        let slot = next.withLock { next -> ContinuousClock.Instant in
            let now = ContinuousClock.now
            let slot = max(now, next ?? now)
            next = slot + interval
            return slot
        }
        if slot > .now { try? await Task.sleep(until: slot, clock: .continuous) }
    }
}
