import Foundation

/// How a warning's deliveries came out in one division, counted over every recipient in it.
public struct RollupEntry: Sendable, Codable, Equatable {
    public var region: RegionCode
    public var tier: Tier
    public var name: String?
    public var targeted: Int
    /// Queued or being sent.
    public var pending: Int
    public var accepted: Int
    /// Reached: delivered, played or not.
    public var delivered: Int
    /// Of the delivered, those a terminal reported broadcasting (heard, not only received).
    public var heard: Int = 0
    public var failed: Int
    public var expired: Int
    public var superseded: Int
    /// Seconds from release to delivery, over the delivered ones.
    public var p50Seconds: Double?
    public var p95Seconds: Double?
    public var maxSeconds: Double?

    /// Delivered out of targeted, 0…1.
    public var coverage: Double { targeted == 0 ? 0 : Double(delivered) / Double(targeted) }

    public init(
        region: RegionCode, tier: Tier, name: String?, targeted: Int, pending: Int, accepted: Int, delivered: Int, failed: Int,
        expired: Int, superseded: Int, p50Seconds: Double?, p95Seconds: Double?, maxSeconds: Double?
    ) {
        self.region = region
        self.tier = tier
        self.name = name
        self.targeted = targeted
        self.pending = pending
        self.accepted = accepted
        self.delivered = delivered
        self.failed = failed
        self.expired = expired
        self.superseded = superseded
        self.p50Seconds = p50Seconds
        self.p95Seconds = p95Seconds
        self.maxSeconds = maxSeconds
    }
}

/// A warning's roll-up over all its channels, and for each channel on its own.
public struct WarningRollup: Sendable, Codable, Equatable {
    public var total: [RollupEntry]
    public var byChannel: [String: [RollupEntry]]

    public init(total: [RollupEntry], byChannel: [String: [RollupEntry]]) {
        self.total = total
        self.byChannel = byChannel
    }
}

/// Counts deliveries per division at every tier down to `depth`: the province, its cities,
/// their counties, and so on, each recipient counted in every division that contains it.
public struct RollupBuilder: Sendable {
    public let depth: Tier
    private var counts: [RegionCode: Counts] = [:]

    private struct Counts {
        var states: [DeliveryState: Int] = [:]
        var seconds: [Double] = []
    }

    /// Each region's chain of divisions, computed once per region.
    private var chains: [RegionCode: [RegionCode]] = [:]
    /// For times fed in ascending order.
    private var streamed = false
    private var trackers: [Tracker] = []
    private var trackerOf: [RegionCode: Int] = [:]
    private var paths: [String: [Int]] = [:]

    public init(depth: Tier) {
        self.depth = depth
    }

    /// Adds one delivery of a recipient in `region`; `seconds` from release, if delivered.
    public mutating func add(region: RegionCode, state: DeliveryState, seconds: Double?) {
        for code in Self.chain(of: region) where code.tier <= depth {
            counts[code, default: Counts()].states[state, default: 0] += 1
            if let seconds, state.isReached { counts[code, default: Counts()].seconds.append(seconds) }
        }
    }

    /// Adds `count` deliveries of recipients in `region` in `state` (from a grouped query).
    public mutating func add(region: RegionCode, state: DeliveryState, count: Int) {
        for code in chain(region) {
            counts[code, default: Counts()].states[state, default: 0] += count
        }
    }

    /// Adds one delivered time. Times must come in ascending order, after every count: each
    /// division then only counts how many it has seen and keeps the values at its p50, p95
    /// and last rank, so 100,000 deliveries need no arrays and no sorting here.
    public mutating func addAscending(region: RegionCode, seconds: Double) {
        addAscending(region: region.rawValue, seconds: seconds)
    }

    /// As `addAscending(region:seconds:)`, for a region code as text straight from the
    /// store: each distinct region is resolved once into the trackers of its divisions.
    public mutating func addAscending(region text: String, seconds: Double) {
        streamed = true
        let path: [Int]
        if let known = paths[text] {
            path = known
        } else {
            guard let region = RegionCode(text) else { return }
            var indices: [Int] = []
            for code in chain(region) { indices.append(tracker(for: code)) }
            path = indices
            paths[text] = path
        }
        for index in path {
            trackers[index].seen += 1
            let tracker = trackers[index]
            if tracker.seen == tracker.rank50 { trackers[index].p50 = seconds }
            if tracker.seen == tracker.rank95 { trackers[index].p95 = seconds }
            if tracker.seen == tracker.delivered { trackers[index].max = seconds }
        }
    }

