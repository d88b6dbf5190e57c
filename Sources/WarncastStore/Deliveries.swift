import Foundation
import GRDB
import WarncastCore

/// The durable outbox: planning deliveries on release, leasing them to dispatchers,
/// recording attempts, expiring and superseding. All inside the caller's transaction.
struct Deliveries {
    let db: Database

    /// Plans one delivery per recipient and channel for a released warning, in one statement
    /// (nothing is loaded into memory, however many recipients there are). Returns the count.
    @discardableResult
    func plan(warningID: String, channels: [String], covering: Set<String> = [], expiresAt: String?, at date: Date) throws -> Int {
        guard !channels.isEmpty else { return 0 }
        let now = Timestamp.string(date)
        let marks = channels.map { _ in "?" }.joined(separator: ", ")
        let coveringList = channels.filter(covering.contains)
        let coveringMarks = coveringList.isEmpty ? "NULL" : coveringList.map { _ in "?" }.joined(separator: ", ")
        var arguments: StatementArguments = [warningID, warningID, now, expiresAt, now]
        _ = arguments.append(contentsOf: StatementArguments(channels))
        _ = arguments.append(contentsOf: [warningID])
        _ = arguments.append(contentsOf: StatementArguments(coveringList))
        _ = arguments.append(contentsOf: [warningID])
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO delivery
                  (warningID, recipientID, channel, idempotencyKey, endpoint, state, attempts, nextAttemptAt, expiresAt, queuedAt, region)
                SELECT ?, r.id, r.channel, ? || '/' || r.id, r.address, 'queued', 0, ?, ?, ?, r.region
                FROM recipient r
                WHERE r.active = 1 AND r.channel IN (\(marks))
                  AND (EXISTS (SELECT 1 FROM warningArea a WHERE a.warningID = ? AND r.region LIKE a.prefix || '%')
                    -- A covering recipient also gets a warning for an area inside its own.
                    OR (r.channel IN (\(coveringMarks)) AND EXISTS (
                      SELECT 1 FROM warningArea a WHERE a.warningID = ? AND a.code LIKE
                        (CASE WHEN length(r.region) = 6 AND substr(r.region, 3) = '0000' THEN substr(r.region, 1, 2)
                              WHEN length(r.region) = 6 AND substr(r.region, 5) = '00' THEN substr(r.region, 1, 4)
                              ELSE r.region END) || '%')))
                """,
            arguments: arguments)
        return db.changesCount
    }

    /// Queued deliveries of `warningID` that have not gone out are superseded by a newer message.
    @discardableResult
    func supersede(warningID: String, at date: Date) throws -> Int {
        let ids = try Int64.fetchAll(
            db, sql: "UPDATE delivery SET state = 'superseded', supersededAt = ? WHERE warningID = ? AND state = 'queued' RETURNING id",
            arguments: [Timestamp.string(date), warningID])
        try Seals.seal(ids, in: db)
        return ids.count
    }

    /// Leases up to `limit` due deliveries of `channel`: first those whose lease ran out (a
    /// dispatcher died holding them), then queued ones whose time has come. Each half walks
    /// its own index; neither sorts or scans the whole outbox.
    func lease(channel: String, limit: Int, at date: Date, leaseFor: TimeInterval) throws -> [DeliveryJob] {
        let now = Timestamp.string(date)
        let until = Timestamp.string(date.addingTimeInterval(leaseFor))
        var rows = try lease(
            channel: channel, limit: limit, now: now, until: until,
            due: "state = 'sending' AND leaseUntil <= ?", order: "leaseUntil")
        if rows.count < limit {
            rows += try lease(
                channel: channel, limit: limit - rows.count, now: now, until: until,
                due: "state = 'queued' AND nextAttemptAt <= ?", order: "nextAttemptAt")
        }
        guard !rows.isEmpty else { return [] }
        let byID = try recipients(Set(rows.map { $0["recipientID"] as String }))
        return rows.compactMap { row in
            guard let recipient = byID[row["recipientID"]] else { return nil }
            return DeliveryJob(
                id: row["id"], warningID: row["warningID"], recipient: recipient,
                idempotencyKey: row["idempotencyKey"], attempt: row["attempts"])
        }
    }

    /// Recipients by id, read column by column: this runs for every leased batch.
    private func recipients(_ ids: Set<String>) throws -> [String: Recipient] {
        let marks = ids.map { _ in "?" }.joined(separator: ",")
        var result: [String: Recipient] = [:]
        let rows = try Row.fetchCursor(
            db, sql: "SELECT id, channel, region, name, address, options FROM recipient WHERE id IN (\(marks))",
            arguments: StatementArguments(Array(ids)))
        while let row = try rows.next() {
            guard let region = RegionCode(row[2]) else { continue }
            let id: String = row[0]
            result[id] = Recipient(
                id: id, channel: row[1], region: region, name: row[3], address: row[4],
                options: RecipientRecord.parseOptions(row[5]))
        }
        return result
    }

    private func lease(channel: String, limit: Int, now: String, until: String, due: String, order: String) throws -> [Row] {
        try Row.fetchAll(
            db,
            sql: """
                UPDATE delivery SET state = 'sending', leaseUntil = ?, attempts = attempts + 1,
                  sendingAt = coalesce(sendingAt, ?)
                WHERE id IN (
                  SELECT id FROM delivery WHERE channel = ? AND \(due) AND (expiresAt IS NULL OR expiresAt > ?)
                  ORDER BY \(order) LIMIT ?)
                RETURNING id, warningID, recipientID, idempotencyKey, attempts
                """,
            arguments: [until, now, channel, now, now, limit])
    }

    /// Writes a batch of attempt results. A delivery that was superseded or expired while the
    /// attempt was in flight keeps that state. A retry without a next time is a failure.
    func record(_ results: [AttemptResult]) throws {
        let insert = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO attempt (deliveryID, number, at, httpStatus, error, outcome, milliseconds, reference)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        // Receipts finished by this batch, sealed from the values just written.
        var finished: [Seals.Receipt] = []
        for result in results {
            let at = Timestamp.string(result.at)
            switch result.outcome {
            case .deferred(let until):
                try db.cachedStatement(sql: """
                    UPDATE delivery SET state = 'queued', attempts = attempts - 1, nextAttemptAt = ?, leaseUntil = NULL
                    WHERE id = ? AND state = 'sending'
                    """).execute(arguments: [Timestamp.string(until), result.deliveryID])
                continue
            case .delivered:
                try update(result, "state = 'delivered', deliveredAt = ?, acceptedAt = coalesce(acceptedAt, ?)", [at, at])
                if db.changesCount > 0 { finished.append(Seals.Receipt(result, state: .delivered, at: at)) }
            case .accepted:
                try update(result, "state = 'accepted', acceptedAt = ?", [at])
            case .retry where result.nextAttemptAt != nil:
                try update(result, "state = 'queued', nextAttemptAt = ?", [Timestamp.string(result.nextAttemptAt!)])
            case .retry, .failed:
                try update(result, "state = 'failed', failedAt = ?", [at])
                if db.changesCount > 0 { finished.append(Seals.Receipt(result, state: .failed, at: at)) }
            }
            try insert.execute(arguments: [
                result.deliveryID, result.attempt, at, result.httpStatus, result.error, result.outcome.name,
                result.milliseconds, result.reference,
            ])
        }
        try Seals.append(finished, in: db)
    }

    private func update(_ result: AttemptResult, _ assignments: String, _ values: [String]) throws {
        var arguments = StatementArguments(values)
        _ = arguments.append(contentsOf: [result.httpStatus, result.error, result.deliveryID])
        try db.cachedStatement(
            sql: "UPDATE delivery SET \(assignments), leaseUntil = NULL, lastStatus = ?, lastError = ? WHERE id = ? AND state = 'sending'"
        ).execute(arguments: arguments)
    }

    /// A gateway's report on a delivery. Delivered wins over everything but a delivery that
    /// was already delivered; failed and accepted change only a delivery still on its way
    /// (a report can overtake the attempt's own result, which then leaves it as it is).
    /// Every report about a known delivery is kept in `receipt`, applied or not.
    func report(_ report: DeliveryReport) throws -> ReportResult {
        guard let state = try String.fetchOne(db, sql: "SELECT state FROM delivery WHERE id = ?", arguments: [report.deliveryID])
        else { return .unknownDelivery }
        let at = Timestamp.string(report.at)
        try db.execute(
            sql: "INSERT INTO receipt (deliveryID, at, source, state, detail) VALUES (?, ?, ?, ?, ?)",
            arguments: [report.deliveryID, at, report.source, report.state.rawValue, report.detail])
        let from: [String]
        let assignments: String
        var values: [(any DatabaseValueConvertible)?]
        switch report.state {
        case .delivered:
            from = ["queued", "sending", "accepted", "failed", "expired"]
            assignments = "state = 'delivered', deliveredAt = ?, acceptedAt = coalesce(acceptedAt, ?), failedAt = NULL, expiredAt = NULL"
            values = [at, at]
        case .failed:
            from = ["queued", "sending", "accepted"]
            assignments = "state = 'failed', failedAt = ?, lastError = ?"
            values = [at, report.detail]
        case .accepted:
            from = ["queued", "sending"]
            assignments = "state = 'accepted', acceptedAt = coalesce(acceptedAt, ?)"
            values = [at]
        default:
            return .unchanged(DeliveryState(rawValue: state) ?? .queued)
        }
        guard from.contains(state) else { return .unchanged(DeliveryState(rawValue: state) ?? .queued) }
        values.append(report.deliveryID)
        try db.execute(
            sql: "UPDATE delivery SET \(assignments), leaseUntil = NULL WHERE id = ?",
            arguments: StatementArguments(values))
        try Seals.seal([report.deliveryID], in: db)
        return .applied(report.state)
    }

    /// Deliveries whose warning expired before they went out (a delivery's `expiresAt` is its
    /// warning's). One in flight is left to its attempt, and expires if that fails.
    func expire(at date: Date) throws -> Int {
        let now = Timestamp.string(date)
        let ids = try Int64.fetchAll(
            db,
            sql: """
                UPDATE delivery SET state = 'expired', expiredAt = ?, leaseUntil = NULL
                WHERE state IN ('queued', 'sending') AND expiresAt <= ? AND (state = 'queued' OR leaseUntil <= ?)
                RETURNING id
                """,
            arguments: [now, now, now])
        try Seals.seal(ids, in: db)
        return ids.count
    }
}
