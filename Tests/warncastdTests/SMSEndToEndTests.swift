import Foundation
import Testing
import WarncastNet
import WarncastTestSupport

/// SMS through a real Kannel (bearerbox, smsbox, the fake SMSC): a red warning for two
/// townships goes to the duty officers and village information officers there, in Chinese,
/// split into concatenated parts when long, and the SMSC's delivery reports come back to
/// warncastd and move each receipt to delivered.
@Suite("SMS through Kannel and a carrier gateway", .serialized, .ownThreads)
struct SMSEndToEndTests {
    static let instruction =
        "立即停止集会、停课、停业，转移山洪、地质灾害危险区和低洼易涝地带人员；"
        + "驾驶人员绕开积水路段，切勿涉水通行；居民关好门窗，远离河道、山体和危房，不要在户外逗留。"
        + "如遇险情请立即拨打110或119求助，并听从村（社区）干部和应急管理部门的统一指挥。"

    /// Two SMS groups through one Kannel, sharing its rate limit.
    static func channels(_ kannel: KannelPeer) -> String {
        ["sms-duty", "sms-informants"].map { name in
            """
                \(name):
                  adapter: kannel
                  gateway: kannel
                  concurrency: 4
                  timeout_ms: 5000
            \(kannel.channelSettings())

            """
        }.joined()
    }

    @Test("a long Chinese red warning reaches the SMS groups in its area intact, and DLRs mark each delivered")
    func redWarningBySMS() async throws {
        let directory = try TestSupport.temporaryDirectory()
        let kannel = try KannelPeer(directory: directory)
        defer { kannel.stop() }
        let config = try testConfiguration(
            in: directory,
            recipients: """
                duty-1,sms-duty,430121001,第1乡镇 应急责任人,13800000001,,
                duty-out,sms-duty,430102001,芙蓉区 应急责任人,13800000009,,
                info-1,sms-informants,430121001002,第1乡镇第2村 信息员,13900000001,,
                info-2,sms-informants,430121002005,第2乡镇第5村 信息员,13900000002,,
                info-out,sms-informants,430102001001,芙蓉区第1村 信息员,13900000009,,

                """,
            channels: Self.channels(kannel), red: ["sms-duty", "sms-informants"],
            replacing: ["  channels:\n": "  gateways:\n    kannel: { rate_per_second: 20 }\n  channels:\n"])
        let daemon = try DaemonProcess(config: config, directory: directory)
        defer { daemon.stop() }

        let xml = String(decoding: TestSupport.fixture("rainstorm-red-csx.xml"), as: UTF8.self).replacingOccurrences(
            of: "<instruction>停止集会、停课、停业；转移危险地带人员。</instruction>", with: "<instruction>\(Self.instruction)</instruction>")
        #expect(xml.contains(Self.instruction))
        let (id, issuer) = try daemon.releaseCountyRed(config: config, body: Data(xml.utf8))

        var deliveries: [[String: Any]] = []
        var summary: [String: Int] = [:]
        let deadline = Date().addingTimeInterval(60)
        while (summary["delivered"] ?? 0) < 3 && Date() < deadline {
            try await Task.sleep(for: .milliseconds(200))
            let answer = try daemon.api("GET", "/v1/warnings/\(id)/deliveries", token: issuer)
            let object = try JSONSerialization.jsonObject(with: answer.body) as? [String: Any]
            summary = (object?["summary"] as? [String: Int] ?? [:]).filter { $0.value > 0 }
            deliveries = object?["deliveries"] as? [[String: Any]] ?? []
        }
        #expect(summary == ["delivered": 3], "\(deliveries)\n\(daemon.log)")
        #expect(Set(deliveries.compactMap { $0["recipient"] as? String }) == ["duty-1", "info-1", "info-2"])
        for delivery in deliveries {
            #expect(delivery["acceptedAt"] is String)
            #expect(delivery["deliveredAt"] is String)
        }

        // The warning's history holds the message as received and every DLR that came back.
        let history =
            try JSONSerialization.jsonObject(
                with: try daemon.api("GET", "/v1/warnings/\(id)/history", token: issuer).body) as? [String: Any]
        #expect((history?["cap"] as? String)?.contains(Self.instruction) == true)
        #expect(history?["deliveries"] as? [String: Int] == ["delivered": 3])
        let reports = history?["reports"] as? [[String: Any]] ?? []
        #expect(
            Set(reports.filter { $0["state"] as? String == "delivered" }.compactMap { $0["recipient"] as? String })
                == ["duty-1", "info-1", "info-2"], "\(reports)")
        #expect(reports.allSatisfy { $0["source"] as? String == "kannel" })

