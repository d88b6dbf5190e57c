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
    public var delivered: Int
    public var failed: Int
    public var expired: Int
    public var superseded: Int
    /// Seconds from release to delivery, over the delivered ones.
    public var p50Seconds: Double?
    public var p95Seconds: Double?
    public var maxSeconds: Double?

    /// Delivered out of targeted, 0…1.
    public var coverage: Double { targeted == 0 ? 0 : Double(delivered) / Double(targeted) }
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

    public init(depth: Tier) {
        self.depth = depth
    }

    /// Adds one delivery of a recipient in `region`; `seconds` from release, if delivered.
    public mutating func add(region: RegionCode, state: DeliveryState, seconds: Double?) {
        for code in Self.chain(of: region) where code.tier <= depth {
            counts[code, default: Counts()].states[state, default: 0] += 1
            if let seconds, state == .delivered { counts[code, default: Counts()].seconds.append(seconds) }
        }
    }

    /// The division itself and every division above it, by the code's structure.
    static func chain(of region: RegionCode) -> [RegionCode] {
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
            // Nearest-rank percentile: the smallest value with at least q of the values at or below it.
            func percentile(_ q: Double) -> Double? {
                guard !seconds.isEmpty else { return nil }
                let rank = max(1, Int((q * Double(seconds.count)).rounded(.up)))
                return seconds[min(seconds.count, rank) - 1]
            }
            let states = count.states
            return RollupEntry(
                region: code, tier: code.tier, name: names[code], targeted: states.values.reduce(0, +),
                pending: (states[.queued] ?? 0) + (states[.sending] ?? 0), accepted: states[.accepted] ?? 0,
                delivered: states[.delivered] ?? 0, failed: states[.failed] ?? 0, expired: states[.expired] ?? 0,
                superseded: states[.superseded] ?? 0, p50Seconds: percentile(0.5), p95Seconds: percentile(0.95),
                maxSeconds: seconds.last)
        }
    }
}
