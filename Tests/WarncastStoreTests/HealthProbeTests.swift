import Foundation
import GRDB
import Synchronization
import Testing
import WarncastTestSupport

@testable import WarncastStore

/// `/healthz` is open to anyone and its probe is a synced write: asked often, the store
/// writes the probe at most once a second.
@Suite("The store's health probe")
struct HealthProbeTests {
    @Test("health asked many times within a second writes its probe once, a second later again; the watchdog's always writes")
    func probeOncePerSecond() async throws {
        let directory = try TestSupport.temporaryDirectory()
        let clock = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        let store = try SQLiteStore(path: directory.appendingPathComponent("warncast.sqlite").path, now: { clock.withLock { $0 } })
        func probeTime() throws -> String? {
            try store.writer.read { db in try String.fetchOne(db, sql: "SELECT at FROM health_probe WHERE id = 1") }
        }
        #expect(await store.health().isHealthy)
        let first = try #require(try probeTime())
        for _ in 0..<50 {
            clock.withLock { $0 += 0.01 }
            #expect(await store.health().isHealthy)
        }
        #expect(try probeTime() == first, "no probe written within the second")
        // The watchdog's check writes whatever the last one did.
        clock.withLock { $0 += 0.01 }
        #expect(await store.health(fresh: true).isHealthy)
        let watchdog = try #require(try probeTime())
        #expect(watchdog != first)
        try await Task.sleep(for: .milliseconds(1100))
        clock.withLock { $0 += 1 }
        #expect(await store.health().isHealthy)
        #expect(try probeTime() != watchdog, "a second after the last probe, another")
    }
}
