import Crypto
import Foundation
import Testing
import WarncastNet
import WarncastTestSupport

/// Terminals behind NAT: they open the connection, warncastd pushes down it. The client is
/// curl reading the event stream, as a terminal's shell script could.
@Suite("Dial-in terminals against a running warncastd", .serialized, .ownThreads)
struct DialInEndToEndTests {
    /// The terminal's end: `curl -N` on its stream, everything it reads in its log.
    static func dial(_ daemon: DaemonProcess, terminal: String, secret: String, in directory: URL, name: String) throws -> PeerProcess {
        try PeerProcess(
            name, executable: "/usr/bin/curl",
            arguments: ["-sN", "-H", "Authorization: Bearer \(secret)", daemon.url + "/v1/terminals/\(terminal)/stream"],
            directory: directory)
    }

    /// The `warning` events read so far: idempotency key, headers and body.
    static func events(in log: String) -> [(key: String, headers: [String: String], body: Data)] {
        log.components(separatedBy: "\n\n").compactMap { block in
            let lines = block.split(separator: "\n")
            guard lines.contains("event: warning"),
                let data = lines.first(where: { $0.hasPrefix("data: ") })?.dropFirst(6),
                let object = try? JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any],
                let headers = object["headers"] as? [String: String],
                let body = (object["body"] as? String).flatMap({ Data(base64Encoded: $0) })
            else { return nil }
            return (headers["Idempotency-Key"] ?? "", headers, body)
        }
    }

    static func waitFor(_ seconds: TimeInterval, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return try condition()
    }

    @Test("a connected terminal gets the red warning signed, acknowledges it; one that was away gets it when it dials in")
    func dialIn() throws {
        let directory = try TestSupport.temporaryDirectory()
        let config = try testConfiguration(
            in: directory,
            recipients: """
                ls-near,loudspeaker,430121001001,一村大喇叭,dial-in,secret-near,
                ls-away,loudspeaker,430121002001,二村大喇叭,dial-in,secret-away,
                """, channels: "", red: [])
        let daemon = try DaemonProcess(config: config, directory: directory)
        defer { _ = daemon.stop() }
        let keys = try JSONDecoder().decode(
            [String: [[String: String]]].self,
            from: try CurlTransfer.perform(HTTPRequestSpec(url: daemon.url + "/.well-known/warncast-keys")).body)
        let publicKeys = Dictionary(uniqueKeysWithValues: (keys["keys"] ?? []).map { ($0["id"]!, Data(base64Encoded: $0["publicKey"]!)!) })

        let forged = try CurlTransfer.perform(
            HTTPRequestSpec(url: daemon.url + "/v1/terminals/ls-near/stream", headers: ["Authorization: Bearer guess"]))
        #expect(forged.status == 403 && String(decoding: forged.body, as: UTF8.self).contains("forged_terminal"))

        let near = try Self.dial(daemon, terminal: "ls-near", secret: "secret-near", in: directory, name: "near")
        defer { near.stop() }
        #expect(Self.waitFor(10) { near.log.contains(": connected") })
        let (id, _) = try daemon.releaseCountyRed(config: config)
        #expect(Self.waitFor(20) { !Self.events(in: near.log).isEmpty }, "\(near.log)")
        let event = try #require(Self.events(in: near.log).first)
        // Signed exactly as a push terminal's request: verify over the decoded body.
        let signed = Data("warncast-v1\n\(event.headers["Warncast-Timestamp"] ?? "")\n\(event.key)\n".utf8) + event.body
        let key = try #require(publicKeys[event.headers["Warncast-Key-Id"] ?? ""])
        let signature = try #require(Data(base64Encoded: event.headers["Warncast-Signature"] ?? ""))
        #expect(try Curve25519.Signing.PublicKey(rawRepresentation: key).isValidSignature(signature, for: signed))
        #expect(String(decoding: event.body, as: UTF8.self).contains(#""level":"red""#))

        let operatorToken = try Binaries.createToken(["--role", "auditor", "--region", "430121", "--name", "审计"], config: config)
        let wrongAck = try daemon.api(
            "POST", "/v1/terminals/ls-near/ack", token: "secret-away", body: Data(#"{"idempotencyKey":"\#(event.key)"}"#.utf8))
        #expect(wrongAck.status == 403 && String(decoding: wrongAck.body, as: UTF8.self).contains("forged_receipt"))
        let ack = try daemon.api(
            "POST", "/v1/terminals/ls-near/ack", token: "secret-near", body: Data(#"{"idempotencyKey":"\#(event.key)"}"#.utf8))
        #expect(ack.status == 200, "\(String(decoding: ack.body, as: UTF8.self))")
        #expect(
            try JSONSerialization.jsonObject(with: ack.body) as? [String: String] == ["idempotencyKey": event.key, "state": "delivered"],
            "\(String(decoding: ack.body, as: UTF8.self))")
        #expect(try Self.waitFor(10) { try daemon.deliveries(of: id, token: operatorToken).summary["delivered"] == 1 })
        // Answered through the waiting push (its attempt got the terminal's 200), not taken
        // as a late receipt while the push timed out.
        let nearDelivery = try daemon.deliveries(of: id, token: operatorToken).byRecipient["ls-near"]
        #expect(nearDelivery?["lastStatus"] as? Int == 200 && nearDelivery?["attempts"] as? Int == 1, "\(nearDelivery ?? [:])")
        let waiting = try daemon.deliveries(of: id, token: operatorToken).byRecipient["ls-away"]
        #expect(waiting?["state"] as? String == "queued" && waiting?["attempts"] as? Int == 0, "away: waiting, not attempted")

        let away = try Self.dial(daemon, terminal: "ls-away", secret: "secret-away", in: directory, name: "away")
        defer { away.stop() }
        #expect(Self.waitFor(20) { !Self.events(in: away.log).isEmpty }, "the missed warning on dialling in: \(away.log)")
        let missed = try #require(Self.events(in: away.log).first)
        _ = try daemon.api(
            "POST", "/v1/terminals/ls-away/ack", token: "secret-away", body: Data(#"{"idempotencyKey":"\#(missed.key)"}"#.utf8))
        #expect(try Self.waitFor(10) { try daemon.deliveries(of: id, token: operatorToken).summary["delivered"] == 2 })
        #expect(Self.events(in: near.log).count == 1, "sent once")

        // Health: one heartbeat; the CLI lists the other as offline, /metrics counts the county.
        let beat = try daemon.api(
            "POST", "/v1/terminals/ls-near/heartbeat", token: "secret-near", body: Data(#"{"status":"normal","volume":70}"#.utf8))
        #expect(beat.status == 200)
        let listed = try Binaries.warncast(["terminals", "--offline", "--url", daemon.url, "--token", operatorToken], config: config)
        #expect(listed.status == 0, "\(listed.err)")
        #expect(listed.out.contains("ls-away") && !listed.out.contains("ls-near"), "\(listed.out)")
        #expect(listed.out.contains("1 online, 1 offline"), "\(listed.out)")
        let metrics = String(decoding: try CurlTransfer.perform(HTTPRequestSpec(url: daemon.url + "/metrics")).body, as: UTF8.self)
        #expect(metrics.contains(#"warncast_terminals{county="430121",state="online"} 1"#), "\(metrics)")
        #expect(metrics.contains(#"warncast_terminals{county="430121",state="offline"} 1"#))

        // Open streams do not hold the daemon up: a stop hangs them up and ends cleanly.
        let stopping = Date()
        #expect(daemon.stop(signal: SIGTERM) == 0)
        #expect(Date().timeIntervalSince(stopping) < 10, "stopped with terminals connected")
        #expect(daemon.log.contains("msg=stopped"))
    }
}
