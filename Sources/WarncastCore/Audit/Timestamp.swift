import Foundation

/// RFC 3339 timestamps in UTC with milliseconds (`2026-07-01T00:00:00.000Z`), as the store
/// and the audit log write them. Sorting the strings sorts the times.
public enum Timestamp {
    public static func string(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(millis / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        // Written digit by digit: this runs for every delivery attempt, and String(format:)
        // showed up in profiles of large fan-outs.
        var bytes = [UInt8](repeating: 0, count: 24)
        func put(_ value: Int, _ width: Int, at offset: Int) {
            var value = value
            for index in stride(from: offset + width - 1, through: offset, by: -1) {
                bytes[index] = UInt8(48 + value % 10)
                value /= 10
            }
        }
        put(Int(parts.tm_year) + 1900, 4, at: 0)
        put(Int(parts.tm_mon) + 1, 2, at: 5)
        put(Int(parts.tm_mday), 2, at: 8)
        put(Int(parts.tm_hour), 2, at: 11)
        put(Int(parts.tm_min), 2, at: 14)
        put(Int(parts.tm_sec), 2, at: 17)
        put(Int(millis % 1000), 3, at: 20)
        for (offset, character) in [(4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":"), (19, "."), (23, "Z")] as [(Int, Character)] {
            bytes[offset] = character.asciiValue!
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads either this format or a CAP time with an explicit offset.
    public static func parse(_ text: String) -> Date? {
        if text.hasSuffix("Z") {
            var local = String(text.dropLast())
            if let dot = local.firstIndex(of: ".") { local = String(local[..<dot]) }
            guard let whole = CAPTime.parse(local + "+00:00") else { return nil }
            let fraction = text.firstIndex(of: ".").flatMap { Double("0" + text[$0...].dropLast()) } ?? 0
            return whole.addingTimeInterval(fraction)
        }
        return CAPTime.parse(text)
    }
}
