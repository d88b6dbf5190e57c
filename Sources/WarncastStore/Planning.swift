import Foundation
import GRDB
import WarncastCore

/// Planning a released warning's deliveries, in steps of `size` recipients taken in id order
/// (see `PlanningStep`), inside the caller's transaction: the deliveries a step inserts,
/// where the next step starts (`warning.planAfter`), which release goes next, and the
/// `deliveries.planned` audit entry once planning is done.
struct Planning {
    let db: Database
    /// Recipients considered per step.
    var size = Planning.defaultStep

    /// How many recipients one step considers by default. A release plans the first step
    /// in its own transaction, so the approving leader waits for one step at most; `next`
    /// takes the rest a step per transaction while the first deliveries are going out.
    static let defaultStep = 20_000

    /// Plans the deliveries of the next `size` recipients after `after` (in id
    /// order; "" for the first step), and notes where the next step starts, or that planning
    /// is finished (with the audit entry counting every delivery planned).
    @discardableResult
    func step(
        _ record: WarningRecord, _ warning: Warning, after: String, routing: DeliveryRouting, at date: Date
    ) throws -> PlanningStep {
        let through = try chunkEnd(after: after)
        let blocked = warning.alert.blockedChannels
        // An Update or Cancel also goes to the lower nodes that had the warning it replaces,
        // its new area or not: a node left out of a narrowed Update would keep the old one
        // in force until it expired.
        let replaced =
            warning.msgType == .alert
            ? [] : try warning.references.compactMap { try WarningRecord.find(sender: $0.sender, identifier: $0.identifier, db)?.id }
        let planned = try plan(
            warningID: record.id, channels: routing.channels(level: warning.level, event: warning.event).filter { !blocked.contains($0) },
            covering: routing.covering, replaced: replaced, expiresAt: record.expiresAt?.text, testOnly: warning.capStatus != "Actual",
            after: after.isEmpty ? nil : after, through: through, at: date)
        try db.execute(
            sql: "UPDATE warning SET planAfter = ?, deliveriesOpen = deliveriesOpen OR ? WHERE id = ?",
            arguments: [through, planned > 0, record.id])
        if through == nil { try finish(record.id, stopped: nil, at: date) }
        return PlanningStep(warningID: record.id, planned: planned, finished: through == nil)
    }

