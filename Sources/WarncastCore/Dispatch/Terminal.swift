import Foundation

/// What a broadcast terminal says of itself in a heartbeat, in the words China's emergency
/// broadcast terminals report their work state with.
public enum TerminalStatus: String, Sendable, Codable, CaseIterable {
    case normal
    /// Switched off (a terminal says so as it shuts down).
    case off
    case fault
    /// Working again after a fault.
    case recovered
    /// Playing a message now.
    case broadcasting

    /// Whether a terminal in this state can broadcast a warning.
    public var canBroadcast: Bool { self != .off && self != .fault }
}

/// One heartbeat: `POST /v1/terminals/{id}/heartbeat`.
public struct TerminalHeartbeat: Sendable, Codable, Equatable {
    public var status: TerminalStatus
    /// 0…100.
    public var volume: Int?
    /// The idempotency key of the last message it played.
    public var lastPlayed: String?
    public var version: String?

    public init(status: TerminalStatus, volume: Int? = nil, lastPlayed: String? = nil, version: String? = nil) {
        self.status = status
        self.volume = volume
        self.lastPlayed = lastPlayed
        self.version = version
    }
}

/// A terminal's broadcast report on one message: `POST /v1/terminals/{id}/playback`.
public struct TerminalPlayback: Sendable, Codable, Equatable {
    public var idempotencyKey: String
    public var started: Timestamp
    public var ended: Timestamp
    public var timesPlayed: Int
    /// `played`, or `failed` with `detail` (the message was received but not broadcast).
    public var result: String
    public var detail: String?

    public init(idempotencyKey: String, started: Timestamp, ended: Timestamp, timesPlayed: Int, result: String, detail: String? = nil) {
        self.idempotencyKey = idempotencyKey
        self.started = started
        self.ended = ended
        self.timesPlayed = timesPlayed
        self.result = result
        self.detail = detail
    }
}

/// Which recipients are terminals (those on channels of kind loudspeaker) and when one is
/// offline: no heartbeat for `missedBeats` intervals. A terminal that never sent one is
/// offline too: nothing says it works.
public struct TerminalWatch: Sendable, Equatable {
    public var channels: [String]
    public var heartbeatSeconds: Int
    public var missedBeats: Int

    public init(channels: [String], heartbeatSeconds: Int = 20, missedBeats: Int = 3) {
        self.channels = channels
        self.heartbeatSeconds = heartbeatSeconds
        self.missedBeats = missedBeats
    }

    /// A terminal last heard before this time is offline.
    public func offlineBefore(_ now: Date) -> Timestamp {
        Timestamp(now.addingTimeInterval(-Double(heartbeatSeconds * missedBeats)))
    }
}

/// One terminal as `GET /v1/terminals` lists it.
public struct TerminalView: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var region: String
    public var channel: String
    /// Heard from within the offline limit, and not switched off.
    public var online: Bool
    /// The last status reported; nil if it never sent a heartbeat.
    public var status: TerminalStatus?
    public var lastSeenAt: Timestamp?
    public var volume: Int?
    public var lastPlayed: String?
    public var version: String?

    public init(
        id: String, name: String, region: String, channel: String, online: Bool, status: TerminalStatus?, lastSeenAt: Timestamp?,
        volume: Int?, lastPlayed: String?, version: String?
    ) {
        self.id = id
        self.name = name
        self.region = region
        self.channel = channel
        self.online = online
        self.status = status
        self.lastSeenAt = lastSeenAt
        self.volume = volume
        self.lastPlayed = lastPlayed
        self.version = version
    }
}

/// The terminals of an area: how many, how many online, and the villages (or whatever
/// division the terminals are registered in) where none is online and able to broadcast.
public struct TerminalSummary: Sendable, Codable, Equatable {
    public var terminals: Int
    public var online: Int
    public var offline: Int
    /// Online but reporting a fault.
    public var faulty: Int
    /// Divisions with terminals of which none is online and working, by code, at most 1000.
    public var silent: [SilentDivision]
    /// How many such divisions there are in all.
    public var silentCount: Int
    /// Villages of the region registry within the area with no terminal at all (they hear
    /// nothing by loudspeaker whatever the terminals do), by code, at most 1000.
    public var unequipped: [SilentDivision] = []
    /// How many such villages there are in all.
    public var unequippedCount = 0

    public struct SilentDivision: Sendable, Codable, Equatable {
        public var code: String
        public var name: String?
        public var terminals: Int

        public init(code: String, name: String?, terminals: Int) {
            self.code = code
            self.name = name
            self.terminals = terminals
        }
    }

    public init(terminals: Int, online: Int, offline: Int, faulty: Int, silent: [SilentDivision], silentCount: Int) {
        self.terminals = terminals
        self.online = online
        self.offline = offline
        self.faulty = faulty
        self.silent = silent
        self.silentCount = silentCount
    }

    public static let none = TerminalSummary(terminals: 0, online: 0, offline: 0, faulty: 0, silent: [], silentCount: 0)

    private enum CodingKeys: String, CodingKey {
        case terminals, online, offline, faulty, silent, silentCount, unequipped, unequippedCount
    }

    /// Reads a summary written before `unequipped` existed (an older node's) as none.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        terminals = try container.decode(Int.self, forKey: .terminals)
        online = try container.decode(Int.self, forKey: .online)
        offline = try container.decode(Int.self, forKey: .offline)
        faulty = try container.decode(Int.self, forKey: .faulty)
        silent = try container.decode([SilentDivision].self, forKey: .silent)
        silentCount = try container.decode(Int.self, forKey: .silentCount)
        unequipped = try container.decodeIfPresent([SilentDivision].self, forKey: .unequipped) ?? []
        unequippedCount = try container.decodeIfPresent(Int.self, forKey: .unequippedCount) ?? 0
    }
}

/// Online and offline terminals in one division.
public struct TerminalCount: Sendable, Codable, Equatable {
    public var region: String
    public var name: String?
    public var online: Int
    public var offline: Int

    public init(region: String, name: String?, online: Int, offline: Int) {
        self.region = region
        self.name = name
        self.online = online
        self.offline = offline
    }
}
