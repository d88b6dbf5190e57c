import Testing
import WarncastReceiver

@Suite("Choosing the voice by language")
struct VoiceTableTests {
    @Test(
        "the longest configured prefix of the language tag wins, without regard to case",
        arguments: [
            ("zh-CN", "cmn"), ("zh", "cmn"), ("ZH_tw", "cmn"), ("zh-HK", "yue"), ("zh-hk-x-private", "yue"),
            ("en-GB", "en"), ("en", "en"),
        ])
    func prefix(language: String, voice: String) {
        let table = VoiceTable(["zh": "cmn", "en": "en", "zh-HK": "yue"])
        #expect(table.voice(for: language) == voice)
    }

    @Test("a language without a voice has none, so the alert tone plays", arguments: ["mn-Mong", "ug", "", "z", "e"])
    func none(language: String) {
        #expect(VoiceTable.standard.voice(for: language) == nil)
    }

    @Test("the standard table speaks Chinese in Mandarin and English in English")
    func standard() {
        #expect(VoiceTable.standard.voice(for: "zh-CN") == "cmn")
        #expect(VoiceTable.standard.voice(for: "en-US") == "en")
    }
}
