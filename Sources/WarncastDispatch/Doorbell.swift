import Synchronization

/// Lets one waiting task be woken early: `ring()` wakes the current waiter, or the next one
/// if nobody waits yet. Cancelling the waiter wakes it too.
final class Doorbell: Sendable {
    private struct State: ~Copyable {
        var rung = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func ring() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.rung = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns when rung (at once if it was rung since the last wait) or cancelled.
    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ringing = state.withLock { state -> Bool in
                    if state.rung {
                        state.rung = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if ringing { continuation.resume() }
            }
        } onCancel: {
            ring()
        }
    }

    /// Waits for a ring, or `timeout` at most.
    func wait(timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: timeout) }
            group.addTask { await self.wait() }
            await group.next()
            group.cancelAll()
        }
    }
}
