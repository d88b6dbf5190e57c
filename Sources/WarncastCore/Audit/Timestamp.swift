import Foundation

/// A moment as the store and the audit log write it: RFC 3339 in UTC with milliseconds
/// (`2026-07-01T00:00:00.000Z`). The text is kept exactly as written, so a value read back
/// and written again is byte for byte the same (seals and hashes depend on it). Every
/// timestamp Warncast writes has this fixed-width form, so ordering the texts orders the times.
public struct Timestamp: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The canonical text.
    public let text: String

    public init(_ date: Date) {
        text = Self.string(date)
    }

    /// A timestamp read back as it was written; nil when `text` is not a time at all.
    public init?(text: String) {
        guard Self.parse(text) != nil else { return nil }
        self.text = text
    }

    /// A timestamp Warncast itself wrote (a store column), taken as it is: reading one must
    /// not cost a date parse, since every lease and every result reads a dozen.
    public init(stored text: String) {
        self.text = text
    }

    public var date: Date { Self.parse(text) ?? Date(timeIntervalSince1970: 0) }

    public var description: String { text }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.text < rhs.text }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard Self.parse(text) != nil else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a timestamp: \(text)"))
        }
        self.text = text
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }

    /// `seconds` later, in the same form.
    public func adding(_ seconds: TimeInterval) -> Timestamp { Timestamp(date.addingTimeInterval(seconds)) }

    public static func string(_ date: Date) -> String {
        // Truncated to the millisecond, but a date read from this form (whole seconds plus
        // a fraction such as 0.001, which a double holds a hair short) must write back the
        // same text: half a microsecond of slack.
        let millis = Int64((date.timeIntervalSince1970 * 1000 + 0.0005).rounded(.down))
        // Whole seconds rounded down and a fraction of 0...999 also before 1970, where
        // Swift's `/` and `%` would round towards zero and give a negative fraction.
        let fraction = (millis % 1000 + 1000) % 1000
        var seconds = time_t((millis - fraction) / 1000)
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
        put(Int(fraction), 3, at: 20)
        for (offset, character) in [(4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":"), (19, "."), (23, "Z")] as [(Int, Character)] {
            bytes[offset] = character.asciiValue!
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads either this format or a CAP time with an explicit offset.
    /// RFC 3339 allows `t` and `z` in lower case; they are read as `T` and `Z`.
    public static func parse(_ original: String) -> Date? {
        if let date = parseCanonical(original) { return date }
        let text = original.count > 10 ? original.uppercased() : original
        if text.hasSuffix("Z") {
            var local = String(text.dropLast())
            if let dot = local.firstIndex(of: ".") { local = String(local[..<dot]) }
            guard let whole = CAPTime.parse(local + "+00:00") else { return nil }
            let fraction = text.firstIndex(of: ".").flatMap { Double("0" + text[$0...].dropLast()) } ?? 0
            return whole.addingTimeInterval(fraction)
        }
        return CAPTime.parse(text)
    }

    /// The form Warncast writes (`2026-07-01T00:00:00.000Z`, 24 bytes), read without building
    /// strings or asking a calendar: every delivery read from the store parses a few. Nil for
    /// anything else, which `parse` then reads the general way.
    private static func parseCanonical(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { bytes -> Date? in
            guard bytes.count == 24, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"),
                bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"), bytes[19] == UInt8(ascii: "."),
                bytes[23] == UInt8(ascii: "Z")
            else { return nil }
            func number(_ from: Int, _ length: Int) -> Int? {
                var value = 0
                for index in from..<(from + length) {
                    let digit = Int(bytes[index]) - 48
                    guard (0...9).contains(digit) else { return nil }
                    value = value * 10 + digit
                }
                return value
            }
            guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
                let minute = number(14, 2), let second = number(17, 2), let millis = number(20, 3),
                (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year), hour < 24, minute < 60, second < 60
            else { return nil }
            let seconds = daysSinceEpoch(year: year, month: month, day: day) * 86400 + hour * 3600 + minute * 60 + second
            // Whole seconds first, then the fraction, as the general path adds them.
            return Date(timeIntervalSince1970: TimeInterval(seconds)).addingTimeInterval(Double(millis) / 1000)
        }
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 to the given date of the proleptic Gregorian calendar.
    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        // Counted in years that begin on 1 March, so the leap day falls at a year's end.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146097 + dayOfEra - 719468
    }
}
