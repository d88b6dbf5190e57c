import Crypto
import Foundation
import Testing
import WarncastCore
import WarncastDispatch
import WarncastNet
import WarncastTestSupport

/// The county weather bureau's red rainstorm warning as adapters receive it.
func sampleMessage() throws -> OutgoingMessage {
    OutgoingMessage(warning: try TestSupport.countyWarning())
}

let callbacks = CallbackSettings(base: "http://10.0.0.5:8080", tokens: CallbackToken(secret: Data(repeating: 7, count: 32)))

func job(_ id: Int64, _ address: String, channel: String = "sms") -> DeliveryJob {
    DeliveryJob(
        id: id, warningID: "w1",
        recipient: Recipient(id: "r\(id)", channel: channel, region: RegionCode("430121001")!, name: "n", address: address),
        idempotencyKey: "w1/r\(id)", attempt: 1)
}

@Suite("The Kannel SMS adapter")
struct KannelAdapterTests {
    let settings = ["url": "http://127.0.0.1:13013/cgi-bin/sendsms", "username": "warncast", "password": "p&ss word", "from": "12379"]

    @Test("sendsms carries UCS-2 coding, the text in UTF-8 and a dlr-url whose token belongs to the delivery")
    func request() throws {
        let adapter = try KannelAdapter(AdapterContext(channel: "sms", settings: settings, callbacks: callbacks))
        let request = try adapter.request(for: job(42, "13800000001"), message: try sampleMessage())
        #expect(request.method == "GET" && request.body == nil)
        let query = Dictionary(
            uniqueKeysWithValues: try #require(URLComponents(string: request.url)?.queryItems).map { ($0.name, $0.value ?? "") })
        #expect(query["coding"] == "2" && query["charset"] == "UTF-8" && query["dlr-mask"] == "27")
        #expect(query["password"] == "p&ss word" && query["to"] == "13800000001" && query["from"] == "12379")
        #expect(query["text"] == "【长沙县气象局】长沙县气象局发布暴雨红色预警信号。停止集会、停课、停业；转移危险地带人员。")
        let dlrURL = try #require(query["dlr-url"])
        let report = try #require(URLComponents(string: dlrURL))
        #expect(report.path == "/v1/receipts/sms" && report.host == "10.0.0.5")
        let reportQuery = Dictionary(uniqueKeysWithValues: (report.queryItems ?? []).map { ($0.name, $0.value ?? "") })
        #expect(reportQuery["d"] == "42" && reportQuery["type"] == "%d" && reportQuery["reason"] == "%A")
        let token = try #require(reportQuery["t"])
        #expect(callbacks.tokens.verify(token, forDelivery: 42))
        #expect(!callbacks.tokens.verify(token, forDelivery: 43))
        #expect(adapter.endpoint(for: job(42, "13800000001")) == settings["url"])
    }

    @Test("Kannel's answers and report types map to delivery states")
    func outcomes() throws {
        let adapter = try KannelAdapter(AdapterContext(channel: "sms", settings: settings, callbacks: callbacks))
        #expect(adapter.outcome(of: HTTPResult(status: 202, body: Data("0: Accepted for delivery".utf8))) == .accepted)
        #expect(
            adapter.outcome(of: HTTPResult(status: 403, body: Data("Authorization failed for sendsms".utf8)))
                == .failed("Kannel HTTP 403: Authorization failed for sendsms"))
        #expect(adapter.outcome(of: HTTPResult(status: 503, body: Data())) == .retry("Kannel HTTP 503: "))
        #expect(KannelAdapter.state(forReportType: 1) == .delivered)
        #expect(KannelAdapter.state(forReportType: 16) == .failed)
        #expect(KannelAdapter.state(forReportType: 8) == .accepted)
        #expect(KannelAdapter.state(forReportType: 4) == nil)
    }

