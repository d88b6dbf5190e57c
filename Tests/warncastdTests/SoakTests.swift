import Foundation
import Testing
import WarncastTestSupport

/// `make soak`, not part of `make test` (it takes minutes): many kill -9 during one large
/// fan-out to flaky terminals, and a rate limit far slower than a lease, both through a real
/// warncastd. The kill run writes its figures into docs/benchmarks.md.
@Suite("Soak: kill -9 again and again, and a slow rate limit", .serialized, .ownThreads)
struct SoakTests {
    static let environment = ProcessInfo.processInfo.environment

    @Test("kill -9 at random moments of a fan-out where 30% of terminals refuse their first request: none lost, none twice")
    func killsDuringFanOut() async throws {
        let kills = Int(Self.environment["SOAK_KILLS"] ?? "") ?? 100
        let terminals = Int(Self.environment["SOAK_TERMINALS"] ?? "") ?? 10_000
        let fleet = try await LoudspeakerFleet()
        // Slow enough terminals that the fan-out outlives the kills.
        fleet.setDefault(.slow(milliseconds: 1000))
        for index in 0..<terminals where index % 10 < 3 { fleet.set(.fail(status: 503, times: 1), for: String(index)) }
        let node = try FanOutNode(
            fleet: fleet, terminals: terminals,
            settings: ["concurrency: 256": "concurrency: 32", "timeout_ms: 10000": "timeout_ms: 3000"])
        let id = try node.releaseRedWarning()
        let started = Date()
        var midway = 0
        for _ in 0..<kills {
            try await Task.sleep(for: .milliseconds(Int.random(in: 100...1500)))
            if fleet.keysByEndpoint.count < terminals { midway += 1 }
            try node.killAndRestart()
        }
        let delivered = try await node.waitDelivered(id, count: terminals, seconds: 600)
        let perEndpoint = fleet.keysByEndpoint
        let lost = terminals - perEndpoint.count
        let twiceByKey = perEndpoint.values.filter { $0.count > 1 }.count
        let repeated = fleet.repeats
        let verified = try node.auditVerifies()
        let figures = """
            \(kills) kill -9 (\(midway) of them before the fan-out had finished), \(terminals) loudspeakers, 30% refusing \
            their first request with 503, in \(Int(Date().timeIntervalSince(started))) s: **\(lost) lost, \(twiceByKey) \
            with two idempotency keys, \(repeated) requests repeated with the same key** (sent again after a kill took \
            them in flight; the terminals drop them by key); deliveries `delivered`: \(delivered); \
            `warncast audit verify`: \(verified ? "intact" : "BROKEN").
            """
        print("soak: " + figures)
        try Self.record(figures)
        #expect(lost == 0 && twiceByKey == 0 && delivered == terminals && verified)
        #expect(fleet.badSignatures == 0)
    }

    @Test("a channel limited to 20 requests a second sends each of 1,000 terminals exactly one request")
    func slowRateLimit() async throws {
        let fleet = try await LoudspeakerFleet()
        let node = try FanOutNode(fleet: fleet, terminals: 1000, settings: ["rate_per_second: 0 ": "rate_per_second: 20 "])
        let id = try node.releaseRedWarning()
        // 1,000 at 20 a second: 50 s, far beyond a lease.
        #expect(try await node.waitDelivered(id, count: 1000, seconds: 120) == 1000)
        #expect(fleet.requests == 1000 && fleet.repeats == 0, "\(fleet.requests) requests, \(fleet.repeats) repeats")
        #expect(try node.auditVerifies())
    }

    /// Puts `figures` between the soak markers of docs/benchmarks.md.
    static func record(_ figures: String) throws {
        let file = TestSupport.root.appendingPathComponent("docs/benchmarks.md")
        var text = try String(contentsOf: file, encoding: .utf8)
        let begin = "<!-- soak:begin -->"
        let end = "<!-- soak:end -->"
        let stamp = ISO8601DateFormatter().string(from: Date())
        let block = "\(begin)\nLast `make soak` (\(stamp), \(ProcessInfo.processInfo.activeProcessorCount) cores): \(figures)\n\(end)"
        if let start = text.range(of: begin), let stop = text.range(of: end), start.lowerBound < stop.lowerBound {
            text.replaceSubrange(start.lowerBound..<stop.upperBound, with: block)
        } else {
            text += "\n## Soak\n\n\(block)\n"
        }
        try text.write(to: file, atomically: true, encoding: .utf8)
    }
}
