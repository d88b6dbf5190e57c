/// The name of a kind of channel adapter, as the configuration's `adapter:` gives it
/// (`loudspeaker`, `kannel` …). Each adapter declares its own; the registry knows which exist.
public struct AdapterKind: RawRepresentable, Hashable, Comparable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    public init(stringLiteral value: String) {
        rawValue = value
    }

    public var description: String { rawValue }

    public static func < (lhs: AdapterKind, rhs: AdapterKind) -> Bool { lhs.rawValue < rhs.rawValue }
}
