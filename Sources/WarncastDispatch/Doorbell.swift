import Synchronization

/// Lets one waiting task be woken early: `ring()` wakes the current waiter, or the next one
/// if nobody waits yet. Cancelling the waiter wakes it too.
///
/// A dispatcher's loops wait on doorbells between nearly every two deliveries, so a wait
/// with a timeout must cost little: no task group and no timer of its own. One timer task
/// per doorbell wakes a waiter whose time is up; it runs while somebody waits with a
/// deadline and sleeps until the current waiter's deadline, so it wakes about once per
/// timeout however many waits come and go meanwhile.
final class Doorbell: Sendable {
    private struct State: ~Copyable {
        var rung = false
        var waiter: CheckedContinuation<Void, Never>?
        /// When the current waiter gives up waiting.
        var deadline: ContinuousClock.Instant?
        var timer = TimerCharge()
    }

    private let state = Mutex(State())

    func ring() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                state.deadline = nil
                return waiter
            }
            state.rung = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns when rung (at once if it was rung since the last wait) or cancelled.
    func wait() async {
        await wait(until: nil)
    }

    /// Waits for a ring, or `timeout` at most.
    func wait(timeout: Duration) async {
        await wait(until: ContinuousClock.now + timeout)
    }

    private func wait(until deadline: ContinuousClock.Instant?) async {
        let rung = state.withLock { state -> Bool in
            defer { state.rung = false }
            return state.rung
        }
        guard !rung else { return }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let (ringing, timer) = state.withLock { state -> (Bool, UInt64?) in
                    if state.rung {
                        state.rung = false
                        return (true, nil)
                    }
                    state.waiter = continuation
                    state.deadline = deadline
                    return (false, deadline.flatMap { state.timer.take(for: $0) })
                }
                if ringing { continuation.resume() }
                if let timer { Task { await self.runTimer(timer) } }
            }
        } onCancel: {
            ring()
        }
    }

    /// Wakes waiters whose deadline has passed, while it is the timer in charge and
    /// somebody waits with a deadline.
    private func runTimer(_ id: UInt64) async {
        while true {
            let now = ContinuousClock.now
            let (late, next) = state.withLock { state -> (CheckedContinuation<Void, Never>?, ContinuousClock.Instant?) in
                guard state.timer.isInCharge(id) else { return (nil, nil) }
                guard let deadline = state.deadline, deadline <= now else {
                    state.timer.looks(at: state.deadline)
                    return (nil, state.deadline)
                }
                let late = state.waiter
                state.waiter = nil
                state.deadline = nil
                state.timer.looks(at: nil)
                return (late, nil)
            }
            late?.resume()
            guard let next else { return }
            try? await Task.sleep(until: next, clock: .continuous)
        }
    }
}