        // What the SMSC received: one whole message per number in the area, none outside it.
        let expected = "【长沙县气象局】长沙县气象局发布暴雨红色预警信号。" + Self.instruction
        let received = kannel.received
        #expect(received.map(\.to).sorted() == ["13800000001", "13900000001", "13900000002"], "\(kannel.received)")
        for sms in received {
            #expect(sms.text == expected)
            #expect(sms.parts == 3, "\(expected.count) characters of UCS-2 take three concatenated parts")
        }

        // A report with a token for another delivery is refused and changes nothing.
        let first = try #require(deliveries.first?["id"] as? Int)
        let other = try #require(deliveries.last?["id"] as? Int)
        let forged = try CurlTransfer.perform(
            HTTPRequestSpec(
                url: daemon.url + "/v1/receipts/sms?d=\(first)&t=\(String(repeating: "0", count: 64))&type=2&reason=forged"))
        #expect(forged.status == 403)
        #expect(String(decoding: forged.body, as: UTF8.self).contains("forged_receipt"))
        let unsigned = try CurlTransfer.perform(HTTPRequestSpec(url: daemon.url + "/v1/receipts/sms?d=\(other)&type=2"))
        #expect(unsigned.status == 400)
        let after = try daemon.api("GET", "/v1/warnings/\(id)/deliveries", token: issuer)
        let summaryAfter = (try JSONSerialization.jsonObject(with: after.body) as? [String: Any])?["summary"] as? [String: Int]
        #expect(summaryAfter?.filter { $0.value > 0 } == ["delivered": 3])
    }

    @Test("through a carrier's HTTP/JSON gateway described in the config: the body template, headers and status callbacks")
    func carrierGateway() async throws {
        let directory = try TestSupport.temporaryDirectory()
        let gateway = try await CarrierGateway()
        defer { gateway.stop() }
        let channel = """
                sms-public:
                  adapter: carrier-sms
                  settings:
                    url: \(gateway.url)
                    body: '{"mobile":"{{to}}","content":"{{text}}","notify":"{{callback}}","outId":"{{key}}"}'
                    header.X-Api-Key: k-123
                    message_id: data.msgId
                    success_path: code
                    success_value: OK
                    status_path: status
                    reason_path: reason

            """
        let config = try testConfiguration(
            in: directory,
            recipients: "pub-1,sms-public,430121001001,订阅用户,13700000001,,\npub-9,sms-public,430121002001,订阅用户（停机）,13700000009,,\n",
            channels: channel, red: ["sms-public"])
        let daemon = try DaemonProcess(config: config, directory: directory)
        defer { daemon.stop() }
        let (id, issuer) = try daemon.releaseCountyRed(config: config)

        var byRecipient: [String: [String: Any]] = [:]
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            try await Task.sleep(for: .milliseconds(100))
            byRecipient = try daemon.deliveries(of: id, token: issuer).byRecipient
            if byRecipient.count == 2 && byRecipient.values.allSatisfy({ ["delivered", "failed"].contains($0["state"] as? String) }) {
                break
            }
        }
        #expect(byRecipient["pub-1"]?["state"] as? String == "delivered", "\(byRecipient)")
        #expect(byRecipient["pub-9"]?["state"] as? String == "failed")
        #expect(byRecipient["pub-9"]?["lastError"] as? String == "carrier: UNDELIV MK:0005")
        let sent = gateway.messages
        #expect(sent.map(\.mobile).sorted() == ["13700000001", "13700000009"])
        #expect(sent.allSatisfy { $0.apiKey == "k-123" && $0.content == "【长沙县气象局】长沙县气象局发布暴雨红色预警信号。停止集会、停课、停业；转移危险地带人员。" })
        // The delivery's state changes before warncastd's answer reaches the gateway, which
        // then notes its status: wait for the second note a moment.
        let noted = Date().addingTimeInterval(5)
        while gateway.callbackStatuses.count < 2 && Date() < noted { try await Task.sleep(for: .milliseconds(20)) }
        #expect(gateway.callbackStatuses == [200, 200])
    }
}