    @Test("missing, unknown and malformed settings are named with the channel")
    func settingErrors() throws {
        #expect(throws: AdapterSettingError(channel: "sms", key: "password", reason: "is required")) {
            _ = try KannelAdapter(AdapterContext(channel: "sms", settings: settings.filter { $0.key != "password" }, callbacks: callbacks))
        }
        var misspelt = settings
        misspelt["dlr_maks"] = "31"
        #expect(throws: AdapterSettingError.self) {
            _ = try KannelAdapter(AdapterContext(channel: "sms", settings: misspelt, callbacks: callbacks))
        }
        var bad = settings
        bad["dlr_mask"] = "64"
        #expect(throws: AdapterSettingError.self) {
            _ = try KannelAdapter(AdapterContext(channel: "sms", settings: bad, callbacks: callbacks))
        }
        #expect(throws: DispatchError.self) {
            _ = try AdapterRegistry.standard.adapters(for: [ChannelSettings(name: "x", adapter: "fax")], callbacks: callbacks, signer: nil)
        }
        var fallback = settings
        fallback["fallback_urls"] = "ftp://backup"
        #expect(throws: AdapterSettingError.self) {
            _ = try KannelAdapter(AdapterContext(channel: "sms", settings: fallback, callbacks: callbacks))
        }
    }

    @Test("fallback gateways come after the first, each an endpoint of its own, and a request goes to the one chosen")
    func fallbackGateways() throws {
        var withFallback = settings
        withFallback["fallback_urls"] = "http://10.0.0.8:13013/cgi-bin/sendsms, http://10.0.0.9:13013/cgi-bin/sendsms"
        let adapter = try KannelAdapter(AdapterContext(channel: "sms", settings: withFallback, callbacks: callbacks))
        let delivery = job(7, "13800000001")
        #expect(
            adapter.endpoints(for: delivery) == [
                "http://127.0.0.1:13013/cgi-bin/sendsms", "http://10.0.0.8:13013/cgi-bin/sendsms", "http://10.0.0.9:13013/cgi-bin/sendsms",
            ])
        let request = try adapter.request(for: delivery, message: try sampleMessage(), via: "http://10.0.0.9:13013/cgi-bin/sendsms")
        #expect(request.url.hasPrefix("http://10.0.0.9:13013/cgi-bin/sendsms?username=warncast&"))
        #expect(try adapter.request(for: delivery, message: try sampleMessage()).url.hasPrefix("http://127.0.0.1:13013/cgi-bin/sendsms?"))
    }
}

extension AdapterSettingError: Equatable {
    public static func == (lhs: AdapterSettingError, rhs: AdapterSettingError) -> Bool { lhs.description == rhs.description }
}

@Suite("The email adapter")
struct EmailAdapterTests {
    let context = AdapterContext(
        channel: "email", settings: ["url": "smtp://127.0.0.1:25", "from": "alerts@example.cn", "security": "none", "batch": "3"],
        callbacks: callbacks)

    @Test("each mailbox's RCPT reply decides its outcome; the message's reply decides the accepted ones")
    func perRecipientOutcomes() throws {
        let adapter = try EmailAdapter(context)
        let batch = [job(1, "ok@x.cn"), job(2, "busy@x.cn"), job(3, "NOBODY@x.cn"), job(4, "later@x.cn")]
        let transcript = [
            "< 220 mx ready", "> EHLO host", "< 250-mx", "< 250 SMTPUTF8", "> MAIL FROM:<alerts@example.cn>", "< 250 OK",
            "> RCPT TO:<ok@x.cn>", "< 250 2.1.5 OK", "> RCPT TO:<busy@x.cn>", "< 450 4.2.1 busy",
            "> RCPT TO:<nobody@x.cn>", "< 550 5.1.1 no such mailbox", "> DATA", "< 354 go ahead", "< 250 2.0.0 queued as 7",
        ]
        let outcomes = adapter.outcomes(of: .success(HTTPResult(status: 250, body: Data(), transcript: transcript)), for: batch)
        #expect(outcomes[0] == BatchOutcome(.delivered, status: 250, detail: nil, reference: "2.0.0 queued as 7"))
        #expect(outcomes[1] == BatchOutcome(.retry("450 4.2.1 busy"), status: 450, detail: "450 4.2.1 busy"))
        #expect(outcomes[2] == BatchOutcome(.failed("550 5.1.1 no such mailbox"), status: 550, detail: "550 5.1.1 no such mailbox"))
        // Not in the conversation at all (the batch was cut short): tried again.
        if case .retry = outcomes[3].outcome {} else { Issue.record("expected a retry, got \(outcomes[3])") }

        let refusedData = transcript.dropLast() + ["< 554 5.6.0 message refused"]
        let refused = adapter.outcomes(
            of: .failure(CurlError(code: 55, message: "send failed", transcript: Array(refusedData))), for: batch)
        #expect(refused[0].outcome == .failed("554 5.6.0 message refused"))
        let unreachable = adapter.outcomes(of: .failure(CurlError(code: 7, message: "Couldn't connect to server")), for: batch)
        #expect(unreachable.allSatisfy { if case .retry = $0.outcome { true } else { false } })
        let badSender = adapter.outcomes(
            of: .failure(CurlError(code: 55, message: "x", transcript: ["> MAIL FROM:<a@b>", "< 553 5.7.1 sender refused"])), for: batch)
        #expect(badSender.allSatisfy { $0.outcome == .failed("553 5.7.1 sender refused") })
    }

