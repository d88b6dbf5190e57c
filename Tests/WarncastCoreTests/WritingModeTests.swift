import Testing
import WarncastCore

@Suite("How each language's text is set")
struct WritingModeTests {
    @Test(
        "the script subtag decides, then a right-to-left language, then the text's own letters",
        arguments: [
            ("mn-Mong", "", WritingMode.vertical), ("mn", "ᠬᠦᠴᠦᠲᠡᠢ ᠪᠣᠷᠤᠭᠠᠨ", .vertical), ("mn", "Аадар бороо", .leftToRight),
            ("mn-Cyrl", "ᠬᠦᠴᠦᠲᠡᠢ", .leftToRight), ("ug", "2026 قاتتىق يامغۇر", .rightToLeft), ("ug", "", .rightToLeft),
            ("ug-Latn", "Qattiq yamghur", .leftToRight), ("kk-Arab", "", .rightToLeft), ("kk", "Қатты жаңбыр", .leftToRight),
            ("kk", "قاتتى جاڭبىر", .rightToLeft), ("zh-CN", "暴雨", .leftToRight), ("en", "", .leftToRight), (nil, "", .leftToRight),
        ] as [(String?, String, WritingMode)])
    func modes(tag: String?, text: String, mode: WritingMode) {
        #expect(WritingMode.of(language: tag, text: text) == mode)
    }

    @Test("a vertical block still runs left to right within its lines")
    func direction() {
        #expect(WritingMode.vertical.direction == "ltr" && WritingMode.rightToLeft.direction == "rtl")
    }
}
