import Foundation
import Testing
import WarncastNet
import WarncastTestSupport

/// warncastd behind nginx terminating TLS, configured from `config/nginx-warncast.example.conf`
/// as docs/operations.md says, with a private CA: how a node is run in production.
@Suite("warncastd behind nginx over TLS", .serialized, .ownThreads)
struct TLSProxyEndToEndTests {
    /// A private CA and a certificate for 127.0.0.1 signed by it, in `directory`.
    static func makeCertificates(in directory: URL) throws {
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try PeerProcess.run(
            "/usr/bin/openssl",
            ["req", "-x509"] + ec + ["-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Warncast test CA"],
            in: directory)
        try PeerProcess.run(
            "/usr/bin/openssl", ["req"] + ec + ["-keyout", "node-key.pem", "-out", "node.csr", "-subj", "/CN=127.0.0.1"], in: directory)
        try "subjectAltName=IP:127.0.0.1\n".write(to: directory.appendingPathComponent("san.ext"), atomically: true, encoding: .utf8)
        try PeerProcess.run(
            "/usr/bin/openssl",
            [
                "x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial", "-out", "node.pem", "-days",
                "2",
                "-extfile", "san.ext",
            ], in: directory)
    }

    /// A certificate for terminal `name` (its CN), issued by a terminals' CA in `directory`
    /// (`terminals-ca.pem`, made with the first): `<name>.pem` and `<name>-key.pem`.
    static func makeTerminalCertificate(_ name: String, in directory: URL) throws {
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        if !FileManager.default.fileExists(atPath: directory.appendingPathComponent("terminals-ca.pem").path) {
            try PeerProcess.run(
                "/usr/bin/openssl",
                ["req", "-x509"] + ec + [
                    "-keyout", "terminals-ca-key.pem", "-out", "terminals-ca.pem", "-days", "2", "-subj", "/CN=Warncast test terminals CA",
                ],
                in: directory)
            try "extendedKeyUsage=clientAuth\n".write(to: directory.appendingPathComponent("client.ext"), atomically: true, encoding: .utf8)
        }
        try PeerProcess.run(
            "/usr/bin/openssl",
            ["req"] + ec + ["-keyout", "\(name)-key.pem", "-out", "\(name).csr", "-subj", "/O=Village stations/CN=\(name)"],
            in: directory)
        try PeerProcess.run(
            "/usr/bin/openssl",
            [
                "x509", "-req", "-in", "\(name).csr", "-CA", "terminals-ca.pem", "-CAkey", "terminals-ca-key.pem", "-CAcreateserial",
                "-out",
                "\(name).pem", "-days", "2", "-extfile", "client.ext",
            ], in: directory)
    }

