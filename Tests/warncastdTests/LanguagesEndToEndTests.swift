import Foundation
import Testing
import WarncastNet
import WarncastTestSupport

/// One red warning in Chinese, traditional Mongolian, Uyghur and English, through a running
/// warncastd: each loudspeaker and each phone (through a real Kannel) gets its own
/// language, and the public page shows them all, each set in its own direction.
@Suite("Every language to its own people, end to end", .serialized, .ownThreads)
struct LanguagesEndToEndTests {
    static let mongolian = (headline: "ᠬᠦᠴᠦᠲᠡᠢ ᠪᠣᠷᠤᠭᠠᠨ ᠤ ᠤᠯᠠᠭᠠᠨ ᠰᠡᠷᠡᠮᠵᠢᠯᠡᠯᠭᠡ", instruction: "ᠠᠶᠤᠯ ᠲᠠᠢ ᠭᠠᠵᠠᠷ ᠠᠴᠠ ᠨᠡᠭᠦᠨ ᠵᠠᠶᠠᠯᠠᠭᠠᠷᠠᠢ")
    static let uyghur = (headline: "قاتتىق يامغۇر قىزىل ئاگاھلاندۇرۇشى", instruction: "خەتەرلىك جايلاردىكى كىشىلەرنى يۆتكەڭ")
    static let chinese = (headline: "长沙县气象局发布暴雨红色预警信号", instruction: "停止集会、停课、停业；转移危险地带人员。")

    struct Speaker: Decodable {
        var language: String
        var headline: String
        var text: String
    }

    @Test("a zh-CN + mn-Mong + ug red warning: Mongolian, Uyghur and Chinese loudspeakers and phones each in their own")
    func threeLanguages() async throws {
        let directory = try TestSupport.temporaryDirectory()
        let kannel = try KannelPeer(directory: directory)
        defer { kannel.stop() }
        let fleet = try await LoudspeakerFleet()
        let config = try testConfiguration(
            in: directory,
            recipients: """
                ls-mn,loudspeaker,430121001001,第1村 蒙古语大喇叭,\(fleet.url("mn")),,language=mn-Mong
                ls-ug,loudspeaker,430121001002,第2村 维吾尔语大喇叭,\(fleet.url("ug")),,language=ug
                ls-zh,loudspeaker,430121001003,第3村 大喇叭,\(fleet.url("zh")),,
                ls-mn-short,loudspeaker,430121001004,第4村 大喇叭,\(fleet.url("mn-short")),,language=mn
                sms-mn,sms-duty,430121001,应急责任人（蒙古语）,13800000001,,language=mn-Mong
                sms-ug,sms-duty,430121001,应急责任人（维吾尔语）,13800000002,,language=ug
                sms-zh,sms-duty,430121001,应急责任人,13800000003,,

                """,
            channels: SMSEndToEndTests.channels(kannel), red: ["loudspeaker", "sms-duty"],
            replacing: ["  channels:\n": "  gateways:\n    kannel: { rate_per_second: 20 }\n  channels:\n"])
        let daemon = try DaemonProcess(config: config, directory: directory)
        defer { daemon.stop() }
        let keys = try CurlTransfer.perform(HTTPRequestSpec(url: daemon.url + "/.well-known/warncast-keys"))
        let published = try #require((try JSONSerialization.jsonObject(with: keys.body) as? [String: [[String: Any]]])?["keys"])
        fleet.trust(publicKey: try #require(Data(base64Encoded: published[0]["publicKey"] as? String ?? "")))

        // The Mongolian block comes first in the message; order does not matter.
        let (id, issuer) = try daemon.releaseCountyRed(config: config, body: TestSupport.fixture("rainstorm-red-csx-languages.xml"))
        var summary: [String: Int] = [:]
        let deadline = Date().addingTimeInterval(60)
        while (summary["delivered"] ?? 0) < 7 && Date() < deadline {
            try await Task.sleep(for: .milliseconds(200))
            let answer = try daemon.api("GET", "/v1/warnings/\(id)/deliveries", token: issuer)
            summary = ((try JSONSerialization.jsonObject(with: answer.body) as? [String: Any])?["summary"] as? [String: Int] ?? [:])
                .filter { $0.value > 0 }
        }
        #expect(summary == ["delivered": 7], "\(daemon.log)")

        func speaker(_ name: String) throws -> Speaker {
            try JSONDecoder().decode(Speaker.self, from: try #require(fleet.body(of: name), "\(name) got nothing"))
        }
        let mn = try speaker("mn")
        #expect(mn.language == "mn-Mong" && mn.headline == Self.mongolian.headline && mn.text.contains(Self.mongolian.instruction))
        #expect(try speaker("mn-short").headline == Self.mongolian.headline, "language=mn finds the mn-Mong block")
        let ug = try speaker("ug")
        #expect(ug.language == "ug" && ug.headline == Self.uyghur.headline && ug.text.contains(Self.uyghur.instruction))
        let zh = try speaker("zh")
        #expect(zh.language == "zh-CN" && zh.headline == Self.chinese.headline && zh.text.contains(Self.chinese.instruction))

        // Phones through Kannel, as UCS-2: each in its own script, nothing of the others.
        let received = Dictionary(kannel.received.map { ($0.to, $0.text) }, uniquingKeysWith: { first, _ in first })
        let phoneMn = try #require(received["13800000001"], "\(kannel.received)")
        #expect(phoneMn.contains(Self.mongolian.headline) && phoneMn.contains(Self.mongolian.instruction))
        #expect(!phoneMn.contains("暴雨") && !phoneMn.contains("يامغۇر"))
        let phoneUg = try #require(received["13800000002"])
        #expect(phoneUg.contains(Self.uyghur.headline) && phoneUg.contains(Self.uyghur.instruction) && !phoneUg.contains("暴雨"))
        let phoneZh = try #require(received["13800000003"])
        #expect(phoneZh.contains(Self.chinese.headline) && phoneZh.contains(Self.chinese.instruction), "\(phoneZh)")

        // The public page shows all of them, each in its own direction.
        let page = String(decoding: try CurlTransfer.perform(HTTPRequestSpec(url: daemon.url + "/public")).body, as: UTF8.self)
        #expect(page.contains(#"<div class="info vertical" lang="mn-Mong" dir="ltr">"#) && page.contains(Self.mongolian.headline))
        #expect(page.contains(#"<div class="info" lang="ug" dir="rtl">"#) && page.contains(Self.uyghur.headline))
        #expect(page.contains(#"<div class="info" lang="zh-CN" dir="ltr">"#) && page.contains(Self.chinese.headline))
    }
}
