/// Which channels a warning goes out on: by level, optionally narrowed per event type.
public struct DeliveryRouting: Sendable, Equatable {
    public var byLevel: [Level: [String]]
    /// Per event code, levels whose channel list replaces the general one.
    public var byEvent: [String: [Level: [String]]]

    public init(byLevel: [Level: [String]], byEvent: [String: [Level: [String]]] = [:]) {
        self.byLevel = byLevel
        self.byEvent = byEvent
    }

    public func channels(level: Level, event: String) -> [String] {
        byEvent[event]?[level] ?? byLevel[level] ?? []
    }
}
