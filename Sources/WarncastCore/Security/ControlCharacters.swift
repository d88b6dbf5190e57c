import Foundation

/// Control characters at the edges: text Warncast accepts ends up in XML (CAP, Atom), in
/// SQLite and in the audit log, and XML 1.0 cannot carry U+0000 to U+001F other than tab,
/// line feed and carriage return, nor the noncharacters U+FFFE and U+FFFF, so such text is
/// refused where it comes in (one in a JSON warning made its CAP, and every public Atom
/// feed listing it, unreadable to any XML reader).
public enum ControlCharacters {
    /// Whether `scalar` is one of those XML 1.0 forbids.
    public static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
        (scalar.value < 0x20 && scalar != "\t" && scalar != "\n" && scalar != "\r") || scalar.value == 0xFFFE
            || scalar.value == 0xFFFF
    }

    /// The first forbidden character in `text`, if any.
    public static func first(in text: some StringProtocol) -> UInt32? {
        text.unicodeScalars.first(where: isForbidden)?.value
    }

    /// The first forbidden character a JSON document carries, escaped (`\u0000`) or raw.
    public static func firstEscaped(inJSON data: Data) -> UInt32? {
        let bytes = [UInt8](data)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte < 0x20, byte != 0x09, byte != 0x0A, byte != 0x0D { return UInt32(byte) }
            // U+FFFE and U+FFFF in UTF-8: EF BF BE, EF BF BF.
            if byte == 0xEF, index + 2 < bytes.count, bytes[index + 1] == 0xBF, bytes[index + 2] >= 0xBE {
                return bytes[index + 2] == 0xBE ? 0xFFFE : 0xFFFF
            }
            guard byte == UInt8(ascii: "\\"), index + 1 < bytes.count else {
                index += 1
                continue
            }
            if bytes[index + 1] == UInt8(ascii: "u"), index + 5 < bytes.count,
                let value = UInt32(String(decoding: bytes[(index + 2)...(index + 5)], as: UTF8.self), radix: 16),
                let scalar = Unicode.Scalar(value), isForbidden(scalar)
            {
                return value
            }
            index += 2  // an escape: the next character is never an escape of its own
        }
        return nil
    }

    /// The first forbidden character of a URI given with its percent escapes (`%00`).
    public static func firstEscaped(inURI uri: String) -> UInt32? {
        if let raw = first(in: uri) { return raw }
        var rest = Substring(uri)
        while let percent = rest.firstIndex(of: "%") {
            let hex = rest[rest.index(after: percent)...].prefix(2)
            if hex.count == 2, let value = UInt32(hex, radix: 16), value < 0x20 || value == 0x7F { return value }
            rest = rest[rest.index(after: percent)...]
        }
        return nil
    }
}
