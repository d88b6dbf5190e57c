import Foundation
import Testing
import WarncastNet
import WarncastTestSupport

/// Email through a real SMTP server (aiosmtpd on loopback): one transaction for the
/// mailboxes of a red warning, each mailbox's own reply deciding its receipt: accepted is
/// delivered, 450 is tried again (and later delivered), 550 fails that mailbox only.
@Suite("Email over SMTP", .serialized)
struct EmailEndToEndTests {
    @Test("a red warning mails the mailboxes in its area with a UTF-8 subject, the text and the signed CAP attached")
    func redWarningByEmail() async throws {
        let directory = try TestSupport.temporaryDirectory()
        let smtp = try SMTPPeer(directory: directory)
        defer { smtp.stop() }
        let recipients = directory.appendingPathComponent("recipients.csv")
        try """
            id,channel,region,name,address,secret,options
            mail-1,email,430121001,第1乡镇 应急办,duty1@csx.example.cn,,
            mail-2,email,430121002003,第2乡镇第3村 村委会,village23@csx.example.cn,,
            mail-busy,email,430121002,第2乡镇 应急办,busy@csx.example.cn,,
            mail-gone,email,430121001,第1乡镇 旧邮箱,nobody@csx.example.cn,,
            mail-out,email,430102001,芙蓉区 应急办,duty@frq.example.cn,,

            """.write(to: recipients, atomically: true, encoding: .utf8)
        let config = try testConfiguration(in: directory)
        let channel = """
                email:
                  adapter: email
                  concurrency: 2
                  max_attempts: 5
                  backoff_initial_ms: 100
                  backoff_max_ms: 300
                  settings:
                    url: \(smtp.url)
                    from: alerts@hunan.example.cn
                    from_name: 湖南省突发事件预警信息发布中心
                    security: none
                    batch: 10

            """
        let text = try String(contentsOfFile: config, encoding: .utf8)
            .replacingOccurrences(of: "  # recipients: recipients.csv", with: "  recipients: \(recipients.path)")
            .replacingOccurrences(of: "    red: [loudspeaker]", with: "    red: [loudspeaker, email]")
            .replacingOccurrences(of: "  channels:\n", with: "  channels:\n" + channel)
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try DaemonProcess(config: config, directory: directory)
        defer { daemon.stop() }
        let keys = try CurlTransfer.perform(HTTPRequestSpec(url: daemon.url + "/.well-known/warncast-keys"))
        let published = try #require((try JSONSerialization.jsonObject(with: keys.body) as? [String: [[String: Any]]])?["keys"])
        let publicKey = try #require(Data(base64Encoded: published[0]["publicKey"] as? String ?? ""))

        let issuer = try Binaries.createToken(["--role", "issuer", "--department", "csx-weather", "--name", "值班员"], config: config)
        let leader = try Binaries.createToken(
            ["--role", "approver", "--department", "csx-weather", "--name", "带班领导", "--approval-role", "duty-leader"], config: config)
        let government = try Binaries.createToken(
            ["--role", "approver", "--region", "430121", "--name", "副县长", "--approval-role", "government-leader"], config: config)
        let submitted = try daemon.api(
            "POST", "/v1/warnings", token: issuer, body: TestSupport.fixture("rainstorm-red-csx.xml"), type: "application/cap+xml")
        let id = try #require(jsonID(submitted.body))
        #expect(try daemon.api("POST", "/v1/warnings/\(id)/approve", token: leader).status == 200)
        #expect(try daemon.api("POST", "/v1/warnings/\(id)/approve", token: government).status == 200)

        var byRecipient: [String: [String: Any]] = [:]
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            try await Task.sleep(for: .milliseconds(200))
            let answer = try daemon.api("GET", "/v1/warnings/\(id)/deliveries", token: issuer)
            let list = (try JSONSerialization.jsonObject(with: answer.body) as? [String: Any])?["deliveries"] as? [[String: Any]] ?? []
            byRecipient = Dictionary(uniqueKeysWithValues: list.map { ($0["recipient"] as? String ?? "", $0) })
            let states = byRecipient.values.compactMap { $0["state"] as? String }
            if states.count == 4 && states.allSatisfy({ ["delivered", "failed"].contains($0) }) { break }
        }
        #expect(Set(byRecipient.keys) == ["mail-1", "mail-2", "mail-busy", "mail-gone"])
        #expect(byRecipient["mail-1"]?["state"] as? String == "delivered")
        #expect(byRecipient["mail-2"]?["state"] as? String == "delivered")
        // 450 twice, then taken: the temporary refusal was retried for that mailbox alone.
        #expect(byRecipient["mail-busy"]?["state"] as? String == "delivered")
        #expect(byRecipient["mail-busy"]?["attempts"] as? Int == 3)
        #expect(byRecipient["mail-1"]?["attempts"] as? Int == 1)
        // 550 is final after one attempt, with the server's own words on record.
        #expect(byRecipient["mail-gone"]?["state"] as? String == "failed")
        #expect(byRecipient["mail-gone"]?["attempts"] as? Int == 1)
        #expect(byRecipient["mail-gone"]?["lastStatus"] as? Int == 550)
        #expect((byRecipient["mail-gone"]?["lastError"] as? String)?.contains("no such mailbox") == true)

