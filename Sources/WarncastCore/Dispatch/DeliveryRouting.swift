/// Which channels a warning goes out on: by level, optionally narrowed per event type.
public struct DeliveryRouting: Sendable, Equatable {
    public var byLevel: [Level: [String]]
    /// Per event code, levels whose channel list replaces the general one.
    public var byEvent: [String: [Level: [String]]]
    /// Channels whose recipients stand for a whole division (lower-tier nodes): they get a
    /// warning whose area overlaps theirs, e.g. a county node a warning for one of its
    /// townships, not only one covering the whole county.
    public var covering: Set<String>
    /// Which channels' recipients are broadcast terminals that send heartbeats, and when one
    /// counts as offline (`dispatch.terminals`); the adapters' registry fills in the channels.
    public var terminals: TerminalWatch

    public init(
        byLevel: [Level: [String]], byEvent: [String: [Level: [String]]] = [:], covering: Set<String> = [],
        terminals: TerminalWatch = TerminalWatch(channels: [])
    ) {
        self.terminals = terminals
        self.byLevel = byLevel
        self.byEvent = byEvent
        self.covering = covering
    }

    public func channels(level: Level, event: String) -> [String] {
        byEvent[event]?[level] ?? byLevel[level] ?? []
    }
}