    /// Takes the next step of a release still being planned, if any: the most severe level
    /// first (a red warning does not wait behind a large yellow one), then the oldest. A
    /// warning that was superseded, cancelled or has expired meanwhile, or whose stored
    /// message can no longer be read, is planned no further.
    func next(routing: DeliveryRouting, at date: Date) throws -> PlanningStep? {
        guard
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT id, planAfter FROM warning WHERE planAfter IS NOT NULL
                    ORDER BY CASE level WHEN 'red' THEN 0 WHEN 'orange' THEN 1 WHEN 'yellow' THEN 2 ELSE 3 END, releasedAt, id
                    LIMIT 1
                    """),
            let record = try WarningRecord.find(id: row[0], db)
        else { return nil }
        let stopped: String
        if record.status != WarningStatus.released.rawValue {
            stopped = record.status
        } else if let expires = record.expiresAt, expires.text <= Timestamp(date).text {
            stopped = "expired"
        } else {
            do {
                return try step(record, try record.warning(), after: row[1], routing: routing, at: date)
            } catch is DecodingError {
                // Retrying would never succeed, and would hold up every release behind it.
                stopped = "unreadable"
            }
        }
        try db.execute(sql: "UPDATE warning SET planAfter = NULL WHERE id = ?", arguments: [record.id])
        try finish(record.id, stopped: stopped, at: date)
        return PlanningStep(warningID: record.id, planned: 0, finished: true)
    }

    /// The audit entry of a finished (or stopped) planning: how many deliveries it made.
    private func finish(_ id: String, stopped: String?, at date: Date) throws {
        let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM delivery WHERE warningID = ?", arguments: [id]) ?? 0
        guard count > 0 || stopped != nil else { return }
        var detail = ["count": String(count)]
        if let stopped { detail["stopped"] = stopped }
        try AuditLog.append(AuditEvent(actor: .planner, action: .deliveriesPlanned, subject: id, detail: detail), at: date, in: db)
    }

    /// Plans one delivery for every active recipient of `channels` within the warning's
    /// areas, in one statement (nothing is loaded into memory, however many recipients there
    /// are). A message that is not `Actual` (Test, Exercise, System, Draft) goes only to
    /// recipients whose options say `test=yes`. With `after` and `through`, only recipients
    /// whose id lies in that range are considered (see `chunkEnd`). Returns the count; a
    /// recipient already planned for the warning is not planned twice.
    private func plan(
        warningID: String, channels: [String], covering: Set<String> = [], replaced: [String] = [], expiresAt: String?,
        testOnly: Bool = false, after: String? = nil, through: String? = nil, at date: Date
    ) throws -> Int {
        guard !channels.isEmpty else { return 0 }
        // A range walks the primary key; the channel index would read every recipient of the
        // channel for each chunk (hence the `+`, which keeps SQLite off that index).
        var range = ""
        var rangeArguments: [String] = []
        if let after {
            range += " AND r.id > ?"
            rangeArguments.append(after)
        }
        if let through {
            range += " AND r.id <= ?"
            rangeArguments.append(through)
        }
        let channelColumn = range.isEmpty ? "r.channel" : "+r.channel"
        // The warning's areas as ranges of region codes written into the statement: a
        // correlated `LIKE` against its `warningArea` rows cost about 0.3 s a million
        // recipients (a model with Python's sqlite3), the ranges about nothing.
        let prefixes = try String.fetchAll(
            db, sql: "SELECT DISTINCT prefix FROM warningArea WHERE warningID = ? ORDER BY prefix", arguments: [warningID])
        let within = prefixes.isEmpty ? "0" : prefixes.map { _ in RegionRange.condition() }.joined(separator: " OR ")
        let now = Timestamp.string(date)
        let marks = channels.map { _ in "?" }.joined(separator: ", ")
        let coveringList = channels.filter(covering.contains)
        let coveringMarks = coveringList.isEmpty ? "NULL" : coveringList.map { _ in "?" }.joined(separator: ", ")
        var arguments: StatementArguments = [warningID, warningID, now, expiresAt, now]
        _ = arguments.append(contentsOf: StatementArguments(channels))
        _ = arguments.append(contentsOf: StatementArguments(rangeArguments))
        for prefix in prefixes { _ = arguments.append(contentsOf: RegionRange.bounds(prefix)) }
        _ = arguments.append(contentsOf: StatementArguments(coveringList))
        _ = arguments.append(contentsOf: [warningID])
        var hadIt = ""
        if !coveringList.isEmpty, !replaced.isEmpty {
            hadIt = """

                    -- A covering recipient (a lower node) that had a warning this one replaces:
                    -- looked up by its delivery's key, one index probe per such recipient.
                    OR (r.channel IN (\(coveringMarks)) AND EXISTS (
                      SELECT 1 FROM delivery d WHERE d.idempotencyKey IN (\(replaced.map { _ in "? || '/' || r.id" }.joined(separator: ", ")))
                        AND d.state IN ('sending', 'accepted', 'delivered', 'played')))
                """
            _ = arguments.append(contentsOf: StatementArguments(coveringList))
            _ = arguments.append(contentsOf: StatementArguments(replaced))
        }
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO delivery
                  (warningID, recipientID, channel, idempotencyKey, endpoint, state, attempts, nextAttemptAt, expiresAt, queuedAt, region)
                SELECT ?, r.id, r.channel, ? || '/' || r.id, r.address, 'queued', 0, ?, ?, ?, r.region
                FROM recipient r
                WHERE r.active = 1 AND \(channelColumn) IN (\(marks))\(range)\(testOnly ? " AND (';' || r.options || ';') LIKE '%;test=yes;%'" : "")
                  AND ((\(within))
                    -- A covering recipient also gets a warning for an area inside its own.
                    OR (r.channel IN (\(coveringMarks)) AND EXISTS (
                      SELECT 1 FROM warningArea a WHERE a.warningID = ? AND a.code LIKE
                        (CASE WHEN length(r.region) = 6 AND substr(r.region, 3) = '0000' THEN substr(r.region, 1, 2)
                              WHEN length(r.region) = 6 AND substr(r.region, 5) = '00' THEN substr(r.region, 1, 4)
                              ELSE r.region END) || '%'))\(hadIt))
                """,
            arguments: arguments)
        return db.changesCount
    }

    /// The id that ends a step of `size` recipients after `after` (all recipients, active or
    /// not, in id order), or nil when no more than `size` are left: planning the rest is then
    /// one step.
    private func chunkEnd(after: String) throws -> String? {
        let ids = try String.fetchAll(
            db, sql: "SELECT id FROM recipient WHERE id > ? ORDER BY id LIMIT 2 OFFSET ?", arguments: [after, size - 1])
        return ids.count == 2 ? ids[0] : nil
    }
}
