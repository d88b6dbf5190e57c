import Foundation
import Testing
import WarncastCore
import WarncastDispatch
import WarncastStore
import WarncastTestSupport

@Suite("One request per lease")
struct LeaseTests {
    @Test("a rate limit that holds leased deliveries past their lease still sends each terminal exactly one request")
    func rateLimitedFanOut() async throws {
        // 200 terminals at 20 a second take 10 s; a lease here lasts 0.5 + 0.5 + 5 = 6 s.
        let harness = try await DispatchHarness { channel in
            channel.ratePerSecond = 20
            channel.concurrency = 256
            channel.connectTimeoutMilliseconds = 500
            channel.timeoutMilliseconds = 500
        }
        try await harness.addSpeakers(200, in: "430121001")
        let warning = try await harness.release("rainstorm-red-csx.xml")
        let finished = try await harness.dispatch(for: 40) { try await harness.summary(warning)[.delivered] == 200 }
        #expect(finished)
        #expect(harness.fleet.requests == 200, "one request per terminal")
        #expect(harness.fleet.repeats == 0)
        let deliveries = try await harness.store.deliveries(warningID: warning, state: nil, limit: 1000)
        #expect(deliveries.allSatisfy { $0.attempts == 1 }, "attempts count requests")
        guard case .intact = try await harness.store.verifyReceipts() else {
            Issue.record("the receipts' seals do not verify")
            return
        }
    }
}
