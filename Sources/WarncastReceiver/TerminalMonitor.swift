import WarncastCore

/// The terminal's condition, shared by the player (which changes it) and the heartbeats
/// (which report it).
public actor TerminalMonitor {
    private var condition = TerminalCondition()

    public init() {}

    public var lastPlayed: String? { condition.lastPlayed }

    public func beganPlaying() { condition.beganPlaying() }

    public func finished(_ key: String, succeeded: Bool) { condition.finished(key, succeeded: succeeded) }

    /// The next heartbeat to send.
    public func heartbeat(version: String) -> TerminalHeartbeat {
        TerminalHeartbeat(status: condition.heartbeatStatus(), lastPlayed: condition.lastPlayed, version: version)
    }

    public func notSent(_ heartbeat: TerminalHeartbeat) { condition.notSent(heartbeat.status) }
}
