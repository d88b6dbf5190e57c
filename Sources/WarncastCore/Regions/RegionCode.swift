/// A Chinese administrative division code: 6 digits for a province, city or county,
/// 9 for a township, 12 for a village. Its tier and what it contains follow from its digits.
public struct RegionCode: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let rawValue: String

    /// Validates the shape of a code. Whether the division exists is the registry's question.
    public init?(_ text: String) {
        let digits = text.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        guard digits, [6, 9, 12].contains(text.utf8.count) else { return nil }
        let province = text.prefix(2)
        guard province != "00" else { return nil }
        self.rawValue = text
    }

    public var tier: Tier {
        switch rawValue.count {
        case 12: return .village
        case 9: return .township
        default:
            if rawValue.hasSuffix("0000") { return .province }
            if rawValue.hasSuffix("00") { return .city }
            return .county
        }
    }

    /// The digits that every code inside this division starts with:
    /// `43` for 430000, `4301` for 430100, `430102` for 430102.
    public var prefix: Substring {
        switch tier {
        case .province: rawValue.prefix(2)
        case .city: rawValue.prefix(4)
        default: rawValue[...]
        }
    }

    /// Whether `other` lies strictly inside this division ("430100 contains 430102001001").
    public func contains(_ other: RegionCode) -> Bool {
        other != self && other.tier > tier && other.rawValue.hasPrefix(prefix)
    }

    /// Whether this division is `other` or lies inside it.
    public func isWithin(_ other: RegionCode) -> Bool {
        self == other || other.contains(self)
    }

    /// Whether one of the two divisions lies within the other.
    public func overlaps(_ other: RegionCode) -> Bool {
        isWithin(other) || other.isWithin(self)
    }

    public var description: String { rawValue }

    public static func < (lhs: RegionCode, rhs: RegionCode) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let code = RegionCode(text) else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "'\(text)' is not a division code (6, 9 or 12 digits)"))
        }
        self = code
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
