import Foundation
import GRDB
import WarncastCore

/// Queries over terminals inside the caller's read or transaction: a terminal is an active
/// recipient on one of the watched channels, with its last heartbeat in `terminal` (if any).
struct Terminals {
    let db: Database
    let watch: TerminalWatch

    /// `online` and `working` as SQL over `t`, against the offline limit (the first argument).
    private static let online = "coalesce(t.lastSeenAt >= ? AND t.status != 'off', 0)"
    private static let working = "coalesce(t.lastSeenAt >= ? AND t.status NOT IN ('off', 'fault'), 0)"

    /// The channel list's placeholders and values.
    private var channelMarks: String { watch.channels.map { _ in "?" }.joined(separator: ", ") }

    /// Counts per recipient region within any of `prefixes`: terminals, online, working.
    /// The regions are ranges of the recipients' (channel, region, active) index
    /// (`RegionRange`): `LIKE 'prefix%'` tested every terminal's row, a sixth of the report
    /// of a million.
    /// Two reads, so neither visits every recipient's row: the terminals from the recipients'
    /// (channel, region, active) index, and the online and working ones from the terminals
    /// that have reported, each looked up as a recipient.
    func perRegion(prefixes: [Substring], at date: Date) throws -> [(region: String, terminals: Int, online: Int, working: Int)] {
        guard !watch.channels.isEmpty, !prefixes.isEmpty else { return [] }
        let cutoff = watch.offlineBefore(date)
        var within = StatementArguments(watch.channels)
        for prefix in prefixes { _ = within.append(contentsOf: RegionRange.bounds(prefix)) }
        let condition = """
            r.active AND r.channel IN (\(channelMarks)) AND (\(prefixes.map { _ in RegionRange.condition() }.joined(separator: " OR ")))
            """
        var reporting: [String: (online: Int, working: Int)] = [:]
        // CROSS JOIN keeps SQLite from walking the recipients and looking each up in `terminal`.
        let heard = try Row.fetchCursor(
            db,
            sql: """
                SELECT r.region, sum(\(Self.online)), sum(\(Self.working))
                FROM terminal t CROSS JOIN recipient r ON r.id = t.recipientID
                WHERE \(condition) GROUP BY r.region
                """,
            arguments: [cutoff, cutoff] + within)
        while let row = try heard.next() {
            reporting[row[0]] = (row[1], row[2])
        }
        return try Row.fetchAll(
            db, sql: "SELECT r.region, count(*) FROM recipient r WHERE \(condition) GROUP BY r.region ORDER BY r.region",
            arguments: within
        ).map { row in
            let region: String = row[0]
            let counts = reporting[region] ?? (0, 0)
            return (region: region, terminals: row[1], online: counts.online, working: counts.working)
        }
    }

    /// The terminals within any of `areas`, and the divisions with none working.
    func summary(areas: [RegionCode], villages: Bool = true, at date: Date) throws -> TerminalSummary {
        let rows = try perRegion(prefixes: areas.map(\.prefix), at: date)
        var summary = TerminalSummary.none
        let name = try db.cachedStatement(sql: "SELECT name FROM region WHERE code = ?")
        for row in rows {
            summary.terminals += row.terminals
            summary.online += row.online
            summary.faulty += row.online - row.working
            guard row.working == 0 else { continue }
            summary.silentCount += 1
            if summary.silent.count < 1000 {
                summary.silent.append(
                    .init(code: row.region, name: try String.fetchOne(name, arguments: [row.region]), terminals: row.terminals))
            }
        }
        summary.offline = summary.terminals - summary.online
        if villages { try countUnequipped(areas: areas, equipped: Set(rows.map(\.region)), into: &summary) }
        return summary
    }

    /// The villages (12-digit divisions of the region registry) within `areas` without any
    /// terminal: the registry's villages of the areas in code order, less the divisions
    /// `equipped` (those `perRegion` found terminals in). A province's 40,000 villages are
    /// one walk of the registry instead of as many lookups in the recipients' index.
    private func countUnequipped(areas: [RegionCode], equipped: Set<String>, into summary: inout TerminalSummary) throws {
        guard !watch.channels.isEmpty, !areas.isEmpty else { return }
        var arguments = StatementArguments()
        for area in areas { _ = arguments.append(contentsOf: RegionRange.bounds(area.prefix)) }
        let within = areas.map { _ in RegionRange.condition("code") }.joined(separator: " OR ")
        let villages = try Row.fetchCursor(
            db, sql: "SELECT code, name FROM region WHERE (\(within)) AND length(code) = 12 ORDER BY code", arguments: arguments)
        while let row = try villages.next() {
            let code: String = row[0]
            guard !equipped.contains(code) else { continue }
            summary.unequippedCount += 1
            if summary.unequipped.count < 1000 { summary.unequipped.append(.init(code: code, name: row[1], terminals: 0)) }
        }
    }