    @Test("one transaction for the batch, with the envelope and a signed, UTF-8 message")
    func request() throws {
        let keyring = SigningKeyring.generate()
        var signing = context
        signing.signer = try keyring.signer()
        let adapter = try EmailAdapter(signing)
        #expect(adapter.batchLimit == 3)
        let request = try adapter.request(for: [job(1, "a@x.cn"), job(2, "b@x.cn")], message: try sampleMessage())
        #expect(request.mail?.recipients == ["a@x.cn", "b@x.cn"] && request.mail?.from == "alerts@example.cn")
        #expect(request.mail?.security == MailEnvelope.Security.none)
        let mail = StoredMail(try #require(request.body))
        #expect(mail.subject == "【红色预警】长沙县气象局发布暴雨红色预警信号")
        #expect(mail.header("To") == "undisclosed-recipients:;")
        #expect(mail.signatureVerifies(publicKey: try keyring.signer().publicKey.rawRepresentation))
        #expect(!mail.signatureVerifies(publicKey: try SigningKeyring.generate().signer().publicKey.rawRepresentation))
        // Encoded words stay within RFC 2047's 75 characters.
        for line in (mail.header("Subject") ?? "").split(separator: " ") { #expect(line.count <= 75) }
    }

    @Test("settings: an smtp(s) URL and a bare sender address are required")
    func settings() {
        #expect(throws: AdapterSettingError.self) {
            _ = try EmailAdapter(AdapterContext(channel: "email", settings: ["url": "http://mx", "from": "a@b"], callbacks: callbacks))
        }
        #expect(throws: AdapterSettingError.self) {
            _ = try EmailAdapter(
                AdapterContext(channel: "email", settings: ["url": "smtp://mx", "from": "Alerts <a@b>"], callbacks: callbacks))
        }
        #expect(throws: AdapterSettingError.self) {
            _ = try EmailAdapter(
                AdapterContext(
                    channel: "email", settings: ["url": "smtp://mx", "from": "a@b", "security": "tls"], callbacks: callbacks))
        }
    }
}

@Suite("The cascade adapter")
struct CascadeAdapterTests {
    @Test("a message received as CAP XML is handed down byte for byte; one received as JSON as this node writes it")
    func original() throws {
        let adapter = try CascadeAdapter(AdapterContext(channel: "nodes", settings: [:], callbacks: callbacks))
        #expect(adapter.wantsOriginal)
        let received = Data("<alert>…as the issuer signed it…</alert>".utf8)
        let xml = OutgoingMessage(warning: try TestSupport.countyWarning(), original: received)
        let request = try adapter.request(for: job(1, "http://127.0.0.1:9", channel: "nodes"), message: xml)
        #expect(request.body == received && request.url == "http://127.0.0.1:9/v1/cascade/warnings")
        var fromJSON = try TestSupport.countyWarning()
        fromJSON.format = .json
        let json = OutgoingMessage(warning: fromJSON, original: Data("{}".utf8))
        #expect(try adapter.request(for: job(1, "http://127.0.0.1:9", channel: "nodes"), message: json).body == json.cap)
    }
}

@Suite("The carrier SMS adapter")
struct CarrierSMSAdapterTests {
    @Test("fallback gateways take the same request, each its own endpoint; a bad one is named")
    func fallbackGateways() throws {
        let settings = [
            "url": "https://sms.carrier-a.example/send", "fallback_urls": "https://sms.carrier-b.example/send",
            "body": #"{"mobile":"{{to}}","content":"{{text}}"}"#,
        ]
        let adapter = try CarrierSMSAdapter(AdapterContext(channel: "sms-public", settings: settings, callbacks: callbacks))
        let delivery = job(3, "13700000001", channel: "sms-public")
        #expect(adapter.endpoints(for: delivery) == ["https://sms.carrier-a.example/send", "https://sms.carrier-b.example/send"])
        let first = try adapter.request(for: delivery, message: try sampleMessage())
        let second = try adapter.request(for: delivery, message: try sampleMessage(), via: "https://sms.carrier-b.example/send")
        #expect(first.url == "https://sms.carrier-a.example/send" && second.url == "https://sms.carrier-b.example/send")
        #expect(first.body == second.body && first.headers == second.headers)
        var bad = settings
        bad["fallback_urls"] = "sms.carrier-b.example"
        #expect(throws: AdapterSettingError.self) {
            _ = try CarrierSMSAdapter(AdapterContext(channel: "sms-public", settings: bad, callbacks: callbacks))
        }
    }
}