    /// A division's place in `trackers`, made on first use from its delivered count.
    private mutating func tracker(for code: RegionCode) -> Int {
        if let index = trackerOf[code] { return index }
        let delivered = (counts[code]?.states[.delivered] ?? 0) + (counts[code]?.states[.played] ?? 0)
        trackers.append(Tracker(delivered: delivered, rank50: Self.rank(0.5, of: delivered), rank95: Self.rank(0.95, of: delivered)))
        trackerOf[code] = trackers.count - 1
        return trackers.count - 1
    }

    /// Times seen so far in one division, and the values at its percentile ranks.
    private struct Tracker {
        var delivered: Int
        var rank50: Int
        var rank95: Int
        var seen = 0
        var p50: Double?
        var p95: Double?
        var max: Double?
    }

    private mutating func chain(_ region: RegionCode) -> [RegionCode] {
        if let known = chains[region] { return known }
        let codes = Self.chain(of: region).filter { $0.tier <= depth }
        chains[region] = codes
        return codes
    }

    /// Nearest rank: the smallest rank with at least q of the values at or below it.
    static func rank(_ q: Double, of count: Int) -> Int {
        max(1, Int((q * Double(count)).rounded(.up)))
    }

    /// The division itself and every division above it, by the code's structure.
    public static func chain(of region: RegionCode) -> [RegionCode] {
        let digits = region.rawValue
        var codes: [String] = [String(digits.prefix(2)) + "0000", String(digits.prefix(4)) + "00", String(digits.prefix(6))]
        if digits.count >= 9 { codes.append(String(digits.prefix(9))) }
        if digits.count == 12 { codes.append(digits) }
        var seen: Set<String> = []
        return codes.filter { seen.insert($0).inserted }.compactMap(RegionCode.init)
    }

    /// The divisions counted so far.
    public var regions: [RegionCode] { Array(counts.keys) }

    /// The entries, ordered by code (so each division follows the one containing it).
    public func entries(names: [RegionCode: String] = [:]) -> [RollupEntry] {
        counts.keys.sorted().map { code in
            let count = counts[code]!
            let seconds = count.seconds.sorted()
            func percentile(_ q: Double) -> Double? {
                if streamed {
                    guard let index = trackerOf[code] else { return nil }
                    let tracker = trackers[index]
                    return q == 0.5 ? tracker.p50 : q == 0.95 ? tracker.p95 : tracker.max
                }
                guard !seconds.isEmpty else { return nil }
                return seconds[min(seconds.count, Self.rank(q, of: seconds.count)) - 1]
            }
            let states = count.states
            var entry = RollupEntry(
                region: code, tier: code.tier, name: names[code], targeted: states.values.reduce(0, +),
                pending: (states[.queued] ?? 0) + (states[.sending] ?? 0), accepted: states[.accepted] ?? 0,
                delivered: (states[.delivered] ?? 0) + (states[.played] ?? 0), failed: states[.failed] ?? 0,
                expired: states[.expired] ?? 0, superseded: states[.superseded] ?? 0, p50Seconds: percentile(0.5),
                p95Seconds: percentile(0.95), maxSeconds: percentile(1))
            entry.heard = states[.played] ?? 0
            return entry
        }
    }
}

extension RollupEntry {
    enum CodingKeys: String, CodingKey {
        case region, tier, name, targeted, pending, accepted, delivered, heard, failed, expired, superseded, p50Seconds,
            p95Seconds, maxSeconds
    }

    /// A lower node from before playback reports sends no `heard`: none heard.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            region: try c.decode(RegionCode.self, forKey: .region), tier: try c.decode(Tier.self, forKey: .tier),
            name: try c.decodeIfPresent(String.self, forKey: .name), targeted: try c.decode(Int.self, forKey: .targeted),
            pending: try c.decode(Int.self, forKey: .pending), accepted: try c.decode(Int.self, forKey: .accepted),
            delivered: try c.decode(Int.self, forKey: .delivered), failed: try c.decode(Int.self, forKey: .failed),
            expired: try c.decode(Int.self, forKey: .expired), superseded: try c.decode(Int.self, forKey: .superseded),
            p50Seconds: try c.decodeIfPresent(Double.self, forKey: .p50Seconds),
            p95Seconds: try c.decodeIfPresent(Double.self, forKey: .p95Seconds),
            maxSeconds: try c.decodeIfPresent(Double.self, forKey: .maxSeconds))
        heard = try c.decodeIfPresent(Int.self, forKey: .heard) ?? 0
    }
}
