import Foundation
import Testing
import WarncastConfig
import WarncastCore
import WarncastDispatch
import WarncastNet
import WarncastTestSupport

/// A red rainstorm warning in Mongolian (first), Chinese, Uyghur and English, as a release
/// centre for a bilingual prefecture issues it.
func multilingualMessage(defaultLanguage: String = "zh-CN") throws -> OutgoingMessage {
    let warning = try TestSupport.countyWarning(fixture: "rainstorm-red-csx-languages.xml")
    return OutgoingMessage(warning: warning, defaultLanguage: defaultLanguage)
}

func speaker(_ id: Int64, language: String?) -> DeliveryJob {
    DeliveryJob(
        id: id, warningID: "w1",
        recipient: Recipient(
            id: "ls\(id)", channel: "loudspeaker", region: RegionCode("430121001")!, name: "n", address: "http://127.0.0.1:9/ls",
            options: language.map { ["language": $0] } ?? [:]),
        idempotencyKey: "w1/ls\(id)", attempt: 1)
}

@Suite("Every language to its own people")
struct LanguageTests {
    @Test(
        "a loudspeaker hears the block in its language: the exact tag, then the primary language, then the node's",
        arguments: [
            ("mn-Mong", "mn-Mong", "ᠬᠦᠴᠦᠲᠡᠢ ᠪᠣᠷᠤᠭᠠᠨ ᠤ ᠤᠯᠠᠭᠠᠨ ᠰᠡᠷᠡᠮᠵᠢᠯᠡᠯᠭᠡ"),
            ("mn", "mn-Mong", "ᠬᠦᠴᠦᠲᠡᠢ ᠪᠣᠷᠤᠭᠠᠨ ᠤ ᠤᠯᠠᠭᠠᠨ ᠰᠡᠷᠡᠮᠵᠢᠯᠡᠯᠭᠡ"),
            ("UG", "ug", "قاتتىق يامغۇر قىزىل ئاگاھلاندۇرۇشى"),
            ("en-GB", "en", "Changsha County issues a red rainstorm warning"),
            ("zh-CN", "zh-CN", "长沙县气象局发布暴雨红色预警信号"),
            ("fr", "zh-CN", "长沙县气象局发布暴雨红色预警信号"),
            (nil, "zh-CN", "长沙县气象局发布暴雨红色预警信号"),
        ] as [(String?, String, String)])
    func loudspeakers(option: String?, language: String, headline: String) throws {
        let message = try multilingualMessage()
        let adapter = LoudspeakerAdapter()
        let prepared = OutgoingMessage(warning: message.warning, preparedBy: adapter)
        for source in [message, prepared] {
            let request = try adapter.request(for: speaker(1, language: option), message: source)
            let payload = try JSONDecoder().decode(LoudspeakerAdapter.Payload.self, from: try #require(request.body))
            #expect(payload.language == language)
            #expect(payload.headline == headline)
            #expect(payload.text.hasPrefix(headline + "。"))
            // The CAP carries every language whatever the terminal hears.
            #expect(payload.cap.contains("<language>mn-Mong</language>") && payload.cap.contains("<language>ug</language>"))
        }
    }

    @Test("a block without <language> is announced in the terminal's language, or the node's")
    func blockWithoutLanguage() throws {
        var warning = try TestSupport.countyWarning()
        warning.alert.info[0].language = nil
        let message = OutgoingMessage(warning: warning, preparedBy: LoudspeakerAdapter())
        for (option, expected) in [("zh-CN", "zh-CN"), (nil, "zh-CN"), ("zh-HK", "zh-HK")] as [(String?, String)] {
            let request = try LoudspeakerAdapter().request(for: speaker(1, language: option), message: message)
            let payload = try JSONDecoder().decode(LoudspeakerAdapter.Payload.self, from: try #require(request.body))
            #expect(payload.language == expected && payload.headline == "长沙县气象局发布暴雨红色预警信号")
        }
    }

    @Test("the node's language decides for recipients without one")
    func nodeLanguage() throws {
        let request = try LoudspeakerAdapter().request(
            for: speaker(1, language: nil), message: try multilingualMessage(defaultLanguage: "ug"))
        let payload = try JSONDecoder().decode(LoudspeakerAdapter.Payload.self, from: try #require(request.body))
        #expect(payload.language == "ug")
    }

    @Test("an SMS is written in the phone's language, signed by the issuer in that language")
    func sms() throws {
        let message = try multilingualMessage()
        let mongolian = SMSText.compose(message, for: speaker(1, language: "mn").recipient, limit: 500)
        #expect(mongolian.hasPrefix("【ᠴᠠᠩᠱᠠ ᠰᠢᠶᠠᠨ ᠤ ᠤᠷᠢᠳᠴᠢᠯᠠᠨ ᠬᠡᠮᠵᠢᠯᠭᠡ ᠶᠢᠨ ᠲᠣᠪᠴᠢᠶᠠ】ᠬᠦᠴᠦᠲᠡᠢ"))
        // Mongolian script lies in the Basic Multilingual Plane: UCS-2 (Kannel's coding=2) carries it.
        #expect(mongolian.unicodeScalars.allSatisfy { $0.value <= 0xFFFF })
        let chinese = SMSText.compose(message, for: speaker(2, language: nil).recipient, limit: 500)
        #expect(chinese.hasPrefix("【长沙县气象局】长沙县气象局发布暴雨红色预警信号"))
    }

    @Test("a message whose first block names the event in Mongolian is read from the block the catalogue knows")
    func blockOrder() throws {
        let warning = try TestSupport.countyWarning(fixture: "rainstorm-red-csx-languages.xml")
        #expect(warning.event == "rainstorm" && warning.level == .red)
        #expect(warning.headline == "长沙县气象局发布暴雨红色预警信号")
        // Without the shared eventCode, a block naming an unknown event is refused as before.
        var text = String(decoding: TestSupport.fixture("rainstorm-red-csx-languages.xml"), as: UTF8.self)
        let mongolianCode = try #require(text.range(of: "<value>rainstorm</value>"))
        text.replaceSubrange(mongolianCode, with: "<value>hail</value>")
        let data = Data(text.utf8)
        let refusal = #expect(throws: IntakeError.self) {
            _ = try IntakeCheck(catalogue: try TestSupport.exampleConfiguration().events)
                .check(try CAPReader.readXML(data), raw: data, format: .xml, principal: TestSupport.countyWeather, now: TestSupport.now)
        }
        guard case .invalidInfoBlock(let index, _)? = refusal else {
            Issue.record("expected info_block_invalid, got \(String(describing: refusal))")
            return
        }
        #expect(index == 0, "the Mongolian block, first in the message")
    }

    @Test("an email carries every language, the node's first")
    func email() throws {
        let context = AdapterContext(
            channel: "email", settings: ["url": "smtp://127.0.0.1:25", "from": "alerts@example.cn", "security": "none"],
            callbacks: callbacks)
        let request = try EmailAdapter(context).request(for: [job(1, "a@x.cn", channel: "email")], message: try multilingualMessage())
        let mail = StoredMail(try #require(request.body))
        let body = String(decoding: try #require(mail.part("text/plain")), as: UTF8.self)
        #expect(mail.subject == "【红色预警】长沙县气象局发布暴雨红色预警信号")
        let chinese = try #require(body.range(of: "长沙县气象局发布暴雨红色预警信号"))
        for other in ["[mn-Mong]\r\nᠬᠦᠴᠦᠲᠡᠢ", "[ug]\r\nقاتتىق", "[en]\r\nChangsha County issues"] {
            let range = try #require(body.range(of: other), "\(other) in the mail")
            #expect(range.lowerBound > chinese.lowerBound)
        }
    }
}