        let mails = smtp.messages
        #expect(mails.compactMap { $0.header("X-Envelope-To") }.sorted()
            == ["busy@csx.example.cn", "duty1@csx.example.cn", "village23@csx.example.cn"])
        // The first attempt went out as one transaction: those mailboxes share one message.
        let firstTry = mails.filter { $0.header("X-Envelope-To") != "busy@csx.example.cn" }.compactMap { $0.header("Message-ID") }
        #expect(firstTry.count == 2 && Set(firstTry).count == 1, "\(firstTry)")
        for mail in mails {
            #expect(mail.subject == "【红色预警】长沙县气象局发布暴雨红色预警信号")
            #expect(mail.header("From")?.hasSuffix("<alerts@hunan.example.cn>") == true)
            let body = String(decoding: mail.part("text/plain") ?? Data(), as: UTF8.self)
            #expect(body.contains("停止集会、停课、停业；转移危险地带人员。"))
            #expect(body.contains("长沙县第1乡镇、第2乡镇"))
            let cap = String(decoding: mail.part("application/cap+xml") ?? Data(), as: UTF8.self)
            #expect(cap.contains("<identifier>"))
            #expect(cap.contains("urn:oasis:names:tc:emergency:cap:1.2"))
            #expect(mail.signatureVerifies(publicKey: publicKey))
        }
    }

    /// The example configuration with one `email` channel of these settings, red to it, and
    /// these recipients.
    static func configuration(in directory: URL, settings: String, recipients: String, extra: String = "") throws -> String {
        let file = directory.appendingPathComponent("recipients.csv")
        try ("id,channel,region,name,address,secret,options\n" + recipients).write(to: file, atomically: true, encoding: .utf8)
        let config = try testConfiguration(in: directory)
        let channel = "    email:\n      adapter: email\n      max_attempts: 2\n      backoff_initial_ms: 100\n      settings:\n" + settings
        let text = try String(contentsOfFile: config, encoding: .utf8)
            .replacingOccurrences(of: "  # recipients: recipients.csv", with: "  recipients: \(file.path)")
            .replacingOccurrences(of: "    red: [loudspeaker]", with: "    red: [loudspeaker, email]")
            .replacingOccurrences(of: "  channels:\n", with: "  channels:\n" + channel)
            .replacingOccurrences(of: "  tls:\n    verify: true\n", with: "  tls:\n    verify: true\n" + extra)
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        return config
    }

    /// Submits the county's red warning and has it approved; returns its id.
    static func releaseRed(_ daemon: DaemonProcess, config: String) throws -> String {
        let issuer = try Binaries.createToken(["--role", "issuer", "--department", "csx-weather", "--name", "值班员"], config: config)
        let leader = try Binaries.createToken(
            ["--role", "approver", "--department", "csx-weather", "--name", "带班领导", "--approval-role", "duty-leader"], config: config)
        let government = try Binaries.createToken(
            ["--role", "approver", "--region", "430121", "--name", "副县长", "--approval-role", "government-leader"], config: config)
        let submitted = try daemon.api(
            "POST", "/v1/warnings", token: issuer, body: TestSupport.fixture("rainstorm-red-csx.xml"), type: "application/cap+xml")
        guard let id = jsonID(submitted.body) else { throw CLIFailure(output: String(decoding: submitted.body, as: UTF8.self)) }
        _ = try daemon.api("POST", "/v1/warnings/\(id)/approve", token: leader)
        _ = try daemon.api("POST", "/v1/warnings/\(id)/approve", token: government)
        return id
    }

    @Test("STARTTLS with the server's CA from dispatch.tls, and SMTP AUTH; a wrong password fails with the server's 535")
    func startTLSWithLogin() async throws {
        let directory = try TestSupport.temporaryDirectory()
        try PeerProcess.run("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "mx-key.pem",
            "-out", "mx.pem", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ], in: directory)
        let certificate = directory.appendingPathComponent("mx.pem").path
        let smtp = try SMTPPeer(
            directory: directory, tls: (certificate, directory.appendingPathComponent("mx-key.pem").path), login: "warncast:s3cret")
        defer { smtp.stop() }
        func settings(password: String) -> String {
            "        url: \(smtp.url)\n        from: alerts@hunan.example.cn\n        security: starttls\n"
                + "        username: warncast\n        password: \(password)\n"
        }
        let good = try Self.configuration(
            in: directory, settings: settings(password: "s3cret"),
            recipients: "mail-1,email,430121001,第1乡镇 应急办,duty1@csx.example.cn,,\n", extra: "    ca_bundle: \(certificate)\n")
        var daemon = try DaemonProcess(config: good, directory: directory)
        var id = try Self.releaseRed(daemon, config: good)
        let admin = try Binaries.createToken(["--role", "auditor", "--region", "430000", "--name", "审计"], config: good)
        func state() throws -> [String: Any]? {
            let answer = try daemon.api("GET", "/v1/warnings/\(id)/deliveries", token: admin)
            return ((try JSONSerialization.jsonObject(with: answer.body) as? [String: Any])?["deliveries"] as? [[String: Any]])?.first
        }
        var deadline = Date().addingTimeInterval(30)
        while (try state())?["state"] as? String != "delivered" && Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect((try state())?["state"] as? String == "delivered", "\(daemon.log)")
        let mail = try #require(smtp.messages.first)
        #expect(mail.header("X-Sink-TLS") == "yes" && mail.header("X-Sink-User") == "warncast")
        daemon.stop()

        // The same with a wrong password: refused for good with the server's own words.
        let otherDirectory = try TestSupport.temporaryDirectory()
        let bad = try Self.configuration(
            in: otherDirectory, settings: settings(password: "wrong"),
            recipients: "mail-1,email,430121001,第1乡镇 应急办,duty1@csx.example.cn,,\n", extra: "    ca_bundle: \(certificate)\n")
        daemon = try DaemonProcess(config: bad, directory: otherDirectory)
        defer { daemon.stop() }
        id = try Self.releaseRed(daemon, config: bad)
        let auditor = try Binaries.createToken(["--role", "auditor", "--region", "430000", "--name", "审计"], config: bad)
        func badState() throws -> [String: Any]? {
            let answer = try daemon.api("GET", "/v1/warnings/\(id)/deliveries", token: auditor)
            return ((try JSONSerialization.jsonObject(with: answer.body) as? [String: Any])?["deliveries"] as? [[String: Any]])?.first
        }
        deadline = Date().addingTimeInterval(30)
        while (try badState())?["state"] as? String != "failed" && Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        let failed = try badState()
        #expect(failed?["state"] as? String == "failed")
        #expect(failed?["lastStatus"] as? Int == 535, "\(String(describing: failed))")
        #expect(smtp.messages.count == 1)
    }
}
