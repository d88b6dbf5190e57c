import Foundation
import Testing
import WarncastConfig
import WarncastReceiver
import WarncastTestSupport

/// What `make install` and `make install-receiver` put on a machine, staged with DESTDIR
/// (their parts that need no build): the files, and configurations that work where the
/// systemd units run them, the state in each unit's state directory.
@Suite("make install, staged with DESTDIR", .serialized, .ownThreads)
struct InstallTests {
    /// `make -s install-config install-receiver-config DESTDIR=stage`, from the repository.
    static func make(into stage: URL) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/make")
        process.arguments = ["-s", "-C", TestSupport.root.path, "install-config", "install-receiver-config", "DESTDIR=\(stage.path)"]
        let log = stage.deletingLastPathComponent().appendingPathComponent("make-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, try String(contentsOf: log, encoding: .utf8))
    }

    @Test(
        "the staged node configuration keeps its store and signing keys in /var/lib/warncast, finds its registry files and passes --check-config; the station's keeps its state in /var/lib/warncast-receiver; an edited configuration is kept"
    )
    func staged() throws {
        let stage = try TestSupport.temporaryDirectory().appendingPathComponent("stage")
        let first = try Self.make(into: stage)
        try #require(first.status == 0, "\(first.output)")
        func staged(_ path: String) -> String { stage.appendingPathComponent(path).path }
        for file in [
            "etc/systemd/system/warncastd.service", "etc/systemd/system/warncast-receiver.service",
            "usr/local/share/doc/warncast/operations.md", "etc/warncast/warncast.yaml",
            "etc/warncast-receiver/warncast-receiver.yaml",
        ] {
            #expect(FileManager.default.fileExists(atPath: staged(file)), "\(file) staged")
        }

        // The node: what it writes goes to the unit's StateDirectory (ProtectSystem=strict
        // leaves nothing else writable), what it reads is beside its configuration.
        let unit = try String(contentsOfFile: staged("etc/systemd/system/warncastd.service"), encoding: .utf8)
        #expect(unit.contains("\nStateDirectory=warncast\n"))
        let node = try ConfigLoader.load(path: staged("etc/warncast/warncast.yaml"))
        #expect(node.store.dataDirectory == "/var/lib/warncast")
        #expect(node.dispatch.signingKeyFile == "/var/lib/warncast/signing-keys.json")
        let registryFiles = node.registries.regions.map(\.path) + [node.registries.departments].compactMap { $0 }
        #expect(!registryFiles.isEmpty)
        for file in registryFiles {
            #expect(file.hasPrefix(staged("etc/warncast/")) && FileManager.default.fileExists(atPath: file), "\(file)")
        }
        let check = try DaemonEndToEndTests.warncastd(
            ["--config", staged("etc/warncast/warncast.yaml"), "--check-config"], in: stage.deletingLastPathComponent())
        #expect(check.status == 0 && check.output.contains("configuration OK"), "\(check.output)")

        // The station.
        let stationUnit = try String(contentsOfFile: staged("etc/systemd/system/warncast-receiver.service"), encoding: .utf8)
        #expect(stationUnit.contains("\nStateDirectory=warncast-receiver\n"))
        let station = try ReceiverConfigLoader.load(path: staged("etc/warncast-receiver/warncast-receiver.yaml"))
        #expect(station.stateDirectory == "/var/lib/warncast-receiver")

        // Installing again (an upgrade) leaves the operator's edits alone.
        let nodeConfig = URL(fileURLWithPath: staged("etc/warncast/warncast.yaml"))
        let edited = try String(contentsOf: nodeConfig, encoding: .utf8) + "# edited by the operator\n"
        try edited.write(to: nodeConfig, atomically: true, encoding: .utf8)
        let again = try Self.make(into: stage)
        #expect(again.status == 0, "\(again.output)")
        #expect(try String(contentsOf: nodeConfig, encoding: .utf8) == edited)
    }
}
