import Foundation
import Testing
import WarncastNet
import WarncastTestSupport

/// The auditor's exports as an operator runs them: `warncast audit export` streams a file
/// from warncastd, `warncast audit verify-export` checks it on its own, and finds a change.
@Suite("Auditor exports with the CLI", .serialized, .ownThreads)
struct ExportEndToEndTests {
    @Test("an export the client stops reading part way is on the audit log too, marked incomplete, with the rows sent until then")
    func abandonedExport() throws {
        let directory = try TestSupport.temporaryDirectory()
        // 5,000 loudspeakers (nobody answers at port 9): the red warning plans 5,000
        // deliveries, more than two of the export's pages of 2,000.
        var rows = ""
        for index in 0..<5000 {
            rows += "ls-\(index),loudspeaker,430121001\(String(format: "%03d", index % 10 + 1)),大喇叭 \(index),http://127.0.0.1:9/,,\n"
        }
        let config = try testConfiguration(in: directory, recipients: rows, channels: "", red: [])
        let daemon = try DaemonProcess(config: config, directory: directory)
        defer { daemon.stop(signal: SIGKILL) }
        let auditor = try Binaries.createToken(["--role", "auditor", "--region", "430000", "--name", "审计员"], config: config)
        let (id, _) = try daemon.releaseCountyRed(config: config)
        var planned = 0
        for _ in 0..<300 where planned < 5000 {
            planned = try daemon.deliveries(of: id, token: auditor).summary.values.reduce(0, +)
            if planned < 5000 { Thread.sleep(forTimeInterval: 0.1) }
        }
        try #require(planned == 5000)

        // The client reads the answer's head and hangs up with the rest unread. The daemon is
        // busy retrying 5,000 deliveries nobody answers, beside the other tests on 2 cores: its
        // head may take more than a few seconds (a CI run saw none within 5 s).
        let head = RawHTTP.send(
            "GET /v1/export/deliveries HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(auditor)\r\n\r\n", port: daemon.port,
            reset: false, within: 30)
        #expect(head?.hasPrefix("HTTP/1.1 200") == true, "\(head ?? "")")
        var entry: [String: Any]?
        for _ in 0..<100 where entry == nil {
            let listed = try Binaries.warncast(["audit", "list", "--limit", "10000"], config: config).out
            entry = listed.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                .last { $0["action"] as? String == "export.deliveries" }
            if entry == nil { Thread.sleep(forTimeInterval: 0.1) }
        }
        let text = try #require(entry?["detail"] as? String, "the abandoned export is on record")
        let detail = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String])
        #expect(detail["complete"]?.hasPrefix("no") == true, "\(detail)")
        #expect(Int(detail["rows"] ?? "") ?? 0 < 5000, "\(detail)")
    }

    @Test("deliveries and audit log exported, verified, tampered with, and the tampering found")
    func exportAndVerify() async throws {
        let directory = try TestSupport.temporaryDirectory()
        let fleet = try await LoudspeakerFleet()
        let recipients = directory.appendingPathComponent("recipients.csv")
        var csv = "id,channel,region,name,address,secret,options\n"
        for index in 1...30 {
            csv += "ls-\(index),loudspeaker,430121001\(String(format: "%03d", index % 10 + 1)),大喇叭 \(index),\(fleet.url("s\(index)")),,\n"
        }
        try csv.write(to: recipients, atomically: true, encoding: .utf8)
        let config = try testConfiguration(in: directory)
        try String(contentsOfFile: config, encoding: .utf8)
            .replacingOccurrences(of: "  # recipients: recipients.csv", with: "  recipients: \(recipients.path)")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try DaemonProcess(config: config, directory: directory)
        defer { daemon.stop() }
        let keys = try CurlTransfer.perform(HTTPRequestSpec(url: daemon.url + "/.well-known/warncast-keys"))
        let published = try #require((try JSONSerialization.jsonObject(with: keys.body) as? [String: [[String: Any]]])?["keys"])
        fleet.trust(publicKey: try #require(Data(base64Encoded: published[0]["publicKey"] as? String ?? "")))
        let auditor = try Binaries.createToken(["--role", "auditor", "--region", "430000", "--name", "审计员"], config: config)
        let (id, issuer) = try daemon.releaseCountyRed(config: config)
        let deadline = Date().addingTimeInterval(30)
        while fleet.uniqueDeliveries < 30 && Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        // Every attempt is counted for monitoring.
        let counted = #"warncast_delivery_attempts_total{channel="loudspeaker",outcome="delivered"} 30"#
        // Read at the scrape, once the results are written (attempts are counted as they end,
        // results stored in batches just after): no red delivery waiting.
        let nothingWaiting = #"warncast_oldest_undelivered_seconds{level="red"} 0.0"#
        var metrics = ""
        while !(metrics.contains(counted) && metrics.contains(nothingWaiting)) && Date() < deadline.addingTimeInterval(5) {
            metrics = String(decoding: try CurlTransfer.perform(HTTPRequestSpec(url: daemon.url + "/metrics")).body, as: UTF8.self)
            if !metrics.contains(counted) || !metrics.contains(nothingWaiting) { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(metrics.contains(counted), "\(metrics)")
        #expect(metrics.contains(nothingWaiting), "\(metrics)")
        #expect(metrics.contains(#"warncast_circuit_breakers_open{channel="loudspeaker"} 0"#), "\(metrics)")

        // The timeline and the late list from the CLI: released at once, every village reached.
        let timeline = try Binaries.warncast(["timeline", id, "--url", daemon.url, "--token", auditor], config: config)
        #expect(timeline.status == 0, "\(timeline.err)")
        #expect(timeline.out.contains("released\t20") && timeline.out.contains("all\t10\t10\t"), "\(timeline.out)")
        #expect(timeline.out.contains("on time"))
        let late = try Binaries.warncast(["late", "--url", daemon.url, "--token", auditor], config: config)
        #expect(late.status == 0 && late.out.hasPrefix("0 late warning(s) of 1 submitted"), "\(late.out)\(late.err)")

        let file = directory.appendingPathComponent("deliveries.csv").path
        let exported = try Binaries.warncast(
            ["audit", "export", "--kind", "deliveries", "--format", "csv", "-o", file, "--url", daemon.url, "--token", auditor],
            config: config)
        #expect(exported.status == 0, "\(exported.err)")
        #expect(exported.out.contains("30 deliveries row(s)"))
        #expect(exported.err.contains("exported"))
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.hasPrefix("warning,identifier,id,recipient,"))
        let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
        #expect(mode == 0o600, "the export holds phone numbers and addresses: its owner's only")
        #expect(text.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 31)

        let verified = try Binaries.warncast(["audit", "verify-export", file], config: config)
        #expect(verified.status == 0 && verified.out.contains("30 deliveries row(s) intact"), "\(verified.err)")
        // The export is on record with the same last hash.
        let firstLine = try #require(verified.out.split(separator: "\n").first)
        let lastHash = try #require(firstLine.split(separator: " ").last.map(String.init))
        #expect(lastHash.count == 64)
        let listed = try Binaries.warncast(["audit", "list", "--limit", "1000"], config: config)
        #expect(listed.out.contains("export.deliveries") && listed.out.contains(lastHash), "\(lastHash)")

        // One receipt changed in the file: verify names the row.
        var lines = text.components(separatedBy: "\r\n")
        #expect(lines[7].contains(",delivered,"))
        lines[7] = lines[7].replacingOccurrences(of: ",delivered,", with: ",failed,")
        try lines.joined(separator: "\r\n").write(toFile: file, atomically: true, encoding: .utf8)
        let tampered = try Binaries.warncast(["audit", "verify-export", file], config: config)
        #expect(tampered.status != 0)
        #expect(tampered.err.contains("BROKEN at row 7"), "\(tampered.err)")

        // The audit log as JSON Lines, verified the same way; an issuer may not export.
        let auditFile = directory.appendingPathComponent("audit.jsonl").path
        let auditExport = try Binaries.warncast(
            ["audit", "export", "--kind", "audit", "--format", "json", "-o", auditFile, "--url", daemon.url, "--token", auditor],
            config: config)
        #expect(auditExport.status == 0, "\(auditExport.err)")
        #expect(try Binaries.warncast(["audit", "verify-export", auditFile], config: config).status == 0)
        let refused = try Binaries.warncast(
            [
                "audit", "export", "--kind", "audit", "-o", directory.appendingPathComponent("no.csv").path, "--url", daemon.url,
                "--token", issuer,
            ], config: config)
        #expect(refused.status != 0 && refused.err.contains("HTTP 403"))
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("no.csv").path))
    }
}
