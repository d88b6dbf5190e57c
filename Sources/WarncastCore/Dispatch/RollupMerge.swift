import Foundation

/// Folds a lower-tier node's roll-up into this node's, so an upper node's rows count the
/// recipients its counties reached, not only the hand-downs it sent them.
public enum RollupMerge {
    /// `rows` with `lower`'s added division by division (matched by code), in code order.
    /// `shift` is added to the lower rows' seconds: they count from the lower node's own
    /// release, the upper rows from this node's.
    ///
    /// Counts add exactly. A division with delivered recipients on both sides cannot have
    /// its exact percentiles rebuilt from two summaries, so it keeps the larger p50, p95 and
    /// maximum of the two: a bound that never makes a warning look faster than it was.
    /// What a lower node may say: rows (or reaches) of the division it was handed the
    /// warning for, of divisions inside it, and of those above it (its share of their
    /// totals). Any other division is not its to report: a county's node cannot count its
    /// sibling county's villages as reached.
    public static func served<Row>(by division: RegionCode, _ rows: [Row], _ code: (Row) -> RegionCode?) -> [Row] {
        rows.filter { code($0)?.overlaps(division) == true }
    }

    public static func merge(_ rows: [RollupEntry], _ lower: [RollupEntry], shift: Double) -> [RollupEntry] {
        var merged: [RegionCode: RollupEntry] = [:]
        for row in rows { merged[row.region] = row }
        for var row in lower {
            row.p50Seconds = row.p50Seconds.map { max(0, $0 + shift) }
            row.p95Seconds = row.p95Seconds.map { max(0, $0 + shift) }
            row.maxSeconds = row.maxSeconds.map { max(0, $0 + shift) }
            guard let own = merged[row.region] else {
                merged[row.region] = row
                continue
            }
            merged[row.region] = combine(own, row)
        }
        return merged.keys.sorted().map { merged[$0]! }
    }

    static func combine(_ a: RollupEntry, _ b: RollupEntry) -> RollupEntry {
        func slowest(_ x: Double?, _ y: Double?) -> Double? {
            switch (x, y) {
            case (let x?, let y?): max(x, y)
            case (let x?, nil): x
            default: y
            }
        }
        var entry = RollupEntry(
            region: a.region, tier: a.tier, name: a.name ?? b.name, targeted: a.targeted + b.targeted,
            pending: a.pending + b.pending, accepted: a.accepted + b.accepted, delivered: a.delivered + b.delivered,
            failed: a.failed + b.failed, expired: a.expired + b.expired, superseded: a.superseded + b.superseded,
            p50Seconds: slowest(a.p50Seconds, b.p50Seconds), p95Seconds: slowest(a.p95Seconds, b.p95Seconds),
            maxSeconds: slowest(a.maxSeconds, b.maxSeconds))
        entry.heard = a.heard + b.heard
        return entry
    }
}