    /// Online and offline terminals per division at every tier down to `depth`.
    func counts(within region: RegionCode, depth: Tier, at date: Date) throws -> [TerminalCount] {
        var counts: [RegionCode: (online: Int, offline: Int)] = [:]
        for row in try perRegion(prefixes: [region.prefix], at: date) {
            guard let code = RegionCode(row.region) else { continue }
            for division in RollupBuilder.chain(of: code) where division.tier <= depth && division.isWithin(region) {
                counts[division, default: (0, 0)].online += row.online
                counts[division, default: (0, 0)].offline += row.terminals - row.online
            }
        }
        let name = try db.cachedStatement(sql: "SELECT name FROM region WHERE code = ?")
        return try counts.keys.sorted().map { code in
            TerminalCount(
                region: code.rawValue, name: try String.fetchOne(name, arguments: [code.rawValue]), online: counts[code]!.online,
                offline: counts[code]!.offline)
        }
    }

    func list(within region: RegionCode, offlineOnly: Bool, limit: Int, at date: Date) throws -> [TerminalView] {
        guard !watch.channels.isEmpty else { return [] }
        let cutoff = watch.offlineBefore(date)
        var arguments: StatementArguments = [cutoff]
        _ = arguments.append(contentsOf: StatementArguments(watch.channels))
        _ = arguments.append(contentsOf: RegionRange.bounds(region.prefix))
        var sql = """
            SELECT r.id, r.name, r.region, r.channel, \(Self.online) AS online, t.status, t.lastSeenAt, t.volume,
              t.lastPlayed, t.version
            FROM recipient r LEFT JOIN terminal t ON t.recipientID = r.id
            WHERE r.active AND r.channel IN (\(channelMarks)) AND \(RegionRange.condition())
            """
        if offlineOnly {
            sql += " AND NOT \(Self.online)"
            _ = arguments.append(contentsOf: [cutoff])
        }
        sql += " ORDER BY r.region, r.id LIMIT ?"
        _ = arguments.append(contentsOf: [limit])
        return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
            TerminalView(
                id: row["id"], name: row["name"], region: row["region"], channel: row["channel"], online: row["online"],
                status: (row["status"] as String?).flatMap(TerminalStatus.init(rawValue:)), lastSeenAt: row["lastSeenAt"],
                volume: row["volume"], lastPlayed: row["lastPlayed"], version: row["version"])
        }
    }
}

extension SQLiteStore {
    public func recordHeartbeat(
        terminal id: String, secretHashes: [String], _ heartbeat: TerminalHeartbeat, watch: TerminalWatch, at date: Date
    ) async throws -> TerminalCheck {
        try await write { db in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT r.channel, r.secretHash, t.status FROM recipient r LEFT JOIN terminal t ON t.recipientID = r.id
                            WHERE r.id = ? AND r.active
                            """),
                    arguments: [id]),
                watch.channels.contains(row["channel"] as String),
                let expected: String = row["secretHash"], secretHashes.contains(expected)
            else { return .forged }
            let now = Timestamp(date)
            try db.cachedStatement(
                sql: """
                    INSERT INTO terminal (recipientID, status, volume, lastPlayed, version, firstSeenAt, lastSeenAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (recipientID) DO UPDATE SET status = excluded.status, volume = excluded.volume,
                      lastPlayed = coalesce(excluded.lastPlayed, lastPlayed), version = excluded.version,
                      lastSeenAt = excluded.lastSeenAt
                    """
            ).execute(arguments: [id, heartbeat.status.rawValue, heartbeat.volume, heartbeat.lastPlayed, heartbeat.version, now, now])
            return .recorded(previous: (row["status"] as String?).flatMap(TerminalStatus.init(rawValue:)))
        }
    }

    public func terminalAccepts(_ id: String, secretHashes: [String], watch: TerminalWatch) async throws -> Bool {
        try await writer.read { db in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT channel, secretHash FROM recipient WHERE id = ? AND active"), arguments: [id]),
                let expected: String = row["secretHash"]
            else { return false }
            return watch.channels.contains(row["channel"] as String) && secretHashes.contains(expected)
        }
    }

    public func recordPlayback(
        terminal id: String, secretHashes: [String], _ playback: TerminalPlayback, at date: Date
    ) async throws -> PlaybackResult {
        try await write { db in
            try Deliveries(db: db).played(terminal: id, secretHashes: secretHashes, playback, at: date)
        }
    }

    public func terminals(
        _ watch: TerminalWatch, within region: RegionCode, offlineOnly: Bool, limit: Int, at date: Date
    ) async throws -> [TerminalView] {
        try await writer.read { db in
            try Terminals(db: db, watch: watch).list(within: region, offlineOnly: offlineOnly, limit: limit, at: date)
        }
    }

    public func terminalSummary(
        _ watch: TerminalWatch, areas: [RegionCode], villages: Bool, at date: Date
    ) async throws -> TerminalSummary {
        try await writer.read { db in try Terminals(db: db, watch: watch).summary(areas: areas, villages: villages, at: date) }
    }

    public func terminalCounts(
        _ watch: TerminalWatch, within region: RegionCode, depth: Tier, at date: Date
    ) async throws
        -> [TerminalCount]
    {
        try await writer.read { db in try Terminals(db: db, watch: watch).counts(within: region, depth: depth, at: date) }
    }
}
