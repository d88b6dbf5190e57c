import Foundation
import Hummingbird
import Logging
import Testing
import WarncastConfig
import WarncastCore
import WarncastServer
import WarncastStore
import WarncastTestSupport

/// A small filesystem of the test's own, filled up while the store runs on it.
@Suite("Honest health on a full disk", .serialized)
struct HealthOnFullDiskTests {
    /// Mounts a 4 MiB tmpfs (the tests run as root, as `make test` does) and runs `body`
    /// with its path; always unmounts.
    func withSmallDisk(_ body: (URL) async throws -> Void) async throws {
        let mountPoint = try TestSupport.temporaryDirectory().appendingPathComponent("small")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mountPoint.path]
        try mount.run()
        mount.waitUntilExit()
        try #require(mount.terminationStatus == 0, "mounting a tmpfs needs root (make test runs as root)")
        defer {
            let unmount = Process()
            unmount.executableURL = URL(fileURLWithPath: "/bin/umount")
            unmount.arguments = ["-l", mountPoint.path]
            try? unmount.run()
            unmount.waitUntilExit()
        }
        try await body(mountPoint)
    }

    /// Writes a file until the filesystem is full.
    func fill(_ directory: URL) -> URL {
        let filler = directory.appendingPathComponent("filler")
        _ = FileManager.default.createFile(atPath: filler.path, contents: nil)
        guard let handle = try? FileHandle(forWritingTo: filler) else { return filler }
        let block = Data(repeating: 0x55, count: 64 * 1024)
        while (try? handle.write(contentsOf: block)) != nil {}
        try? handle.close()
        return filler
    }

    @Test("a store that cannot write answers 503 at /healthz with the reason, and recovers by itself once it can")
    func fullDisk() async throws {
        try await withSmallDisk { disk in
            let store = try SQLiteStore(path: disk.appendingPathComponent("data/warncast.sqlite").path)
            try await TestSupport.load(store)
            var configuration = try TestSupport.exampleConfiguration()
            configuration.store.dataDirectory = disk.appendingPathComponent("data").path
            var logger = Logger(label: "health-test")
            logger.logLevel = .critical
            let router = buildRouter(ApplicationParts(configuration: configuration, store: store, logger: logger))
            #expect(await store.health().isHealthy)

            let filler = fill(disk)
            // A real write fails like the dispatcher's would.
            let many = (1...200).map { index in
                AuditEvent(actor: .test, action: .recipientsSaved, subject: String(repeating: "x", count: 200) + "\(index)")
            }
            var failed = false
            for event in many where !failed {
                do { try await store.appendAudit(event, at: Date()) } catch { failed = true }
            }
            #expect(failed, "the disk is full")
            try await TestServer.run(router, logger: logger) { client in
                let response = try await client.execute(uri: "/healthz", method: .get)
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).contains("full"))
            }

            try FileManager.default.removeItem(at: filler)
            try await store.appendAudit(AuditEvent(actor: .test, action: .recipientsSaved, subject: "after"), at: Date())
            try await TestServer.run(router, logger: logger) { client in
                let response = try await client.execute(uri: "/healthz", method: .get)
                #expect(response.status == .ok)
            }
            guard case .intact = try await store.verifyAudit() else {
                Issue.record("the audit chain broke on a full disk")
                return
            }
        }
    }
}