    /// nginx in the foreground with the example site: listening on 127.0.0.1:`port`,
    /// forwarding to warncastd at `upstream`, with the certificates of `makeCertificates`;
    /// with `terminalsCA`, its three lines for terminal certificates uncommented.
    static func startNginx(in directory: URL, port: Int, upstream: Int, terminalsCA: String? = nil) throws -> PeerProcess {
        var site = try String(
            contentsOf: TestSupport.root.appendingPathComponent("config/nginx-warncast.example.conf"), encoding: .utf8)
        if let terminalsCA {
            for (old, new) in [
                ("#ssl_client_certificate /etc/ssl/warncast/terminals-ca.pem;", "ssl_client_certificate \(terminalsCA);"),
                ("#ssl_verify_client optional;", "ssl_verify_client optional;"),
                ("#if ($terminal_certificate_refused)", "if ($terminal_certificate_refused)"),
            ] {
                #expect(site.contains(old), "the example site has \(old)")
                site = site.replacingOccurrences(of: old, with: new)
            }
        }
        for (old, new) in [
            ("listen 443 ssl;", "listen 127.0.0.1:\(port) ssl;"),
            ("listen [::]:443 ssl;", ""),
            ("/etc/ssl/warncast/fullchain.pem", directory.appendingPathComponent("node.pem").path),
            ("/etc/ssl/warncast/privkey.pem", directory.appendingPathComponent("node-key.pem").path),
            ("server 127.0.0.1:8080;", "server 127.0.0.1:\(upstream);"),
        ] {
            #expect(site.contains(old), "the example site has \(old)")
            site = site.replacingOccurrences(of: old, with: new)
        }
        let work = directory.path
        let conf = """
            daemon off;
            master_process off;
            pid \(work)/nginx.pid;
            error_log \(work)/nginx-error.log warn;
            events { worker_connections 256; }
            http {
                access_log off;
                client_body_temp_path \(work)/nginx-body;
                proxy_temp_path \(work)/nginx-proxy;
                fastcgi_temp_path \(work)/nginx-fastcgi;
                uwsgi_temp_path \(work)/nginx-uwsgi;
                scgi_temp_path \(work)/nginx-scgi;
            \(site)
            }
            """
        let path = directory.appendingPathComponent("nginx.conf").path
        try conf.write(toFile: path, atomically: true, encoding: .utf8)
        let nginx = try PeerProcess(
            "nginx", executable: "/usr/sbin/nginx", arguments: ["-c", path, "-p", work, "-e", "\(work)/nginx-error.log"],
            directory: directory)
        let deadline = Date().addingTimeInterval(10)
        while !PeerProcess.accepts(port: port) && nginx.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        return nginx
    }

    @Test(
        "a station with the private CA as ca_bundle pins the keys over https, dials in through nginx and plays the warning; without it, it refuses the node; a sign-in is audited with the client's address"
    )
    func stationOverTLS() throws {
        let directory = try TestSupport.temporaryDirectory()
        try Self.makeCertificates(in: directory)
        let config = try testConfiguration(
            in: directory,
            recipients: "rx-00,loudspeaker,430121001001,大喇叭 0,dial-in,secret-0,\nrx-01,loudspeaker,430121001002,大喇叭 1,dial-in,secret-1,\n",
            channels: "", red: [], replacing: ["  max_body_bytes:": "  trusted_proxies: [127.0.0.1]\n  max_body_bytes:"])
        let daemon = try DaemonProcess(config: config, directory: directory)
        defer { _ = daemon.stop() }
        let port = PeerProcess.freePort()
        let nginx = try Self.startNginx(in: directory, port: port, upstream: daemon.port)
        defer { nginx.stop() }
        let nginxErrors = { (try? String(contentsOf: directory.appendingPathComponent("nginx-error.log"), encoding: .utf8)) ?? "" }
        try #require(PeerProcess.accepts(port: port), "nginx listens: \(nginx.log) \(nginxErrors())")
        let node = "https://127.0.0.1:\(port)"
        let ca = directory.appendingPathComponent("ca.pem").path

        let trusting = try ReceiverEndToEndTests.start(0, in: directory, node: node, more: "ca_bundle: \(ca)")
        defer { trusting.stop() }
        // The same station without the CA: the system's bundle does not know it.
        let doubting = try ReceiverEndToEndTests.start(1, in: directory, node: node)
        defer { doubting.stop() }
        let auditor = try Binaries.createToken(["--role", "auditor", "--region", "430121", "--name", "审计"], config: config)
        struct Terminals: Decodable { var online: Int }
        #expect(
            try ReceiverEndToEndTests.waitFor(60) {
                try JSONDecoder().decode(Terminals.self, from: try daemon.api("GET", "/v1/terminals", token: auditor).body).online == 1
            }, "the station with the CA heartbeats through nginx: \(trusting.log) \(nginxErrors())")

