import Foundation

/// CAP 1.2 date-times: `YYYY-MM-DDThh:mm:ss` followed by an explicit `+hh:mm` or `-hh:mm`
/// offset (China uses `+08:00`). Letter zones such as `Z` are not allowed by CAP.
public enum CAPTime {
    public static func parse(_ text: String) -> Date? {
        let chars = Array(text.utf8)
        guard chars.count >= 25 else { return nil }
        func number(_ from: Int, _ length: Int) -> Int? {
            var value = 0
            for index in from..<(from + length) {
                let c = chars[index]
                guard c >= 48, c <= 57 else { return nil }
                value = value * 10 + Int(c - 48)
            }
            return value
        }
        func char(_ at: Int) -> Character { Character(UnicodeScalar(chars[at])) }
        guard char(4) == "-", char(7) == "-", char(10) == "T", char(13) == ":", char(16) == ":",
            let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
            let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2)
        else { return nil }
        var index = 19
        var fraction = 0.0
        if char(index) == "." {
            index += 1
            var scale = 0.1
            while index < chars.count, chars[index] >= 48, chars[index] <= 57 {
                fraction += Double(chars[index] - 48) * scale
                scale /= 10
                index += 1
            }
        }
        guard chars.count == index + 6, char(index) == "+" || char(index) == "-", char(index + 3) == ":",
            let offsetHours = number(index + 1, 2), let offsetMinutes = number(index + 4, 2),
            offsetHours <= 14, offsetMinutes < 60
        else { return nil }
        let sign = char(index) == "+" ? 1 : -1
        var components = DateComponents()
        components.calendar = Calendar(identifier: .gregorian)
        components.timeZone = TimeZone(secondsFromGMT: sign * (offsetHours * 3600 + offsetMinutes * 60))
        (components.year, components.month, components.day) = (year, month, day)
        (components.hour, components.minute, components.second) = (hour, minute, second)
        guard components.isValidDate, let date = components.date else { return nil }
        return date.addingTimeInterval(fraction)
    }

    /// Formats a date the way CAP wants it, in China Standard Time.
    public static func format(_ date: Date, offsetSeconds: Int = 8 * 3600) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: offsetSeconds)!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let sign = offsetSeconds >= 0 ? "+" : "-"
        let offset = abs(offsetSeconds)
        let local = String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
        return local + sign + String(format: "%02d:%02d", offset / 3600, (offset % 3600) / 60)
    }
}
