import Crypto
import Foundation
import Testing
import WarncastCore
import WarncastDispatch
import WarncastNet
import WarncastTestSupport

/// The last mile with real processes: warncast-receiver stations (espeak-ng speaking into
/// WAV files) against a running warncastd.
@Suite("warncast-receiver stations against a running warncastd", .serialized, .ownThreads)
struct ReceiverEndToEndTests {
    static let stations = 50
    /// The red fixture's area: the villages of two townships of 长沙县.
    static let villages = (1...2).flatMap { township in (1...10).map { String(format: "430121%03d%03d", township, $0) } }

    static func name(_ index: Int) -> String { String(format: "rx-%02d", index) }

    /// A receiver's configuration in its own folder; dial-in unless a push port is given;
    /// `more` lines at the end; `listen`, more keys of the push listener.
    static func receiverConfig(
        in directory: URL, node: String, index: Int, push: Bool = false, output: String = "wav", listen: String = "",
        more: String = ""
    ) throws -> String {
        let folder = directory.appendingPathComponent(name(index))
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let text = """
            mode: \(push ? "push" : "dial-in")
            node: \(node)
            terminal: \(name(index))
            secret: secret-\(index)
            state_dir: \(folder.path)/state
            output: \(output)
            heartbeat_seconds: 1
            \(push ? "listen: { host: 127.0.0.1, port: 0\(listen.isEmpty ? "" : ", " + listen) }" : "")
            \(more)
            """
        let path = folder.appendingPathComponent("receiver.yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func start(
        _ index: Int, in directory: URL, node: String, push: Bool = false, output: String = "wav", listen: String = "",
        more: String = "", environment: [String: String] = [:]
    ) throws -> PeerProcess {
        let config = try receiverConfig(in: directory, node: node, index: index, push: push, output: output, listen: listen, more: more)
        return try PeerProcess(
            name(index), executable: Binaries.directory.appendingPathComponent("warncast-receiver").path,
            arguments: ["--config", config], directory: directory, environment: environment)
    }

    /// The address a push-mode station listens on, from its log.
    static func listeningURL(_ station: PeerProcess) throws -> String {
        #expect(Self.waitFor(30) { station.log.contains("listening on http://") }, "\(station.log)")
        let line = try #require(station.log.split(separator: "\n").first { $0.hasPrefix("listening on ") })
        return String(line.dropFirst("listening on ".count))
    }

    static func wavs(_ index: Int, in directory: URL) -> [URL] {
        let folder = directory.appendingPathComponent(name(index)).appendingPathComponent("state/wav")
        return ((try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? [])
            .filter { $0.pathExtension == "wav" }
    }

    /// How many broadcasts a station's log (since it was last started) records.
    static func plays(_ station: PeerProcess) -> Int {
        station.log.components(separatedBy: "broadcast played").count - 1
    }

    /// sox's length in seconds and RMS amplitude of a WAV file.
    static func soxStat(_ file: URL) throws -> (seconds: Double, rms: Double) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sox")
        process.arguments = [file.path, "-n", "stat"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        func value(_ label: String) -> Double {
            text.split(separator: "\n").first { $0.hasPrefix(label) }.flatMap {
                Double($0.split(separator: ":").last!.trimmingCharacters(in: .whitespaces))
            }
                ?? 0
        }
        return (value("Length (seconds)"), value("RMS     amplitude"))
    }

    static func waitFor(_ seconds: TimeInterval, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return try condition()
    }

    struct Report: Decodable {
        var tiers: [RollupEntry]
        var terminalsAtRelease: [String: String]?
    }

    struct Terminals: Decodable {
        var online: Int
        var offline: Int
        var terminals: [TerminalView]
    }

    @Test(
        "50 stations dial in and each speaks the red warning once; 5 stopped show offline before the next one, and get it when they are back"
    )
    func fleet() throws {
        let directory = try TestSupport.temporaryDirectory()
        let rows = (0..<Self.stations).map { "\(Self.name($0)),loudspeaker,\(Self.villages[$0 % 20]),大喇叭 \($0),dial-in,secret-\($0)," }
        let config = try testConfiguration(
            in: directory, recipients: rows.joined(separator: "\n") + "\n", channels: "", red: [],
            // Missed heartbeats take 60 s to count: a station shows offline sooner only by saying `off`.
            replacing: ["  routing:\n": "  terminals: { heartbeat_seconds: 1, offline_after: 60 }\n  routing:\n"])
        let daemon = try DaemonProcess(config: config, directory: directory)
        defer { _ = daemon.stop() }
        let auditor = try Binaries.createToken(["--role", "auditor", "--region", "430121", "--name", "审计"], config: config)
        var stations = try (0..<Self.stations).map { try Self.start($0, in: directory, node: daemon.url) }
        defer { for station in stations { station.stop() } }
        func terminals(_ query: String = "") throws -> Terminals {
            try JSONDecoder().decode(Terminals.self, from: try daemon.api("GET", "/v1/terminals\(query)", token: auditor).body)
        }
        #expect(try Self.waitFor(90) { try terminals().online == Self.stations }, "every station heartbeats")

        let (first, _) = try daemon.releaseCountyRed(config: config)
        #expect(
            try Self.waitFor(240) { try daemon.deliveries(of: first, token: auditor).summary["played"] == Self.stations },
            "every delivery played")
        for index in 0..<Self.stations {
            let files = Self.wavs(index, in: directory)
            #expect(Self.plays(stations[index]) == 1 && files.count == 1, "\(Self.name(index)) played it once: \(files)")
            if let file = files.first {
                let stat = try Self.soxStat(file)
                // Three times (red) a sentence or two of speech, not silence.
                #expect(stat.seconds > 3 && stat.seconds < 300 && stat.rms > 0.01, "\(file.lastPathComponent): \(stat)")
            }
        }
        let report = try JSONDecoder().decode(
            Report.self, from: try daemon.api("GET", "/v1/warnings/\(first)/report?depth=village", token: auditor).body)
        let county = try #require(report.tiers.first { $0.region.rawValue == "430121" })
        #expect(county.delivered == Self.stations && county.heard == Self.stations)
        #expect(report.terminalsAtRelease?["offline"] == "0")

        // Five stations stop: each says `off` and exits by itself, and is offline before the next
        // warning. The first gets SIGTERM twice, as under `make run-receiver` when the process
        // group is signalled (make passes it on): still one graceful stop.
        for index in 0..<5 {
            #expect(
                stations[index].stopGracefully(within: 15, signals: index == 0 ? 2 : 1) == 0, "\(Self.name(index)) exits 0 on SIGTERM")
        }
        // The repeat is logged when the station took the first before the second came; on a
        // busy machine the kernel may merge the two. Either way it is no stop at once.
        #expect(!stations[0].log.contains("stopping now"), "\(stations[0].log)")
        #expect(try Self.waitFor(20) { try terminals("?offline=true").terminals.map(\.id) == (0..<5).map(Self.name) })
        let listed = try Binaries.warncast(["terminals", "--offline", "--url", daemon.url, "--token", auditor], config: config)
        #expect(listed.out.contains("rx-04") && listed.out.contains("45 online, 5 offline"), "\(listed.out)")

        let issuer = try Binaries.createToken(["--role", "issuer", "--department", "csx-weather", "--name", "值班员二"], config: config)
        let leader = try Binaries.createToken(
            ["--role", "approver", "--department", "csx-weather", "--name", "带班领导二", "--approval-role", "duty-leader"], config: config)
        let government = try Binaries.createToken(
            ["--role", "approver", "--region", "430121", "--name", "副县长二", "--approval-role", "government-leader"], config: config)
        let second = TestSupport.fixture("rainstorm-red-csx.xml").replacingIdentifier(with: "csx-weather-20260701-0002")
        let submitted = try daemon.api("POST", "/v1/warnings", token: issuer, body: second, type: "application/cap+xml")
        let secondID = try #require(jsonID(submitted.body), "\(String(decoding: submitted.body, as: UTF8.self))")
        let queue = try Binaries.warncast(["approvals", "list", "--url", daemon.url, "--token", leader], config: config)
        #expect(queue.out.contains("terminals: 45 of 50 online, 5 offline"), "\(queue.out)")
        for token in [leader, government] {
            #expect(try daemon.api("POST", "/v1/warnings/\(secondID)/approve", token: token).status == 200)
        }
        #expect(try Self.waitFor(240) { try daemon.deliveries(of: secondID, token: auditor).summary["played"] == 45 })
        let away = try daemon.deliveries(of: secondID, token: auditor).byRecipient
        // Not played; the node learns a connection is gone when a write to it fails, so the
        // first push to each may still be waiting for its acknowledgement (one attempt).
        let awayStates = (0..<5).map { "\(away[Self.name($0)]?["state"] ?? "-")/\(away[Self.name($0)]?["attempts"] ?? "-")" }
        #expect(awayStates.allSatisfy { ["queued/0", "queued/1", "sending/1"].contains($0) }, "waiting: \(awayStates)")

        for index in 0..<5 { stations[index] = try Self.start(index, in: directory, node: daemon.url) }
        #expect(
            try Self.waitFor(120) { try daemon.deliveries(of: secondID, token: auditor).summary["played"] == Self.stations },
            "the five get the warning released while they were away")
        for index in 0..<Self.stations {
            // The five restarted have a new log, with the second warning only.
            #expect(Self.plays(stations[index]) == (index < 5 ? 1 : 2), "\(Self.name(index)): each warning once")
            #expect(Self.wavs(index, in: directory).count == 2, "\(Self.name(index)): a file per warning")
        }
        let secondReport = try JSONDecoder().decode(
            Report.self, from: try daemon.api("GET", "/v1/warnings/\(secondID)/report?depth=village", token: auditor).body)
        #expect(secondReport.terminalsAtRelease?["offline"] == "5", "who was offline as it went out")
        #expect(secondReport.tiers.first { $0.region.rawValue == "430121" }?.heard == Self.stations)
        let timeline = try Binaries.warncast(["timeline", secondID, "--url", daemon.url, "--token", auditor], config: config)
        #expect(timeline.out.contains("terminals at release\t45 of 50 online"), "\(timeline.out)")
    }

    @Test(
        "a station refuses an unsigned message, an unknown key and a stale timestamp, and plays a replay only once; it closes a connection that asks nothing and takes at most listen.max_connections at once"
    )
    func refusals() throws {
        let directory = try TestSupport.temporaryDirectory()
        let config = try testConfiguration(
            in: directory, recipients: "rx-00,loudspeaker,430121001001,大喇叭,http://127.0.0.1:9/,secret-0,\n", channels: "", red: [])
        let daemon = try DaemonProcess(config: config, directory: directory)
        defer { _ = daemon.stop() }
        let station = try Self.start(0, in: directory, node: daemon.url, push: true, listen: "idle_timeout_seconds: 2, max_connections: 2")
        defer { station.stop() }
        let url = try Self.listeningURL(station)
        // A connection that asks nothing is closed after the station's idle time.
        let port = try #require(Int(url.split(separator: ":").last ?? ""))
        let silent = try #require(RawHTTP.Connection(port: port))
        let opened = Date()
        #expect(silent.read(within: 10) == nil, "closed (end of file)")
        #expect(Date().timeIntervalSince(opened) < 6, "after about two seconds")
        // Two connections held: a third waits, unanswered, until the idle ones are closed.
        let held = [RawHTTP.Connection(port: port), RawHTTP.Connection(port: port)]
        #expect(held.allSatisfy { $0 != nil })
        Thread.sleep(forTimeInterval: 0.3)
        let third = try #require(RawHTTP.Connection(port: port))
        third.send("GET /nothing HTTP/1.1\r\nHost: station\r\n\r\n")
        #expect(third.read(within: 1) == "", "not taken while two connections are held")
        let answer = third.read(within: 10)
        #expect(answer?.hasPrefix("HTTP/1.1 ") == true, "answered once the idle ones are closed: \(answer ?? "end of file")")

        let key = "w-test/rx-00"
        let body = Data(
            #"{"cap":"","event":"rainstorm","headline":"测试","idempotencyKey":"\#(key)","language":"zh-CN","level":"red","msgType":"Alert","repeat":1,"text":"这是一次测试。","warning":"w-test"}"#
                .utf8)
        func post(_ headers: [String]) throws -> (status: Int, body: String) {
            let result = try CurlTransfer.perform(
                HTTPRequestSpec(method: "POST", url: url + "/", headers: ["Content-Type: application/json"] + headers, body: body))
            return (result.status, String(decoding: result.body, as: UTF8.self))
        }
        let nodeKeys = try SigningKeyring.load(path: directory.appendingPathComponent("data/signing-keys.json").path).signer()
        let now = Date()

        let elsewhere = "w-test/rx-01"
        let bodyElsewhere = Data(String(decoding: body, as: UTF8.self).replacingOccurrences(of: key, with: elsewhere).utf8)
        let forOther = try CurlTransfer.perform(
            HTTPRequestSpec(
                method: "POST", url: url + "/",
                headers: ["Content-Type: application/json"]
                    + (try nodeKeys.headers(body: bodyElsewhere, idempotencyKey: elsewhere, timestamp: Timestamp.string(now))),
                body: bodyElsewhere))
        #expect(
            forOther.status == 401 && String(decoding: forOther.body, as: UTF8.self).contains("other_terminal"), "another village's message"
        )
        let unsigned = try post(["Idempotency-Key: \(key)"])
        #expect(unsigned.status == 401 && unsigned.body.contains("unsigned"))
        // Refused on its headers, its body unread however large (a read body over the
        // station's 1 MiB would be 413).
        let flood = try CurlTransfer.perform(
            HTTPRequestSpec(
                method: "POST", url: url + "/", headers: ["Content-Type: application/json", "Idempotency-Key: \(key)"],
                body: Data(repeating: 0x20, count: 5 << 20)))
        #expect(flood.status == 401 && String(decoding: flood.body, as: UTF8.self).contains("unsigned"), "\(flood.status)")
        let stranger = MessageSigner(key: Curve25519.Signing.PrivateKey())
        let unknown = try post(try stranger.headers(body: body, idempotencyKey: key, timestamp: Timestamp.string(now)))
        #expect(unknown.status == 401 && unknown.body.contains("unknown_key"))
        let stale = try post(
            try nodeKeys.headers(body: body, idempotencyKey: key, timestamp: Timestamp.string(now.addingTimeInterval(-600))))
        #expect(stale.status == 401 && stale.body.contains("stale"))

        let signed = try nodeKeys.headers(body: body, idempotencyKey: key, timestamp: Timestamp.string(now))
        let good = try post(signed)
        #expect(good.status == 200 && good.body.contains(#""ack":true"#))
        let replay = try post(signed)
        #expect(replay.status == 200, "a repeat is acknowledged again")
        #expect(Self.waitFor(30) { Self.plays(station) == 1 })
        Thread.sleep(forTimeInterval: 2)
        // Had any refused message been queued it would have played before the good one.
        #expect(Self.plays(station) == 1 && Self.wavs(0, in: directory).count == 1, "nothing refused played, the replay not again")
    }
}