        let (id, _) = try daemon.releaseCountyRed(config: config)
        #expect(
            try ReceiverEndToEndTests.waitFor(120) {
                try daemon.deliveries(of: id, token: auditor).byRecipient["rx-00"]?["state"] as? String == "played"
            },
            "played through the TLS stream: \(trusting.log) \(nginxErrors())")
        #expect(ReceiverEndToEndTests.plays(trusting) == 1 && ReceiverEndToEndTests.wavs(0, in: directory).count == 1)
        #expect(!trusting.log.contains("over plain http"), "keys pinned over verified https")
        #expect(ReceiverEndToEndTests.plays(doubting) == 0)
        #expect(doubting.log.lowercased().contains("certificate"), "the station says why it cannot reach the node: \(doubting.log)")
        #expect(try daemon.deliveries(of: id, token: auditor).byRecipient["rx-01"]?["state"] as? String != "played")

        // A wrong password through nginx from 127.0.0.5, claiming to come from elsewhere: nginx
        // replaces the claim, and the audit names 127.0.0.5, not nginx's address.
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = [
            "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", ca, "--interface", "127.0.0.5", "-H",
            "Content-Type: application/json", "-H", "X-Forwarded-For: 198.51.100.1",
            "--data", #"{"username":"zhang3","password":"wrong"}"#, "\(node)/console/session",
        ]
        let answer = Pipe()
        curl.standardOutput = answer
        try curl.run()
        curl.waitUntilExit()
        #expect(String(decoding: answer.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == "401")
        // The metrics are warncastd's to Prometheus, not nginx's to the world.
        for path in ["/metrics", "/metrics/", "//metrics", "/metrics?x=1"] {
            let metrics = Process()
            metrics.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            metrics.arguments = ["-s", "--path-as-is", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", ca, "\(node)\(path)"]
            let metricsAnswer = Pipe()
            metrics.standardOutput = metricsAnswer
            try metrics.run()
            metrics.waitUntilExit()
            #expect(String(decoding: metricsAnswer.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == "404", "\(path)")
        }
        #expect(try CurlTransfer.perform(HTTPRequestSpec(url: daemon.url + "/metrics")).status == 200)
        let audit = try Binaries.warncast(["audit", "list", "--limit", "1000"], config: config).out
        let refused = audit.split(separator: "\n").filter { $0.contains("user.sign_in_refused") }
        #expect(refused.count == 1 && refused.allSatisfy { $0.contains("127.0.0.5") && !$0.contains("198.51.100.1") }, "\(refused)")

        // The CLI through nginx: the private CA with --ca-bundle or $WARNCAST_CA_BUNDLE; without
        // it, the error says what to give.
        let through = ["--url", node, "--token", auditor]
        let untrusted = try Binaries.warncast(["terminals"] + through, config: config)
        #expect(untrusted.status != 0 && untrusted.err.contains("--ca-bundle"), "\(untrusted.err)")
        let trusted = try Binaries.warncast(["terminals", "--ca-bundle", ca] + through, config: config)
        #expect(trusted.status == 0 && trusted.out.contains("rx-00"), "\(trusted.err)")
        let fromEnvironment = try Binaries.warncast(["terminals"] + through, config: config, environment: ["WARNCAST_CA_BUNDLE": ca])
        #expect(fromEnvironment.status == 0 && fromEnvironment.out.contains("rx-00"), "\(fromEnvironment.err)")
        let export = directory.appendingPathComponent("audit.csv").path
        let exported = try Binaries.warncast(
            ["audit", "export", "--kind", "audit", "--output", export, "--ca-bundle", ca] + through, config: config)
        #expect(exported.status == 0 && exported.out.contains("row(s) in"), "\(exported.err)")
        let junk = try Binaries.warncast(["terminals", "--ca-bundle", config] + through, config: config)
        #expect(junk.status != 0 && junk.err.contains("cannot read certificates"), "\(junk.err)")
    }

    @Test(
        "with terminal certificates on, nginx lets a station call as itself only with its own certificate; departments still need none"
    )
    func terminalCertificates() throws {
        let directory = try TestSupport.temporaryDirectory()
        try Self.makeCertificates(in: directory)
        for name in ["rx-00", "rx-01"] { try Self.makeTerminalCertificate(name, in: directory) }
        let config = try testConfiguration(
            in: directory,
            recipients: (0..<3).map { "rx-0\($0),loudspeaker,43012100100\($0 + 1),大喇叭 \($0),dial-in,secret-\($0),\n" }.joined(),
            channels: "", red: [], replacing: ["  max_body_bytes:": "  trusted_proxies: [127.0.0.1]\n  max_body_bytes:"])
        let daemon = try DaemonProcess(config: config, directory: directory)
        defer { _ = daemon.stop() }
        let port = PeerProcess.freePort()
        let nginx = try Self.startNginx(
            in: directory, port: port, upstream: daemon.port, terminalsCA: directory.appendingPathComponent("terminals-ca.pem").path)
        defer { nginx.stop() }
        let nginxErrors = { (try? String(contentsOf: directory.appendingPathComponent("nginx-error.log"), encoding: .utf8)) ?? "" }
        try #require(PeerProcess.accepts(port: port), "nginx listens: \(nginx.log) \(nginxErrors())")
        let node = "https://127.0.0.1:\(port)"
        let ca = directory.appendingPathComponent("ca.pem").path
        func certificate(_ name: String) -> String {
            "client_certificate: \(directory.appendingPathComponent("\(name).pem").path)\nclient_key: \(directory.appendingPathComponent("\(name)-key.pem").path)"
        }
        // Its own certificate; another station's; none.
        let own = try ReceiverEndToEndTests.start(0, in: directory, node: node, more: "ca_bundle: \(ca)\n\(certificate("rx-00"))")
        defer { own.stop() }
        let borrowed = try ReceiverEndToEndTests.start(1, in: directory, node: node, more: "ca_bundle: \(ca)\n\(certificate("rx-00"))")
        defer { borrowed.stop() }
        let without = try ReceiverEndToEndTests.start(2, in: directory, node: node, more: "ca_bundle: \(ca)")
        defer { without.stop() }

        let auditor = try Binaries.createToken(["--role", "auditor", "--region", "430121", "--name", "审计"], config: config)
        struct Terminal: Decodable {
            var id: String
            var online: Bool
        }
        struct Terminals: Decodable { var terminals: [Terminal] }
        #expect(
            try ReceiverEndToEndTests.waitFor(60) {
                try JSONDecoder().decode(Terminals.self, from: try daemon.api("GET", "/v1/terminals", token: auditor).body).terminals
                    .filter(\.online).map(\.id) == ["rx-00"]
            }, "only the station with its own certificate heartbeats: \(own.log) \(nginxErrors())")
        let (id, _) = try daemon.releaseCountyRed(config: config)
        #expect(
            try ReceiverEndToEndTests.waitFor(120) {
                try daemon.deliveries(of: id, token: auditor).byRecipient["rx-00"]?["state"] as? String == "played"
            }, "played through nginx with its certificate: \(own.log) \(nginxErrors())")
        // Long enough for the others to have dialled and heartbeat several times, had they got through.
        Thread.sleep(forTimeInterval: 2)
        for (station, index) in [(borrowed, 1), (without, 2)] {
            #expect(ReceiverEndToEndTests.plays(station) == 0)
            #expect(station.log.contains("terminal_certificate"), "nginx's refusal is in the station's log: \(station.log)")
            #expect(try daemon.deliveries(of: id, token: auditor).byRecipient["rx-0\(index)"]?["state"] as? String == "queued")
        }
        // A department's call through the same nginx needs no certificate.
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = [
            "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", ca, "-H", "Authorization: Bearer \(auditor)",
            "\(node)/v1/terminals",
        ]
        let answer = Pipe()
        curl.standardOutput = answer
        try curl.run()
        curl.waitUntilExit()
        #expect(String(decoding: answer.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == "200")
    }
}
