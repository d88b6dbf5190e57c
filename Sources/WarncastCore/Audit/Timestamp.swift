import Foundation

/// RFC 3339 timestamps in UTC with milliseconds (`2026-07-01T00:00:00.000Z`), as the store
/// and the audit log write them. Sorting the strings sorts the times.
public enum Timestamp {
    public static func string(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(millis / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(millis % 1000))
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