extension ReceiverEndToEndTests {
    @Test(
        "a station stopping finishes the warning it is playing; a second SIGTERM later stops it at once, and the warning cut short plays at the next start"
    )
    func secondSignalWhilePlaying() throws {
        let directory = try TestSupport.temporaryDirectory()
        let config = try testConfiguration(
            in: directory, recipients: "rx-00,loudspeaker,430121001001,大喇叭,http://127.0.0.1:9/,secret-0,\n", channels: "", red: [])
        let daemon = try DaemonProcess(config: config, directory: directory)
        defer { _ = daemon.stop() }
        // A sound device that takes 20 s to play anything: `aplay` first on PATH, writing its
        // pid when it starts.
        let devices = directory.appendingPathComponent("slow-device")
        try FileManager.default.createDirectory(at: devices, withIntermediateDirectories: true)
        let started = directory.appendingPathComponent("aplay-started")
        let aplay = devices.appendingPathComponent("aplay")
        try """
        #!/bin/sh
        [ "$1" = "-l" ] && { echo "card 0: Slow [Slow], device 0: Slow [Slow]"; exit 0; }
        echo $$ > '\(started.path)'
        exec sleep 20
        """.write(to: aplay, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: aplay.path)
        let path = devices.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let station = try Self.start(0, in: directory, node: daemon.url, push: true, output: "alsa", environment: ["PATH": path])
        defer { station.stop() }
        let url = try Self.listeningURL(station)

        let key = "w-cut/rx-00"
        let body = Data(
            #"{"cap":"","event":"rainstorm","headline":"测试","idempotencyKey":"\#(key)","language":"zh-CN","level":"red","msgType":"Alert","repeat":1,"text":"这是一次测试。","warning":"w-cut"}"#
                .utf8)
        let nodeKeys = try SigningKeyring.load(path: directory.appendingPathComponent("data/signing-keys.json").path).signer()
        let pushed = try CurlTransfer.perform(
            HTTPRequestSpec(
                method: "POST", url: url + "/",
                headers: ["Content-Type: application/json"]
                    + (try nodeKeys.headers(body: body, idempotencyKey: key, timestamp: Timestamp.string(Date()))),
                body: body))
        #expect(pushed.status == 200, "\(String(decoding: pushed.body, as: UTF8.self))")
        try #require(Self.waitFor(30) { FileManager.default.fileExists(atPath: started.path) }, "playing began: \(station.log)")

        station.send(SIGTERM)
        Thread.sleep(forTimeInterval: 1.5)
        #expect(station.isRunning, "still stopping gracefully: the warning playing is finished first")
        let second = Date()
        #expect(station.stopGracefully(within: 5) == 1, "\(station.log)")
        #expect(Date().timeIntervalSince(second) < 3, "stopped at once")
        #expect(station.log.contains("second signal while shutting down: stopping now"), "\(station.log)")
        #expect(Self.plays(station) == 0)
        let player = try #require(
            pid_t(String(decoding: try Data(contentsOf: started), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(Self.waitFor(2) { kill(player, 0) != 0 }, "the player was stopped with the station, not left playing")

        // Back with a working output: the warning cut short is still queued, and plays once.
        let again = try Self.start(0, in: directory, node: daemon.url, push: true)
        defer { again.stop() }
        #expect(Self.waitFor(60) { Self.plays(again) == 1 }, "\(again.log)")
        Thread.sleep(forTimeInterval: 1)
        #expect(Self.plays(again) == 1 && Self.wavs(0, in: directory).count >= 1)
    }
}

extension Data {
    /// The CAP fixture with another `<identifier>`, as a second warning.
    func replacingIdentifier(with identifier: String) -> Data {
        let text = String(decoding: self, as: UTF8.self)
        guard let start = text.range(of: "<identifier>"), let end = text.range(of: "</identifier>") else { return self }
        return Data((text[..<start.upperBound] + identifier + text[end.lowerBound...]).utf8)
    }
}
