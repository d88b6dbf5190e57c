import Foundation
import GRDB
import Testing
import WarncastNet
import WarncastTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The whole path as an operator walks it: start warncastd, create a token with the CLI,
/// submit with the CLI, read back, stop, verify the audit log.
@Suite("warncastd and warncast as processes", .serialized, .ownThreads)
struct DaemonEndToEndTests {
    @Test("start the daemon, create a token, submit, read back, stop gracefully, verify the audit chain")
    func wholePath() throws {
        let directory = try TestSupport.temporaryDirectory()
        let config = try testConfiguration(in: directory)
        let notify = try NotifySocket(directory: directory)
        let daemon = try DaemonProcess(
            config: config, directory: directory,
            environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "200000"])
        let signals = notify.messages(within: 0.5)
        #expect(signals.contains("READY=1"))
        #expect(signals.contains("WATCHDOG=1"))

        let created = try Binaries.warncast(
            ["token", "create", "--role", "issuer", "--department", "csx-weather", "--name", "值班员 张三"], config: config)
        #expect(created.status == 0, "\(created.err)")
        let token = created.out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("wct_"))

        let fixture = TestSupport.fixtures.appendingPathComponent("rainstorm-red-csx.xml").path
        let submitted = try Binaries.warncast(
            ["warnings", "submit", fixture, "--url", daemon.url, "--token", token], config: config)
        #expect(submitted.status == 0, "\(submitted.out)\(submitted.err)")
        let accepted = try JSONSerialization.jsonObject(with: Data(submitted.out.utf8)) as? [String: Any]
        let id = try #require(accepted?["id"] as? String)
        #expect(accepted?["status"] as? String == "pending_approval")

        let shown = try Binaries.warncast(["warnings", "show", id, "--url", daemon.url, "--token", token], config: config)
        #expect(shown.status == 0)
        #expect(shown.out.contains("长沙县气象局发布暴雨红色预警信号"))

        // An operator asks to resend; nothing has failed yet, so nothing is queued, and the
        // request is on record with its reason.
        let operatorToken = try Binaries.warncast(
            ["token", "create", "--role", "operator", "--region", "430121", "--name", "值班员 王五", "--expires", "1d"], config: config
        ).out.trimmingCharacters(in: .whitespacesAndNewlines)
        let resent = try Binaries.warncast(
            ["warnings", "resend", id, "--reason", "网关恢复", "--url", daemon.url, "--token", operatorToken], config: config)
        #expect(resent.status == 0, "\(resent.out)\(resent.err)")
        #expect(resent.out.contains(#""resent":0"#))

        let hostile = TestSupport.fixtures.appendingPathComponent("refuse-xxe.xml").path
        let refused = try Binaries.warncast(["warnings", "submit", hostile, "--url", daemon.url, "--token", token], config: config)
        #expect(refused.status != 0)
        #expect(refused.out.contains("xml_doctype_forbidden"))

        let health = try CurlTransfer.perform(HTTPRequestSpec(url: daemon.url + "/healthz"))
        #expect(health.status == 200)

        #expect(daemon.stop(signal: SIGTERM) == 0)
        #expect(daemon.log.contains(#"msg="shutting down" signal=SIGTERM"#))
        #expect(daemon.log.contains("msg=stopped"))
        #expect(notify.messages(within: 0.2).contains("STOPPING=1"))

        let verified = try Binaries.warncast(["audit", "verify"], config: config)
        #expect(verified.status == 0)
        #expect(verified.out.contains("audit log intact"))
        let listed = try Binaries.warncast(["audit", "list"], config: config)
        for action in ["regions.imported", "departments.imported", "config.loaded", "token.created", "warning.accepted", "warning.refused"]
        {
            #expect(listed.out.contains("\"action\":\"\(action)\""), "no \(action) in the audit log")
        }
    }

    @Test("SIGTERM twice within a second (a process group's, which make passes on) is one graceful stop, not a stop at once")
    func repeatedSignal() throws {
        let directory = try TestSupport.temporaryDirectory()
        let daemon = try DaemonProcess(config: try testConfiguration(in: directory), directory: directory)
        #expect(daemon.stop(signal: SIGTERM, times: 2) == 0, "\(daemon.log)")
        #expect(daemon.log.contains("msg=stopped"))
        #expect(!daemon.log.contains("stopping now"))
        #expect(daemon.log.contains("the same signal again within a second: still stopping gracefully"), "\(daemon.log)")
    }

    @Test("a second SIGTERM more than a second after the first stops at once, while a request in flight holds the graceful stop")
    func secondSignalStopsAtOnce() throws {
        // A loudspeaker that takes the connection and never answers: the request waits for
        // its 10 s timeout, and a graceful stop waits for the request.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(listener, pointer, length) == 0 && listen(listener, 16) == 0 && getsockname(listener, pointer, &length) == 0
            }
        }
        try #require(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let directory = try TestSupport.temporaryDirectory()
        let config = try testConfiguration(
            in: directory, recipients: "ls-hang,loudspeaker,430121001001,不答的大喇叭,http://127.0.0.1:\(port)/speaker,,\n",
            channels: "", red: [])
        let daemon = try DaemonProcess(config: config, directory: directory)
        defer { daemon.stop(signal: SIGKILL) }
        let (id, issuer) = try daemon.releaseCountyRed(config: config)
        var sending = false
        for _ in 0..<100 where !sending {
            sending = try daemon.deliveries(of: id, token: issuer).summary["sending"] == 1
            if !sending { Thread.sleep(forTimeInterval: 0.1) }
        }
        try #require(sending, "the request to the silent loudspeaker is in flight")

        kill(daemon.process.processIdentifier, SIGTERM)
        Thread.sleep(forTimeInterval: 1.5)
        #expect(daemon.process.isRunning, "still stopping gracefully: the request in flight has 10 s")
        let started = Date()
        #expect(daemon.stop(signal: SIGTERM) == 1)
        #expect(Date().timeIntervalSince(started) < 3, "stopped at once")
        #expect(daemon.log.contains("second signal while shutting down: stopping now"), "\(daemon.log)")
    }

    @Test(
        "report streams whose clients hang up before the answer give their places back; one token holds at most eight streams, another reader still gets one"
    )
    func reportStreamsHungUp() throws {
        let directory = try TestSupport.temporaryDirectory()
        let config = try testConfiguration(in: directory)
        let daemon = try DaemonProcess(config: config, directory: directory)
        defer { daemon.stop(signal: SIGKILL) }
        let (id, issuer) = try daemon.releaseCountyRed(config: config)
        let request = "GET /v1/warnings/\(id)/report/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(issuer)\r\n\r\n"
        // More clients than there are places, each resetting its connection as soon as the
        // request is out: the handler answers a connection already gone.
        for _ in 0..<120 { #expect(RawHTTP.send(request, port: daemon.port, reset: true) != nil) }
        Thread.sleep(forTimeInterval: 2)
        let head = RawHTTP.send(request, port: daemon.port, reset: false) ?? ""
        #expect(head.hasPrefix("HTTP/1.1 200"), "\(head)")

        // One token holds at most eight streams; another reader still gets one. (The stream
        // just read and closed gives its place back at one of its next writes, 2 s apart.)
        Thread.sleep(forTimeInterval: 5)
        let held = (0..<8).compactMap { _ in RawHTTP.Connection(port: daemon.port) }
        for connection in held {
            connection.send(request)
            #expect(connection.read(within: 5)?.hasPrefix("HTTP/1.1 200") == true)
        }
        let ninth = RawHTTP.send(request, port: daemon.port, reset: false) ?? ""
        #expect(ninth.hasPrefix("HTTP/1.1 503"), "\(ninth)")
        let auditor = try Binaries.createToken(["--role", "auditor", "--region", "430000", "--name", "审计员"], config: config)
        let other =
            RawHTTP.send(
                "GET /v1/warnings/\(id)/report/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(auditor)\r\n\r\n",
                port: daemon.port, reset: false) ?? ""
        #expect(other.hasPrefix("HTTP/1.1 200"), "\(other)")
        withExtendedLifetime(held) {}
    }

    @Test("a connection that asks nothing is closed after server.idle_timeout_seconds; a report stream being answered is not")
    func idleConnections() throws {
        let directory = try TestSupport.temporaryDirectory()
        let config = try testConfiguration(in: directory)
        try String(contentsOfFile: config, encoding: .utf8)
            .replacingOccurrences(of: "idle_timeout_seconds: 120", with: "idle_timeout_seconds: 2")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try DaemonProcess(config: config, directory: directory)
        defer { daemon.stop(signal: SIGKILL) }
        let (id, issuer) = try daemon.releaseCountyRed(config: config)
        let silent = try #require(RawHTTP.Connection(port: daemon.port))
        let stream = try #require(RawHTTP.Connection(port: daemon.port))
        stream.send("GET /v1/warnings/\(id)/report/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(issuer)\r\n\r\n")
        #expect(stream.read(within: 5)?.hasPrefix("HTTP/1.1 200") == true)
        let started = Date()
        #expect(silent.read(within: 10) == nil, "the silent connection is closed (end of file)")
        #expect(Date().timeIntervalSince(started) < 6, "after about two seconds")
        Thread.sleep(forTimeInterval: 2)
        #expect(stream.isOpen(within: 0.5), "the stream is still open after more than the idle time")
    }

    @Test("SIGTERM stops the daemon even when nobody reads the notify socket and its queue is full")
    func stopsWithFullNotifySocket() throws {
        let directory = try TestSupport.temporaryDirectory()
        let config = try testConfiguration(in: directory)
        // Bound, never read: the kernel queues ten datagrams, then a blocking send waits.
        let notify = try NotifySocket(directory: directory, reading: false)
        let daemon = try DaemonProcess(
            config: config, directory: directory, environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "100000"])
        Thread.sleep(forTimeInterval: 2)
        #expect(daemon.stop(signal: SIGTERM) == 0, "\(daemon.log)")
        #expect(daemon.log.contains("msg=stopped"))
    }

    @Test("a warning acknowledged with 201 survives kill -9, and verify finds a manual edit")
    func durableAndTamperEvident() throws {
        let directory = try TestSupport.temporaryDirectory()
        let config = try testConfiguration(in: directory)
        var daemon = try DaemonProcess(config: config, directory: directory)
        let token = try Binaries.warncast(
            ["token", "create", "--role", "issuer", "--department", "csx-weather", "--name", "tester"], config: config
        ).out.trimmingCharacters(in: .whitespacesAndNewlines)
        let fixture = TestSupport.fixtures.appendingPathComponent("rainstorm-red-csx.json").path
        let submitted = try Binaries.warncast(["warnings", "submit", fixture, "--url", daemon.url, "--token", token], config: config)
        #expect(submitted.status == 0)
        let id = try #require((try JSONSerialization.jsonObject(with: Data(submitted.out.utf8)) as? [String: Any])?["id"] as? String)

        daemon.stop(signal: SIGKILL)
        daemon = try DaemonProcess(config: config, directory: directory)
        let shown = try Binaries.warncast(["warnings", "show", id, "--url", daemon.url, "--token", token], config: config)
        #expect(shown.status == 0)
        #expect(shown.out.contains("\"id\":\"\(id)\""))
        daemon.stop()

        let database = directory.appendingPathComponent("data/warncast.sqlite").path
        let sequence = try DatabaseQueue(path: database).write { db -> Int64 in
            let target = try Int64.fetchOne(db, sql: "SELECT sequence FROM audit WHERE action = 'warning.accepted'")!
            try db.execute(sql: "DROP TRIGGER audit_no_update")
            try db.execute(sql: "UPDATE audit SET actor = 'someone else' WHERE sequence = ?", arguments: [target])
            return target
        }
        let verified = try Binaries.warncast(["audit", "verify"], config: config)
        #expect(verified.status != 0)
        #expect(verified.err.contains("BROKEN at entry \(sequence)"))
    }

    @Test("a bad configuration stops the daemon with a message naming the file and key")
    func badConfiguration() throws {
        let directory = try TestSupport.temporaryDirectory()
        let config = try testConfiguration(in: directory)
        let text = try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(of: "port: 0", with: "port: http")
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let (status, message) = try Self.warncastd(["--config", config], in: directory)
        #expect(status == 78)
        #expect(message.contains("\(config): server.port: expected a whole number"))
    }

    @Test("--check-config loads every registry and checks the channels, and creates nothing: no data directory, store or key")
    func checkConfigChangesNothing() throws {
        let directory = try TestSupport.temporaryDirectory()
        let config = try testConfiguration(in: directory)
        let (status, output) = try Self.warncastd(["--config", config, "--check-config"], in: directory)
        #expect(status == 0)
        #expect(output.contains("configuration OK"), "\(output)")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("data").path), "the data directory was made")
    }

    @Test("an upper node whose region this node's registry lacks stops the start naming cascade.upstream[0].region")
    func upstreamRegionMissing() throws {
        let directory = try TestSupport.temporaryDirectory()
        let config = try testConfiguration(in: directory)
        let text =
            try String(contentsOfFile: config, encoding: .utf8)
            + "\ncascade:\n  upstream:\n    - name: guangdong-centre\n      region: \"440000\"\n      public_keys: [\"\(Data(repeating: 1, count: 32).base64EncodedString())\"]\n"
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let (status, output) = try Self.warncastd(["--config", config, "--check-config"], in: directory)
        #expect(status == 78)
        #expect(output.contains("cascade.upstream[0].region: region 440000 of upper node 'guangdong-centre'"), "\(output)")
    }

    @Test("a channel with a missing adapter setting stops --check-config with exit 78 naming the setting")
    func badChannelSettings() throws {
        let directory = try TestSupport.temporaryDirectory()
        let config = try testConfiguration(in: directory)
        let text = try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(
            of: "  channels:\n",
            with:
                "  channels:\n    sms-duty:\n      adapter: kannel\n      settings: { url: \"http://127.0.0.1:13013/cgi-bin/sendsms\", username: warncast }\n"
        )
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let (status, output) = try Self.warncastd(["--config", config, "--check-config"], in: directory)
        #expect(status == 78)
        #expect(output.contains("dispatch.channels.sms-duty.settings.password: is required"), "\(output)")
    }

    /// Runs warncastd to its end with `arguments` (a bad configuration, `--check-config`):
    /// its exit status and everything it wrote, from a log file in `directory`.
    static func warncastd(_ arguments: [String], in directory: URL) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = Binaries.directory.appendingPathComponent("warncastd")
        process.arguments = arguments
        let log = directory.appendingPathComponent("run-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardError = handle
        process.standardOutput = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, try String(contentsOf: log, encoding: .utf8))
    }
}

