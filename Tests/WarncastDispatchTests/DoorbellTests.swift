import Foundation
import Testing

@testable import WarncastDispatch

@Suite("Doorbell: waits woken by a ring or their timeout")
struct DoorbellTests {
    /// Seconds `body` took.
    private func timed(_ body: () async -> Void) async -> Double {
        let start = ContinuousClock.now
        await body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    @Test("a ring before the wait returns it at once; a ring during it wakes it early")
    func rings() async {
        let bell = Doorbell()
        bell.ring()
        #expect(await timed { await bell.wait(timeout: .seconds(5)) } < 1)
        Task {
            try? await Task.sleep(for: .milliseconds(100))
            bell.ring()
        }
        let woken = await timed { await bell.wait(timeout: .seconds(5)) }
        #expect(woken >= 0.09 && woken < 2)
    }

    @Test("every wait times out by itself: one after another, a short one after a long one was rung, a long one after a short one")
    func timeouts() async {
        let bell = Doorbell()
        // Three in a row: the one timer moves on to each new deadline.
        let three = await timed {
            for _ in 0..<3 { await bell.wait(timeout: .milliseconds(100)) }
        }
        #expect(three >= 0.29 && three < 2)
        // A long wait rung early leaves its timer sleeping; a shorter wait after it must not
        // wait for that timer.
        Task {
            try? await Task.sleep(for: .milliseconds(50))
            bell.ring()
        }
        await bell.wait(timeout: .seconds(3))
        let short = await timed { await bell.wait(timeout: .milliseconds(100)) }
        #expect(short >= 0.09 && short < 1.5)
        // And a long wait after a short one lasts its own time, not the short one's.
        let long = await timed { await bell.wait(timeout: .milliseconds(600)) }
        #expect(long >= 0.59 && long < 2.5)
    }

    @Test("cancelling the waiter wakes it")
    func cancelled() async {
        let bell = Doorbell()
        let waiting = Task { await self.timed { await bell.wait(timeout: .seconds(10)) } }
        try? await Task.sleep(for: .milliseconds(50))
        waiting.cancel()
        #expect(await waiting.value < 5)
    }
}
