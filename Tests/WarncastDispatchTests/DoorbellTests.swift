import Foundation
import Testing

@testable import WarncastDispatch

/// The bounds are loose on purpose: the whole suite runs at once on two cores, beside tests
/// that block threads, so a task may start seconds late. What is checked is which
/// event ended a wait: its ring, its own timeout, or (never) someone else's.
@Suite("Doorbell: waits woken by a ring or their timeout")
struct DoorbellTests {
    /// Seconds `body` took.
    private func timed(_ body: () async -> Void) async -> Double {
        let start = ContinuousClock.now
        await body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// Rings `bell` after `seconds` unless cancelled first, so a wait the doorbell failed to
    /// end still ends.
    private func ring(_ bell: Doorbell, after seconds: Double) -> Task<Void, Never> {
        Task {
            guard (try? await Task.sleep(for: .seconds(seconds))) != nil else { return }
            bell.ring()
        }
    }

    @Test("a ring before the wait returns it at once; a ring during it wakes it long before its timeout")
    func rings() async {
        let bell = Doorbell()
        bell.ring()
        #expect(await timed { await bell.wait(timeout: .seconds(60)) } < 20)
        _ = ring(bell, after: 0.1)
        let woken = await timed { await bell.wait(timeout: .seconds(60)) }
        #expect(woken >= 0.09 && woken < 20)
    }

    @Test("every wait times out by itself: one after another, a short one after a long one was rung, a long one after a short one")
    func timeouts() async {
        let bell = Doorbell()
        // Three in a row: the one timer moves on to each new deadline.
        let three = await timed {
            for _ in 0..<3 { await bell.wait(timeout: .milliseconds(100)) }
        }
        #expect(three >= 0.29 && three < 20)
        // A long wait rung early leaves its timer sleeping; a shorter wait after it must not
        // wait for that timer (the watchdog's ring at 25 s would end it otherwise).
        _ = ring(bell, after: 0.05)
        await bell.wait(timeout: .seconds(60))
        let watchdog = ring(bell, after: 25)
        let short = await timed { await bell.wait(timeout: .milliseconds(100)) }
        #expect(short >= 0.09 && short < 20)
        watchdog.cancel()
        // And a long wait after a short one lasts its own time, not the short one's.
        let long = await timed { await bell.wait(timeout: .milliseconds(600)) }
        #expect(long >= 0.59 && long < 20)
    }

    @Test("cancelling the waiter wakes it")
    func cancelled() async {
        let bell = Doorbell()
        let waiting = Task { await self.timed { await bell.wait(timeout: .seconds(60)) } }
        try? await Task.sleep(for: .milliseconds(50))
        waiting.cancel()
        #expect(await waiting.value < 20)
    }
}