/// A request written on a plain socket, for what a client library will not do.
enum RawHTTP {
    /// One connection to 127.0.0.1, kept open.
    final class Connection {
        let fd: Int32

        init?(port: Int) {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { return nil }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            guard connected else {
                close(fd)
                return nil
            }
        }

        deinit { close(fd) }

        func send(_ text: String) {
            let bytes = Array(text.utf8)
            _ = write(fd, bytes, bytes.count)
        }

        /// What arrives within `seconds`: "" when nothing did, nil at the end of file.
        func read(within seconds: Double) -> String? {
            var timeout = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1_000_000))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = Glibc.read(fd, &buffer, buffer.count)
            if count == 0 { return nil }
            return count < 0 ? "" : String(decoding: buffer[0..<count], as: UTF8.self)
        }

        /// Whether the other side has not closed it (no end of file within `seconds`).
        func isOpen(within seconds: Double) -> Bool { read(within: seconds) != nil }
    }

    /// Sends `request` to 127.0.0.1:`port`. With `reset`, closes the connection at once with
    /// a reset and returns ""; otherwise returns the first bytes of the answer (up to the end
    /// of its head or `within` seconds) and closes it. Nil when it cannot connect.
    static func send(_ request: String, port: Int, reset: Bool, within seconds: Double = 5) -> String? {
        guard let connection = Connection(port: port) else { return nil }
        connection.send(request)
        if reset {
            var linger = linger(l_onoff: 1, l_linger: 0)
            setsockopt(connection.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
            return ""
        }
        var answer = ""
        let deadline = Date().addingTimeInterval(seconds)
        while !answer.contains("\r\n\r\n"), Date() < deadline, let more = connection.read(within: seconds), !more.isEmpty {
            answer += more
        }
        return answer
    }
}
