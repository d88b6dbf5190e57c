/// A warning level as published in China: blue (IV, 一般), yellow (III, 较重),
/// orange (II, 严重) and red (I, 特别严重).
public enum Level: String, Sendable, Codable, CaseIterable, Comparable {
    case blue, yellow, orange, red

    /// The CAP severity this level is published with.
    public var severity: Severity {
        switch self {
        case .blue: .minor
        case .yellow: .moderate
        case .orange: .severe
        case .red: .extreme
        }
    }

    /// The level a CAP severity stands for, when the message names no level of its own.
    public init?(severity: Severity) {
        guard let level = Level.allCases.first(where: { $0.severity == severity }) else { return nil }
        self = level
    }

    private var rank: Int { Level.allCases.firstIndex(of: self)! }

    public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rank < rhs.rank }
}

/// CAP 1.2 `<severity>`.
public enum Severity: String, Sendable, Codable, CaseIterable {
    case extreme = "Extreme"
    case severe = "Severe"
    case moderate = "Moderate"
    case minor = "Minor"
    case unknown = "Unknown"
}
