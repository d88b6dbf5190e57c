import WarncastCore

/// What the terminal reports of itself in heartbeats, decided from what it did: `broadcasting`
/// while playing, `fault` after a failed broadcast until one succeeds, `recovered` on the
/// first heartbeat (not sent while playing) after that, else `normal`. Pure; `TerminalMonitor`
/// shares it between the player and the heartbeats.
public struct TerminalCondition: Sendable, Equatable {
    public private(set) var playing = false
    public private(set) var faulty = false
    /// A fault cleared and no heartbeat has said so yet.
    public private(set) var recoveryUnreported = false
    /// The idempotency key of the last warning played.
    public private(set) var lastPlayed: String?

    public init() {}

    public mutating func beganPlaying() {
        playing = true
    }

    public mutating func finished(_ key: String, succeeded: Bool) {
        playing = false
        if succeeded {
            lastPlayed = key
            if faulty { recoveryUnreported = true }
            faulty = false
        } else {
            faulty = true
            recoveryUnreported = false
        }
    }

    /// The status for the heartbeat being sent now; `recovered` is said once.
    public mutating func heartbeatStatus() -> TerminalStatus {
        if playing { return .broadcasting }
        if faulty { return .fault }
        if recoveryUnreported {
            recoveryUnreported = false
            return .recovered
        }
        return .normal
    }

    /// A heartbeat saying `status` did not reach the node: a recovery is said again next time.
    public mutating func notSent(_ status: TerminalStatus) {
        if status == .recovered && !faulty { recoveryUnreported = true }
    }
}
