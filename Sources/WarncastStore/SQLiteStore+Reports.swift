import Foundation
import GRDB
import GRDBSQLite
import WarncastCore

/// What happened to a warning's deliveries: lists, roll-ups, timelines, exports.
extension SQLiteStore {
    public func reaches(warningID: Warning.ID) async throws -> [WarningTimeline.Reach] {
        try await writer.read { db in
            // From the receipts index (warningID, state, deliveredAt, id, region, channel) alone; the played
            // times (not in it) only for the played deliveries.
            var played: [String: String] = [:]
            for row in try Row.fetchAll(
                db,
                sql:
                    "SELECT channel, region, min(playedAt) FROM delivery WHERE warningID = ? AND state = 'played' GROUP BY channel, region",
                arguments: [warningID])
            {
                played["\(row[0] as String)\n\(row[1] as String)"] = row[2]
            }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT channel, region, min(deliveredAt) AS first FROM delivery
                    WHERE warningID = ? AND state IN ('queued', 'sending', 'accepted', 'delivered', 'played', 'failed', 'expired')
                    GROUP BY channel, region
                    """,
                arguments: [warningID]
            ).map { row in
                let channel: String = row["channel"]
                let region: String = row["region"]
                return WarningTimeline.Reach(
                    channel: channel, division: region, firstDelivered: (row["first"] as String?).flatMap(Timestamp.parse),
                    firstPlayed: played["\(channel)\n\(region)"].flatMap(Timestamp.parse))
            }
        }
    }

    /// A delivery row (with `recipientName` and `region` joined) as the API shows it.
    static func deliveryView(_ row: Row) -> DeliveryView {
        DeliveryView(
            id: row["id"], recipient: row["recipientID"], recipientName: row["recipientName"], region: row["region"],
            channel: row["channel"], state: DeliveryState(rawValue: row["state"]) ?? .queued,
            attempts: row["attempts"], idempotencyKey: row["idempotencyKey"], queuedAt: row["queuedAt"],
            sendingAt: row["sendingAt"], acceptedAt: row["acceptedAt"], deliveredAt: row["deliveredAt"],
            failedAt: row["failedAt"], expiredAt: row["expiredAt"], supersededAt: row["supersededAt"],
            nextAttemptAt: row["nextAttemptAt"], lastStatus: row["lastStatus"], lastError: row["lastError"],
            retryingSince: row.hasColumn("retryingSince") ? row["retryingSince"] : nil)
    }

    /// The first attempt of a delivery still waiting after one, as a column of `d`.
    static let retryingSinceColumn = """
        CASE WHEN d.state IN ('queued', 'sending') AND d.attempts > 0
          THEN (SELECT min(a.at) FROM attempt a WHERE a.deliveryID = d.id) END AS retryingSince
        """

    public func retrying(warningID: Warning.ID, within region: RegionCode?) async throws -> [WarningTimeline.Retrying] {
        let (scope, bounds) = RegionRange.and(region, column: "d.region")
        let (scopeE, boundsE) = RegionRange.and(region, column: "e.region")
        return try await writer.read { db in
            let waiting = """
                FROM delivery d WHERE d.warningID = ? AND d.state IN ('queued', 'sending') AND d.attempts > 0\(scope)
                """
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT d.channel, count(*) AS n, min((SELECT min(a.at) FROM attempt a WHERE a.deliveryID = d.id)) AS since,
                      (SELECT e.lastError FROM delivery e
                       WHERE e.warningID = d.warningID AND e.channel = d.channel AND e.state IN ('queued', 'sending')
                         AND e.attempts > 0 AND e.lastError IS NOT NULL\(scopeE)
                       ORDER BY e.nextAttemptAt DESC LIMIT 1) AS lastError
                    """ + " " + waiting + " GROUP BY d.channel ORDER BY d.channel",
                arguments: boundsE + [warningID] + bounds
            ).map { row in
                WarningTimeline.Retrying(
                    channel: row["channel"], deliveries: row["n"], since: (row["since"] as String?).map(Timestamp.init(stored:)),
                    lastError: row["lastError"])
            }
        }
    }

    public func exportDeliveries(
        since: Date, until: Date, within region: RegionCode, after id: Int64, limit: Int
    ) async throws -> [DeliveryExportRow] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT d.*, r.name AS recipientName, r.region AS region, w.identifier AS identifier
                    FROM delivery d JOIN recipient r ON r.id = d.recipientID JOIN warning w ON w.id = d.warningID
                    WHERE d.id > ? AND d.queuedAt >= ? AND d.queuedAt < ? AND \(RegionRange.condition("d.region"))
                    ORDER BY d.id LIMIT ?
                    """,
                arguments: StatementArguments([id]) + [Timestamp.string(since), Timestamp.string(until)] + RegionRange.bounds(region.prefix)
                    + [limit]
            ).map { DeliveryExportRow(warning: $0["warningID"], identifier: $0["identifier"], delivery: Self.deliveryView($0)) }
        }
    }

    public func deliveryReferences(warningID: Warning.ID, channels: Set<String>) async throws -> [DeliveryReference] {
        guard !channels.isEmpty else { return [] }
        return try await writer.read { db in
            let marks = channels.map { _ in "?" }.joined(separator: ", ")
            var arguments: StatementArguments = [warningID]
            _ = arguments.append(contentsOf: StatementArguments(channels.sorted()))
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT d.id, r.id AS recipientID, r.name, d.region, r.address,
                      (SELECT a.reference FROM attempt a WHERE a.deliveryID = d.id AND a.reference IS NOT NULL
                       ORDER BY a.number DESC LIMIT 1) AS reference
                    FROM delivery d JOIN recipient r ON r.id = d.recipientID
                    WHERE d.warningID = ? AND d.state IN ('delivered', 'played') AND d.channel IN (\(marks))
                    ORDER BY r.id
                    """,
                arguments: arguments
            ).compactMap { row in
                guard let reference: String = row["reference"] else { return nil }
                return DeliveryReference(
                    deliveryID: row["id"], recipientID: row["recipientID"], recipientName: row["name"], region: row["region"],
                    address: row["address"], reference: reference)
            }
        }
    }

    public func reports(warningID: Warning.ID, limit: Int, within region: RegionCode?) async throws -> [StoredReport] {
        let (scope, bounds) = RegionRange.and(region, column: "d.region")
        return try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT r.deliveryID, d.recipientID, r.at, r.source, r.state, r.detail
                    FROM receipt r JOIN delivery d ON d.id = r.deliveryID
                    WHERE d.warningID = ?\(scope) ORDER BY r.id LIMIT ?
                    """,
                arguments: StatementArguments([warningID]) + bounds + [limit]
            ).map { row in
                StoredReport(
                    delivery: row[0], recipient: row[1], at: row[2], source: row[3],
                    state: DeliveryState(rawValue: row[4]) ?? .queued, detail: row[5])
            }
        }
    }

    public func deliveries(
        warningID: Warning.ID, state: DeliveryState?, limit: Int, within region: RegionCode?
    ) async throws
        -> [DeliveryView]
    {
        let (scope, bounds) = RegionRange.and(region)
        return try await writer.read { db in
            // The page's ids come from the (warningID, state …) index alone, and only those
            // rows are read: sorting whole rows by id read every delivery of the warning
            // (12 s for the blind spots of 1,000,000 queued deliveries; 0.15 s this way).
            var page = "SELECT id FROM delivery WHERE warningID = ?\(scope)"
            var arguments = StatementArguments([warningID]) + bounds
            if let state {
                page += " AND state = ?"
                _ = arguments.append(contentsOf: [state.rawValue])
            }
            page += " ORDER BY id LIMIT ?"
            _ = arguments.append(contentsOf: [limit])
            return try Self.deliveryViews(db, ids: page, arguments)
        }
    }

    /// The deliveries whose ids `ids` gives (a subquery, or a list of ids written out), with
    /// their recipients' names, by id.
    private static func deliveryViews(_ db: Database, ids: String, _ arguments: StatementArguments = []) throws -> [DeliveryView] {
        let sql = """
            SELECT d.*, r.name AS recipientName, r.region AS region, \(retryingSinceColumn) FROM delivery d
            JOIN recipient r ON r.id = d.recipientID WHERE d.id IN (\(ids)) ORDER BY d.id
            """
        return try Row.fetchAll(db, sql: sql, arguments: arguments).map(deliveryView)
    }

    public func rollup(warningID: Warning.ID, depth: Tier, excluding: Set<Int64>) async throws -> WarningRollup {
        // Delivery ids are integers, so the list is written into the SQL as it is.
        let left = excluding.isEmpty ? "0" : "id IN (\(excluding.sorted().map(String.init).joined(separator: ", ")))"
        return try await writer.read { db in
            let released = try String.fetchOne(db, sql: "SELECT releasedAt FROM warning WHERE id = ?", arguments: [warningID])
                .flatMap(Timestamp.parse)
            // One builder over all channels and, when there are several, one per channel, fed
            // in the same pass.
            var total = RollupBuilder(depth: depth)
            var byChannel: [String: RollupBuilder] = [:]
            let groups = try Self.deliveryGroups(db, warningID: warningID.rawValue, left: left)
            let channels = Set(groups.keys.map(\.channel))
            // Per-channel rows of their own when there are several channels, or when the
            // total leaves some deliveries out.
            let separate = channels.count > 1 || !excluding.isEmpty
            for (group, count) in groups {
                guard let region = RegionCode(group.region), let state = DeliveryState(rawValue: group.state) else { continue }
                let counted = count.all - count.left
                if counted > 0 { total.add(region: region, state: state, count: counted) }
                if separate {
                    byChannel[group.channel, default: RollupBuilder(depth: depth)].add(region: region, state: state, count: count.all)
                }
            }
            // Seconds to deliver, computed by SQLite; each division keeps only the values at
            // its percentile ranks as they stream past.
            if let released {
                // In index order: deliveredAt ascending is seconds ascending, with no sort. The
                // delivered and the played are two runs of the index, merged here.
                func times(_ state: DeliveryState) throws -> RowCursor {
                    try Row.fetchCursor(
                        db,
                        sql: """
                            SELECT region, \(separate ? "channel" : "NULL"), max(0, (julianday(deliveredAt) - julianday(?)) * 86400.0),
                              \(left)
                            FROM delivery WHERE warningID = ? AND state = ? ORDER BY deliveredAt
                            """,
                        arguments: [Timestamp.string(released), warningID, state.rawValue])
                }
                let delivered = try times(.delivered)
                let played = try times(.played)
                var a = try delivered.next().map(TimeRow.init)
                var b = try played.next().map(TimeRow.init)
                while a != nil || b != nil {
                    let row: TimeRow
                    if let first = a, b.map({ first.seconds <= $0.seconds }) ?? true {
                        row = first
                        a = try delivered.next().map(TimeRow.init)
                    } else {
                        row = b!
                        b = try played.next().map(TimeRow.init)
                    }
                    if !row.left { total.addAscending(region: row.region, seconds: row.seconds) }
                    if separate, let channel = row.channel {
                        byChannel[channel]?.addAscending(region: row.region, seconds: row.seconds)
                    }
                }
            }
            var names: [RegionCode: String] = [:]
            let name = try db.cachedStatement(sql: "SELECT name FROM region WHERE code = ?")
            for code in Set(total.regions + byChannel.values.flatMap(\.regions)) {
                names[code] = try String.fetchOne(name, arguments: [code.rawValue])
            }
            let entries = total.entries(names: names)
            // With one channel, and nothing left out, its roll-up is the total.
            let perChannel =
                channels.count == 1 && !separate ? [channels.first!: entries] : byChannel.mapValues { $0.entries(names: names) }
            return WarningRollup(total: entries, byChannel: perChannel)
        }
    }

    /// A recipient region, delivery state and channel: one line of the roll-up's counts.
    struct DeliveryGroup: Hashable {
        var region: String
        var state: String
        var channel: String
    }

    /// How many of a warning's deliveries each region, state and channel has, and how many
    /// of those `left` (an SQL condition on the row) leaves out. SQLite's `GROUP BY` sorted
    /// every delivery in a temporary B-tree first, most of the report of a million
    /// deliveries; the covering index hands the rows over unsorted as well (by state, then
    /// delivered time and id), and they are counted here as they pass. A row of the same
    /// group as the one before only compares its bytes with it; any other finds its group by
    /// a hash of its bytes, without building strings: in id order a county's villages take
    /// turns, a new group almost every row.
    static func deliveryGroups(_ db: Database, warningID: String, left: String) throws -> [DeliveryGroup: (all: Int, left: Int)] {
        let statement = try db.makeStatement(
            sql: "SELECT region, state, channel, \(left) FROM delivery INDEXED BY delivery_warning_receipts WHERE warningID = ?")
        statement.arguments = [warningID]
        let raw = statement.sqliteStatement
        func bytes(_ column: Int32) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(start: sqlite3_column_text(raw, column), count: Int(sqlite3_column_bytes(raw, column)))
        }
        var counted = GroupCounter()
        let rows = try Row.fetchCursor(statement)
        while try rows.next() != nil {
            counted.add(region: bytes(0), state: bytes(1), channel: bytes(2), left: Int(sqlite3_column_int64(raw, 3)))
        }
        return counted.result
    }

    /// The counts of `deliveryGroups`, kept in the order groups first appear.
    struct GroupCounter {
        private var groups: [(group: DeliveryGroup, all: Int, left: Int)] = []
        /// Each group's bytes: region, 0, state, 0, channel.
        private var keys: [[UInt8]] = []
        /// The first group of each hash of those bytes, and for each group the next one of
        /// the same hash (-1: none).
        private var byHash: [UInt64: Int] = [:]
        private var sameHash: [Int] = []
        /// The row's bytes, in a buffer kept from row to row.
        private var row: [UInt8] = []
        /// The previous row's group.
        private var last = -1

        mutating func add(
            region: UnsafeBufferPointer<UInt8>, state: UnsafeBufferPointer<UInt8>, channel: UnsafeBufferPointer<UInt8>, left: Int
        ) {
            row.removeAll(keepingCapacity: true)
            row.append(contentsOf: region)
            row.append(0)
            row.append(contentsOf: state)
            row.append(0)
            row.append(contentsOf: channel)
            if last < 0 || keys[last] != row {
                // FNV-1a over a few dozen bytes: one integer for the dictionary to hash, cheaper
                // than feeding the seeded hasher three buffers.
                var hash: UInt64 = 0xcbf2_9ce4_8422_2325
                for byte in row { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
                var index = byHash[hash] ?? -1
                while index >= 0 && keys[index] != row { index = sameHash[index] }
                if index < 0 {
                    index = groups.count
                    let group = DeliveryGroup(
                        region: String(decoding: region, as: UTF8.self), state: String(decoding: state, as: UTF8.self),
                        channel: String(decoding: channel, as: UTF8.self))
                    groups.append((group, 0, 0))
                    keys.append(row)
                    sameHash.append(byHash[hash] ?? -1)
                    byHash[hash] = index
                }
                last = index
            }
            groups[last].all += 1
            groups[last].left += left
        }

        var result: [DeliveryGroup: (all: Int, left: Int)] {
            // Distinct bytes could still decode to equal strings (invalid UTF-8): added up.
            Dictionary(groups.map { ($0.group, ($0.all, $0.left)) }) { ($0.all + $1.all, $0.left + $1.left) }
        }
    }

    /// One delivered time of the roll-up's query.
    private struct TimeRow {
        var region: String
        var channel: String?
        var seconds: Double
        var left: Bool

        init(_ row: Row) {
            region = row[0]
            channel = row[1]
            seconds = row[2]
            left = row[3]
        }
    }

    /// The order of the blind spots: what an operator acts on first.
    static let blindSpotOrder: [DeliveryState] = [.failed, .expired, .accepted, .sending, .queued, .superseded]

    /// Up to `limit` deliveries not (yet) delivered, the blind spots of the report: the
    /// failed first, then the expired, the accepted awaiting their delivery report, those
    /// sending, the queued, the superseded; by id within each state. Each state is one run
    /// of the index, read only as far as needed: the first by id overall sorted every
    /// undelivered delivery of the warning, a quarter of the report of a million queued ones.
    public func undelivered(warningID: Warning.ID, limit: Int, within region: RegionCode?) async throws -> [DeliveryView] {
        let (scope, bounds) = RegionRange.and(region)
        return try await writer.read { db in
            // Undelivered rows have no delivered time: the index gives them in id order, without a sort.
            let page = try db.cachedStatement(
                sql: "SELECT id FROM delivery WHERE warningID = ? AND state = ?\(scope) ORDER BY deliveredAt, id LIMIT ?")
            var ids: [Int64] = []
            for state in Self.blindSpotOrder where ids.count < limit {
                ids += try Int64.fetchAll(
                    page, arguments: StatementArguments([warningID.rawValue, state.rawValue]) + bounds + [limit - ids.count])
            }
            guard !ids.isEmpty else { return [] }
            let views = try Self.deliveryViews(db, ids: ids.map(String.init).joined(separator: ","))
            let rank = Dictionary(uniqueKeysWithValues: Self.blindSpotOrder.enumerated().map { ($1, $0) })
            return views.sorted { (rank[$0.state] ?? 0, $0.id) < (rank[$1.state] ?? 0, $1.id) }
        }
    }

    public func oldestWaitingRelease(level: Level) async throws -> Date? {
        try await writer.read { db in
            try String.fetchOne(
                db,
                sql: """
                    SELECT min(w.releasedAt) FROM warning w
                    WHERE w.status = 'released' AND w.level = ?
                      AND EXISTS (SELECT 1 FROM delivery d WHERE d.warningID = w.id AND d.state IN ('queued', 'sending'))
                    """,
                arguments: [level.rawValue]
            ).flatMap { Timestamp(text: $0)?.date }
        }
    }

    public func deliverySummary(warningID: Warning.ID, within region: RegionCode?) async throws -> [DeliveryState: Int] {
        let (scope, bounds) = RegionRange.and(region)
        return try await writer.read { db in
            var summary: [DeliveryState: Int] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT state, count(*) AS n FROM delivery WHERE warningID = ?\(scope) GROUP BY state",
                arguments: StatementArguments([warningID]) + bounds)
            {
                if let state = DeliveryState(rawValue: row["state"]) { summary[state] = row["n"] }
            }
            return summary
        }
    }
}
