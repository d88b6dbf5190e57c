import Foundation

/// How fast a warning of one level must move: approved (released) within `approval` of
/// submission, and `coveragePercent` of its villages reached within `coverage` of release.
public struct TimelinessThreshold: Sendable, Codable, Equatable {
    public var approval: TimeInterval?
    public var coveragePercent: Int
    public var coverage: TimeInterval?

    public init(approval: TimeInterval?, coveragePercent: Int = 95, coverage: TimeInterval?) {
        self.approval = approval
        self.coveragePercent = coveragePercent
        self.coverage = coverage
    }
}

/// When a warning reached how many of its divisions, over all channels or one. A division
/// (usually a village) counts as reached when the first of its recipients on that channel
/// (or any channel) has the warning.
public struct CoverageMarks: Sendable, Codable, Equatable {
    /// nil for all channels together.
    public var channel: String?
    public var divisions: Int
    public var reached: Int
    /// Of those reached, the divisions where a terminal reported broadcasting it.
    /// (Absent from nodes older than playback reports.)
    public var heard: Int?
    public var firstAt: String?
    public var p50At: String?
    public var p95At: String?
    public var p100At: String?
}

/// A step that took longer than its threshold, or has not happened although it is due.
public struct LateStep: Sendable, Codable, Equatable {
    /// `approval` or `coverage`.
    public var step: String
    public var limitSeconds: Double
    /// How long it took; nil while it has not happened.
    public var tookSeconds: Double?
    public var detail: String
}

/// The life of one warning in time: submitted, each approval, released, first delivery,
/// 50 / 95 / 100 % of its divisions reached (in total and per channel), and the steps that
/// were late by the configured thresholds.
public struct WarningTimeline: Sendable, Codable, Equatable {
    public struct Decision: Sendable, Codable, Equatable {
        public var name: String
        public var role: String
        public var decision: String
        public var at: String
    }

    public var warning: Warning.ID
    public var level: Level
    public var submittedAt: Timestamp
    public var decisions: [Decision]
    public var releasedAt: Timestamp?
    public var coverage: [CoverageMarks]
    public var threshold: TimelinessThreshold?
    public var late: [LateStep]
    /// Per channel, the deliveries not reached yet that have been tried and are being
    /// retried: how many, since when, and the last error.
    public var retrying: [Retrying] = []
    /// The terminals of its area as it was released (the `terminals.at_release` audit
    /// entry): terminals, online, offline, faulty, silent and silent_divisions.
    public var terminalsAtRelease: [String: String]?

    public struct Retrying: Sendable, Codable, Equatable {
        public var channel: String
        public var deliveries: Int
        /// The first attempt of the longest-retried of them.
        public var since: Timestamp?
        public var lastError: String?

        public init(channel: String, deliveries: Int, since: Timestamp?, lastError: String?) {
            self.channel = channel
            self.deliveries = deliveries
            self.since = since
            self.lastError = lastError
        }
    }

    /// One division's first delivery on one channel (nil: not reached on it).
    public struct Reach: Sendable, Equatable {
        public var channel: String
        public var division: String
        public var firstDelivered: Date?
        /// When a terminal there first reported broadcasting it.
        public var firstPlayed: Date?

        public init(channel: String, division: String, firstDelivered: Date?, firstPlayed: Date? = nil) {
            self.channel = channel
            self.division = division
            self.firstDelivered = firstDelivered
            self.firstPlayed = firstPlayed
        }
    }

    public init(warning: Warning, reaches: [Reach], threshold: TimelinessThreshold?, now: Date) {
        self.warning = warning.id
        level = warning.level
        submittedAt = warning.receivedAt
        decisions = (warning.approval?.approvals ?? []).map {
            Decision(name: $0.name, role: $0.role, decision: $0.decision.rawValue, at: $0.at)
        }.sorted { $0.at < $1.at }
        releasedAt = warning.approval?.releasedAt
        self.threshold = threshold
        var byDivision: [String: Date?] = [:]
        for reach in reaches {
            let earlier = byDivision[reach.division] ?? nil
            byDivision[reach.division] = [earlier, reach.firstDelivered].compactMap { $0 }.min()
        }
        var marks = [Self.marks(channel: nil, Array(byDivision.values))]
        marks[0].heard = Set(reaches.filter { $0.firstPlayed != nil }.map(\.division)).count
        for channel in Set(reaches.map(\.channel)).sorted() {
            let own = reaches.filter { $0.channel == channel }
            marks.append(Self.marks(channel: channel, own.map(\.firstDelivered)))
            marks[marks.count - 1].heard = own.filter { $0.firstPlayed != nil }.count
        }
        coverage = marks
        late = Self.lateSteps(
            submitted: warning.receivedAt.date, released: releasedAt?.date,
            status: warning.status, total: byDivision.values.map { $0 }, threshold: threshold, now: now)
    }

