import Foundation
import Testing
import WarncastNet
import WarncastTestSupport

/// Email through a real SMTP server (aiosmtpd on loopback): one transaction for the
/// mailboxes of a red warning, each mailbox's own reply deciding its receipt: accepted is
/// delivered, 450 is tried again (and later delivered), 550 fails that mailbox only.
@Suite("Email over SMTP", .serialized, .ownThreads)
struct EmailEndToEndTests {
    @Test("a red warning mails the mailboxes in its area with a UTF-8 subject, the text and the signed CAP attached")
    func redWarningByEmail() async throws {
        let directory = try TestSupport.temporaryDirectory()
        let smtp = try SMTPPeer(directory: directory)
        defer { smtp.stop() }
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
        let config = try testConfiguration(
            in: directory,
            recipients: """
                mail-1,email,430121001,第1乡镇 应急办,duty1@csx.example.cn,,
                mail-2,email,430121002003,第2乡镇第3村 村委会,village23@csx.example.cn,,
                mail-busy,email,430121002,第2乡镇 应急办,busy@csx.example.cn,,
                mail-gone,email,430121001,第1乡镇 旧邮箱,nobody@csx.example.cn,,
                mail-out,email,430102001,芙蓉区 应急办,duty@frq.example.cn,,

                """,
            channels: channel, red: ["email"])
        let daemon = try DaemonProcess(config: config, directory: directory)
        defer { daemon.stop() }
        let keys = try CurlTransfer.perform(HTTPRequestSpec(url: daemon.url + "/.well-known/warncast-keys"))
        let published = try #require((try JSONSerialization.jsonObject(with: keys.body) as? [String: [[String: Any]]])?["keys"])
        let publicKey = try #require(Data(base64Encoded: published[0]["publicKey"] as? String ?? ""))

        let (id, issuer) = try daemon.releaseCountyRed(config: config)

        var byRecipient: [String: [String: Any]] = [:]
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            try await Task.sleep(for: .milliseconds(200))
            byRecipient = try daemon.deliveries(of: id, token: issuer).byRecipient
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
        #expect(
            mails.compactMap { $0.header("X-Envelope-To") }.sorted()
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

    /// One `email` channel of these settings (two attempts, 100 ms apart).
    static func channel(_ settings: String) -> String {
        "    email:\n      adapter: email\n      max_attempts: 2\n      backoff_initial_ms: 100\n      settings:\n" + settings
    }

    @Test("STARTTLS with the server's CA from dispatch.tls, and SMTP AUTH; a wrong password fails with the server's 535")
    func startTLSWithLogin() async throws {
        let directory = try TestSupport.temporaryDirectory()
        try PeerProcess.run(
            "/usr/bin/openssl",
            [
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
        let mailbox = "mail-1,email,430121001,第1乡镇 应急办,duty1@csx.example.cn,,\n"
        let trustServer = ["  tls:\n    verify: true\n": "  tls:\n    verify: true\n    ca_bundle: \(certificate)\n"]
        let good = try testConfiguration(
            in: directory, recipients: mailbox, channels: Self.channel(settings(password: "s3cret")), red: ["email"], replacing: trustServer
        )
        /// Runs a daemon on `config`, releases the red warning, and waits (30 s at most) for its
        /// one delivery to reach `state`; returns the delivery as the API lists it.
        func deliver(config: String, in directory: URL, until state: String) async throws -> [String: Any]? {
            let daemon = try DaemonProcess(config: config, directory: directory)
            defer { daemon.stop() }
            let (id, issuer) = try daemon.releaseCountyRed(config: config)
            let deadline = Date().addingTimeInterval(30)
            var delivery = try daemon.deliveries(of: id, token: issuer).byRecipient["mail-1"]
            while delivery?["state"] as? String != state && Date() < deadline {
                try await Task.sleep(for: .milliseconds(100))
                delivery = try daemon.deliveries(of: id, token: issuer).byRecipient["mail-1"]
            }
            return delivery
        }
        let delivered = try await deliver(config: good, in: directory, until: "delivered")
        #expect(delivered?["state"] as? String == "delivered", "\(String(describing: delivered))")
        let mail = try #require(smtp.messages.first)
        #expect(mail.header("X-Sink-TLS") == "yes" && mail.header("X-Sink-User") == "warncast")

        // The same with a wrong password: refused for good with the server's own words.
        let otherDirectory = try TestSupport.temporaryDirectory()
        let bad = try testConfiguration(
            in: otherDirectory, recipients: mailbox, channels: Self.channel(settings(password: "wrong")), red: ["email"],
            replacing: trustServer)
        let failed = try await deliver(config: bad, in: otherDirectory, until: "failed")
        #expect(failed?["state"] as? String == "failed")
        #expect(failed?["lastStatus"] as? Int == 535, "\(String(describing: failed))")
        #expect(smtp.messages.count == 1)
    }
}
