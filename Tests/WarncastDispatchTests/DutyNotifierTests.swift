import Foundation
import Logging
import Synchronization
import Testing
import WarncastCore
import WarncastDispatch
import WarncastNet
import WarncastStore
import WarncastTestSupport

@Suite("Duty contacts are told")
struct DutyNotifierTests {
    @Test("an overdue approval reaches the escalation contacts by SMS, once per escalation; an unknown contact is audited as not told")
    func escalation() async throws {
        let store = try await TestSupport.loadedStore()
        try await store.saveRecipients(
            [
                (
                    recipient: Recipient(
                        id: "duty-county", channel: "sms-duty", region: RegionCode("430121")!, name: "县值班室", address: "13800000001"),
                    secretHash: String?.none
                )
            ], audit: AuditEvent(actor: .test, action: .recipientsSaved, subject: "1"))
        let kannel = try KannelAdapter(
            AdapterContext(
                channel: "sms-duty",
                settings: ["url": "http://127.0.0.1:13013/cgi-bin/sendsms", "username": "warncast", "password": "p", "from": "12379"],
                callbacks: callbacks))
        let transport = LoopbackTransport { _ in HTTPResult(status: 202, body: Data("0: Accepted for delivery".utf8)) }
        let notifier = DutyNotifier(
            store: store, adapters: ["sms-duty": kannel], transport: transport, contacts: [], minInterval: 300, node: "csx-county",
            logger: Logger(label: "test"))
        let escalation = Escalation(
            warningID: "w-1", number: 1, at: Timestamp(Date()), deadline: Timestamp(Date()), headline: "长沙县气象局发布暴雨红色预警信号",
            level: .red, rule: "red-two-leaders", missing: [MissingApproval(role: "government-leader", scope: .government, remaining: 1)],
            contacts: ["duty-county", "省应急值班室"])
        await notifier.notify(escalation)
        await notifier.notify(escalation)
        #expect(transport.requests.count == 1, "told once, to the one contact who is a recipient")
        let query = try #require(URLComponents(string: transport.requests[0].url)?.queryItems)
        let text = try #require(query.first { $0.name == "text" }?.value)
        #expect(query.first { $0.name == "to" }?.value == "13800000001")
        #expect(text.contains("长沙县气象局发布暴雨红色预警信号") && text.contains("government-leader@government") && text.contains("超时"))
        #expect(query.first { $0.name == "dlr-url" } == nil, "a notice asks for no delivery report")
        let audit = try await store.auditEntries(subject: "w-1")
        #expect(audit.filter { $0.action == "notice.sent" }.count == 1)
        let failed = try #require(audit.first { $0.action == "notice.failed" })
        #expect(failed.detail.contains("省应急值班室") && failed.detail.contains("no active recipient with this id"))
        // The next escalation of the same warning is told again.
        var second = escalation
        second.number = 2
        await notifier.notify(second)
        #expect(transport.requests.count == 2)
        // A contact removed from the registry is no longer told.
        #expect(
            try await store.removeRecipient(
                id: "duty-county", within: nil, audit: AuditEvent(actor: .test, action: .recipientRemoved, subject: "duty-county")))
        var third = escalation
        third.number = 3
        await notifier.notify(third)
        #expect(transport.requests.count == 2)
    }

    @Test(
        "a notice that meets a passing failure (503, no answer) is tried again, the same message each time; a refusal is not; contacts are told side by side; every outcome is audited"
    )
    func retries() async throws {
        let store = try await TestSupport.loadedStore()
        try await store.saveRecipients(
            ["officer-a", "officer-b", "officer-c"].enumerated().map { index, id in
                (
                    recipient: Recipient(
                        id: id, channel: "duty-notices", region: RegionCode("430121")!, name: id, address: "1390000000\(index)"),
                    secretHash: String?.none
                )
            }, audit: AuditEvent(actor: .test, action: .recipientsSaved, subject: "1"))
        let carrier = try CarrierSMSAdapter(
            AdapterContext(
                channel: "duty-notices",
                settings: [
                    "url": "http://127.0.0.1:9/sms/send",
                    "body": #"{"mobile":"{{to}}","content":"{{text}}","notify":"{{callback}}","outId":"{{key}}"}"#,
                ], callbacks: callbacks))
        // officer-a: a 503, then taken; officer-b: refused with 400; officer-c: never an answer.
        let answered = Mutex<[String: Int]>([:])
        let transport = LoopbackTransport { request in
            let body = String(decoding: request.body ?? Data(), as: UTF8.self)
            let tries = answered.withLock { counts in
                let mobile = ["13900000000", "13900000001", "13900000002"].first { body.contains($0) } ?? "-"
                counts[mobile, default: 0] += 1
                return (mobile, counts[mobile]!)
            }
            switch tries {
            case ("13900000000", 1): return HTTPResult(status: 503, body: Data())
            case ("13900000000", _): return HTTPResult(status: 200, body: Data(#"{"code":"OK"}"#.utf8))
            case ("13900000001", _): return HTTPResult(status: 400, body: Data())
            default: throw CurlError(code: 28, message: "Timeout was reached")
            }
        }
        let notifier = DutyNotifier(
            store: store, adapters: ["duty-notices": carrier], transport: transport, contacts: [],
            minInterval: 300, node: "csx-county", logger: Logger(label: "test"), retryDelays: [.milliseconds(20), .milliseconds(500)])
        await notifier.notify(
            Escalation(
                warningID: "w-9", number: 1, at: Timestamp(Date()), deadline: Timestamp(Date()), headline: "暴雨红色预警", level: .red,
                rule: "red-two-leaders", missing: [MissingApproval(role: "government-leader", scope: .government, remaining: 1)],
                contacts: ["officer-c", "officer-a", "officer-b"]))
        let counts = answered.withLock { $0 }
        #expect(counts == ["13900000000": 2, "13900000001": 1, "13900000002": 3], "tried again only for a passing failure, twice at most")
        let toA = transport.requests.filter { String(decoding: $0.body ?? Data(), as: UTF8.self).contains("13900000000") }
        #expect(toA.count == 2 && toA[0].body == toA[1].body, "the same message, with the same key, both times")
        let audit = try await store.auditEntries(subject: "w-9")
        let sent = audit.filter { $0.action == "notice.sent" }
        #expect(sent.count == 1 && sent[0].detail.contains("officer-a") && sent[0].detail.contains("(try 2)"), "\(sent)")
        let failed = audit.filter { $0.action == "notice.failed" }
        #expect(failed.count == 2)
        #expect(failed.contains { $0.detail.contains("officer-b") && $0.detail.contains("HTTP 400") && !$0.detail.contains("tries") })
        #expect(
            failed.contains { $0.detail.contains("officer-c") && $0.detail.contains("curl error 28") && $0.detail.contains("(3 tries)") })
    }

    @Test("a gateway down reaches an email contact as a plain-text mail through a real SMTP server, audited")
    func emailNotice() async throws {
        let directory = try TestSupport.temporaryDirectory()
        let smtp = try SMTPPeer(directory: directory)
        defer { smtp.stop() }
        let store = try await TestSupport.loadedStore()
        try await store.saveRecipients(
            [
                (
                    recipient: Recipient(
                        id: "duty-mail", channel: "email", region: RegionCode("430121")!, name: "县应急管理局值班室",
                        address: "duty@csx.example.gov.cn"),
                    secretHash: String?.none
                )
            ], audit: AuditEvent(actor: .test, action: .recipientsSaved, subject: "1"))
        let email = try EmailAdapter(
            AdapterContext(
                channel: "email", settings: ["url": smtp.url, "from": "alerts@warncast.example", "security": "none"],
                callbacks: callbacks))
        let engine = CurlEngine()
        defer { engine.shutdown() }
        let notifier = DutyNotifier(
            store: store, adapters: ["email": email], transport: engine, contacts: ["duty-mail"], minInterval: 300,
            node: "csx-county", logger: Logger(label: "test"))
        notifier.heard(.gatewayDown(channel: "sms-duty", endpoint: "http://127.0.0.1:13013/cgi-bin/sendsms?password=x", error: "HTTP 503"))
        let deadline = Date().addingTimeInterval(20)
        while smtp.messages.isEmpty && Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        let mail = try #require(smtp.messages.first)
        #expect(mail.subject?.contains("sms-duty") == true, "\(mail.headers)")
        #expect(mail.header("Auto-Submitted") == "auto-generated")
        let text = String(decoding: mail.parts.first?.content ?? Data(), as: UTF8.self)
        #expect(text.contains("http://127.0.0.1:13013/cgi-bin/sendsms") && text.contains("HTTP 503"))
        #expect(!text.contains("password"), "the gateway's credentials stay out of the notice")
        var sent: [AuditEntry] = []
        while sent.isEmpty && Date() < deadline {
            sent = try await store.auditEntries(subject: "sms-duty").filter { $0.action == "notice.sent" }
            if sent.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(sent.first?.detail.contains("duty-mail") == true)
    }
}