    /// The time the `q`-th share of `times.count` divisions was reached (nearest rank).
    static func reachedAt(_ q: Double, of sorted: [Date], divisions: Int) -> Date? {
        guard divisions > 0 else { return nil }
        let rank = max(1, Int((q * Double(divisions)).rounded(.up)))
        return rank <= sorted.count ? sorted[rank - 1] : nil
    }

    static func marks(channel: String?, _ times: [Date?]) -> CoverageMarks {
        let sorted = times.compactMap { $0 }.sorted()
        let at = { (q: Double) in reachedAt(q, of: sorted, divisions: times.count).map(Timestamp.string) }
        return CoverageMarks(
            channel: channel, divisions: times.count, reached: sorted.count, firstAt: sorted.first.map(Timestamp.string),
            p50At: at(0.5), p95At: at(0.95), p100At: at(1.0))
    }

    static func lateSteps(
        submitted: Date?, released: Date?, status: WarningStatus, total: [Date?], threshold: TimelinessThreshold?, now: Date
    ) -> [LateStep] {
        guard let threshold, let submitted else { return [] }
        var late: [LateStep] = []
        // Never released and waiting still, or expired waiting.
        let stillOpen = status == .pendingApproval || status == .expired
        if let limit = threshold.approval {
            if let released {
                let took = released.timeIntervalSince(submitted)
                if took > limit {
                    late.append(
                        LateStep(
                            step: "approval", limitSeconds: limit, tookSeconds: took,
                            detail: "released \(Self.minutes(took)) after submission (limit \(Self.minutes(limit)))"))
                }
            } else if stillOpen && now.timeIntervalSince(submitted) > limit {
                late.append(
                    LateStep(
                        step: "approval", limitSeconds: limit, tookSeconds: nil,
                        detail:
                            "not released \(Self.minutes(now.timeIntervalSince(submitted))) after submission (limit \(Self.minutes(limit)))"
                    ))
            }
        }
        if let limit = threshold.coverage, let released, !total.isEmpty {
            let q = Double(threshold.coveragePercent) / 100
            let sorted = total.compactMap { $0 }.sorted()
            if let at = reachedAt(q, of: sorted, divisions: total.count) {
                let took = at.timeIntervalSince(released)
                if took > limit {
                    late.append(
                        LateStep(
                            step: "coverage", limitSeconds: limit, tookSeconds: took,
                            detail:
                                "\(threshold.coveragePercent)% of \(total.count) divisions reached \(Self.minutes(took)) after release (limit \(Self.minutes(limit)))"
                        ))
                }
            } else if now.timeIntervalSince(released) > limit {
                late.append(
                    LateStep(
                        step: "coverage", limitSeconds: limit, tookSeconds: nil,
                        detail:
                            "\(sorted.count) of \(total.count) divisions reached; \(threshold.coveragePercent)% not reached \(Self.minutes(now.timeIntervalSince(released))) after release (limit \(Self.minutes(limit)))"
                    ))
            }
        }
        return late
    }

    static func minutes(_ seconds: TimeInterval) -> String {
        seconds < 120 ? String(format: "%.0f s", seconds) : String(format: "%.1f min", seconds / 60)
    }
}

/// As a lower-tier node tells its upper node: the first delivery as a CAP-style time.
extension WarningTimeline.Reach: Codable {
    enum CodingKeys: String, CodingKey { case channel, division, firstDelivered, firstPlayed }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        channel = try container.decode(String.self, forKey: .channel)
        division = try container.decode(String.self, forKey: .division)
        firstDelivered = try container.decodeIfPresent(Timestamp.self, forKey: .firstDelivered)?.date
        firstPlayed = try container.decodeIfPresent(Timestamp.self, forKey: .firstPlayed)?.date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(channel, forKey: .channel)
        try container.encode(division, forKey: .division)
        try container.encodeIfPresent(firstDelivered.map(Timestamp.init), forKey: .firstDelivered)
        try container.encodeIfPresent(firstPlayed.map(Timestamp.init), forKey: .firstPlayed)
    }
}
