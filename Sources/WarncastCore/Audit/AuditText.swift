/// Text as the audit log stores it. SQLite hands text back up to its first NUL, so a
/// control character in an attacker's string would make an entry read differently from
/// what was hashed; and a refusal must not store 64 KB of whatever a stranger sent.
public enum AuditText {
    /// Characters kept of a field; the rest is replaced by a note of how much was cut.
    public static let limit = 256

    /// `text` with every C0 control character and DEL written as `\u{…}`, cut to `limit`
    /// characters.
    public static func storable(_ text: String, limit: Int = limit) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count == limit {
                return out + "…(\(text.unicodeScalars.count - count) more)"
            }
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
            count += 1
        }
        return out
    }
}
