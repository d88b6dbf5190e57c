/// How a block of text in a language is set on a page: left to right, right to left
/// (Uyghur, Kazakh in Arabic script), or in vertical lines (traditional Mongolian script).
public enum WritingMode: String, Sendable {
    case leftToRight = "ltr"
    case rightToLeft = "rtl"
    /// Top to bottom, lines from left to right, as traditional Mongolian is read.
    case vertical

    /// The HTML `dir` of the block (vertical Mongolian runs left to right within its lines).
    public var direction: String { self == .rightToLeft ? "rtl" : "ltr" }

    /// Scripts (ISO 15924) written right to left.
    static let rightToLeftScripts: Set<String> = ["arab", "hebr", "syrc", "thaa", "nkoo", "adlm", "rohg"]
    /// Languages whose usual script runs right to left when the tag names no script.
    static let rightToLeftLanguages: Set<String> = ["ar", "fa", "he", "ug", "ur", "ps", "sd", "yi", "dv", "ckb", "iw"]

    /// The mode for a language tag, read from its script subtag (`mn-Mong`, `kk-Arab`,
    /// `ug-Latn`) or, without one, its language (`ug`, `ar`). When the tag alone does not
    /// tell (`mn` is Cyrillic in Mongolia but traditional script in China; `kk` is Cyrillic
    /// in Kazakhstan and Arabic in Xinjiang), the text decides by its first letters.
    public static func of(language tag: String?, text: String = "") -> WritingMode {
        let parts = (tag ?? "").lowercased().split(whereSeparator: { $0 == "-" || $0 == "_" }).map(String.init)
        if let script = parts.dropFirst().first(where: { $0.count == 4 && $0.allSatisfy(\.isLetter) }) {
            if script == "mong" { return .vertical }
            return rightToLeftScripts.contains(script) ? .rightToLeft : .leftToRight
        }
        if let language = parts.first, rightToLeftLanguages.contains(language) { return .rightToLeft }
        return ofText(text) ?? .leftToRight
    }

    /// The mode of the first letters of `text` that belong to a script with a mode of its own.
    static func ofText(_ text: String) -> WritingMode? {
        for scalar in text.unicodeScalars.prefix(200) {
            switch scalar.value {
            case 0x1800...0x18AF, 0x11660...0x1167F: return .vertical  // Mongolian
            case 0x0590...0x08FF, 0xFB1D...0xFDFF, 0xFE70...0xFEFF: return .rightToLeft  // Hebrew, Arabic
            case 0x0041...0x005A, 0x0061...0x007A, 0x00C0...0x024F, 0x0400...0x04FF, 0x4E00...0x9FFF: return .leftToRight
            default: continue
            }
        }
        return nil
    }
}
