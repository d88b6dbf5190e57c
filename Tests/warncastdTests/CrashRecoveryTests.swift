import Foundation
import Testing
import WarncastNet
import WarncastTestSupport

/// The promise of the durable outbox, tested the hard way: kill -9 in the middle of a
/// 10,000-loudspeaker fan-out, restart, and count at the loudspeakers.
@Suite("Crash recovery of a large fan-out", .serialized, .ownThreads)
struct CrashRecoveryTests {
    @Test("after kill -9 mid-way and a restart, each of 10,000 loudspeakers has the warning exactly once")
    func killDuringFanOut() async throws {
        let fleet = try await LoudspeakerFleet()
        fleet.setDefault(.slow(milliseconds: 5))
        let node = try FanOutNode(
            fleet: fleet, terminals: 10_000,
            settings: ["concurrency: 256": "concurrency: 64", "timeout_ms: 10000": "timeout_ms: 2000"])
        // The fleet itself sends the kill as the 2,000th loudspeaker is reached: a poll from
        // here could be held up by other tests until the fan-out had finished.
        let pid = node.daemon.process.processIdentifier
        fleet.when(uniqueDeliveries: 2000) { kill(pid, SIGKILL) }
        let id = try node.releaseRedWarning()

        let deadline = Date().addingTimeInterval(60)
        while node.daemon.process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        // Disarmed if it never fired, so that it cannot signal a later process of that pid.
        fleet.when(uniqueDeliveries: Int.max) {}
        let status = node.daemon.stop(signal: SIGKILL)
        #expect(node.daemon.process.terminationReason == .uncaughtSignal && status == SIGKILL, "killed by the fleet's SIGKILL")
        let atKill = fleet.uniqueDeliveries
        #expect(atKill >= 2000 && atKill < 10_000, "the kill did not land in the middle of the fan-out (\(atKill))")

        node.daemon = try DaemonProcess(config: node.config, directory: node.directory)
        #expect(try await node.waitDelivered(id, count: 10_000, seconds: 120) == 10_000)
        #expect(fleet.uniqueDeliveries == 10_000)
        let perEndpoint = fleet.keysByEndpoint
        #expect(perEndpoint.count == 10_000)
        #expect(perEndpoint.values.allSatisfy { $0.count == 1 })
        #expect(fleet.badSignatures == 0)
        // Requests in flight at the kill are sent again after the restart; the loudspeakers
        // recognise the idempotency key and drop them.
        print("kill -9 after \(atKill) deliveries; \(fleet.repeats) repeat(s) dropped by the receivers")
    }
}
