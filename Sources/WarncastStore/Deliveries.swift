import Foundation
import GRDB
import WarncastCore

/// The durable outbox once deliveries are planned (`Planning`): reading the deliveries an
/// event may concern, asking `DeliveryLifecycle` what it changes, and writing that back (with the
/// receipt's seal when it is final). All inside the caller's transaction.
struct Deliveries {
    let db: Database

    /// Queued deliveries of `warningID` that have not gone out are superseded by a newer message.
    @discardableResult
    func supersede(warningID: String, at date: Date) throws -> Int {
        try apply(
            .superseded(at: Timestamp(date)),
            toRecordsWhere: "warningID = ? AND state = 'queued'", [warningID])
    }

    /// Failed or expired deliveries (of `states`) of a warning queued again; see
    /// `WarningStore.resend`.
    func resend(warningID: String, channel: String?, within region: RegionCode, states: Set<DeliveryState>, at date: Date) throws -> Int {
        let wanted = states.intersection([.failed, .expired]).map(\.rawValue).sorted()
        guard !wanted.isEmpty else { return 0 }
        var condition =
            "warningID = ? AND state IN (\(wanted.map { _ in "?" }.joined(separator: ", "))) AND \(RegionRange.condition("region"))"
        var arguments = StatementArguments([warningID] + wanted)
        _ = arguments.append(contentsOf: RegionRange.bounds(region.prefix))
        if let channel {
            condition += " AND channel = ?"
            _ = arguments.append(contentsOf: [channel])
        }
        // Each reopened receipt is sealed as queued: verify then knows it was reopened here,
        // not in the database file.
        var reopened: [Seals.Receipt] = []
        for record in try candidates(condition, arguments) {
            if let after = try persist(.resent(at: Timestamp(date)), record) { reopened.append(Seals.Receipt(after)) }
        }
        try Seals.append(reopened, in: db)
        if !reopened.isEmpty { try db.execute(sql: "UPDATE warning SET deliveriesOpen = 1 WHERE id = ?", arguments: [warningID]) }
        return reopened.count
    }

    /// The queued deliveries of a dial-in recipient waiting for a later attempt, due now.
    func wake(recipientID: String, at date: Date) throws -> Int {
        let now = Timestamp(date)
        return try apply(
            .woken(at: now), toRecordsWhere: "recipientID = ? AND state = 'queued' AND endpoint = 'dial-in' AND nextAttemptAt > ?",
            [recipientID, now])
    }

    /// Deliveries whose warning expired before they went out (a delivery's `expiresAt` is its
    /// warning's). One in flight is left to its attempt until its lease runs out. A warning
    /// is looked at while it has deliveries to do (`deliveriesOpen`): once none is left
    /// queued or sending, it is not looked at again.
    func expire(at date: Date) throws -> Int {
        let now = Timestamp(date)
        // `deliveriesOpen` exactly as the partial index `warning_deliveries_open` says it:
        // SQLite takes that index only for a query whose WHERE repeats its condition
        // (`deliveriesOpen = 1` would read every warning).
        let warnings = try String.fetchAll(
            db, sql: "SELECT id FROM warning WHERE deliveriesOpen AND expiresAt <= ?", arguments: [now])
        var expired = 0
        for warningID in warnings {
            expired += try apply(
                .expiryChecked(at: now), toRecordsWhere: "warningID = ? AND state IN ('queued', 'sending')", [warningID])
            let open =
                try Bool.fetchOne(
                    db, sql: "SELECT EXISTS (SELECT 1 FROM delivery WHERE warningID = ? AND state IN ('queued', 'sending'))",
                    arguments: [warningID]) ?? false
            if !open { try db.execute(sql: "UPDATE warning SET deliveriesOpen = 0 WHERE id = ?", arguments: [warningID]) }
        }
        return expired
    }

    /// Leases up to `limit` due deliveries of `channel`: first those whose lease ran out (a
    /// dispatcher died holding them), then queued ones whose time has come. Each half walks
    /// its own index; neither sorts or scans the whole outbox.
    func lease(channel: String, limit: Int, at date: Date, leaseFor: TimeInterval) throws -> [DeliveryJob] {
        let now = Timestamp(date)
        let until = date.addingTimeInterval(leaseFor)
        let event = DeliveryEvent.leased(at: now, until: Timestamp(until))
        var leased = try candidates(
            "channel = ? AND state = 'sending' AND leaseUntil <= ? ORDER BY leaseUntil LIMIT ?", [channel, now, limit]
        ).compactMap { try self.persist(event, $0) }
        if leased.count < limit {
            leased += try candidates(
                "channel = ? AND state = 'queued' AND nextAttemptAt <= ? ORDER BY nextAttemptAt LIMIT ?",
                [channel, now, limit - leased.count]
            ).compactMap { try self.persist(event, $0) }
        }
        guard !leased.isEmpty else { return [] }
        let details = try jobDetails(leased.map(\.id))
        return leased.compactMap { record in
            guard let (warningID, key, recipient, level) = details[record.id] else { return nil }
            return DeliveryJob(
                id: record.id, warningID: Warning.ID(rawValue: warningID), recipient: recipient, idempotencyKey: key,
                attempt: record.attempts, leaseUntil: until, level: level, expiresAt: record.expiresAt)
        }
    }

    /// Renews the leases still held on the attempts given; returns the ids renewed.
    func renew(_ leases: [(id: Int64, attempt: Int)], until date: Date) throws -> Set<Int64> {
        let until = Timestamp(date)
        var renewed: Set<Int64> = []
        for lease in leases {
            guard let record = try record(id: lease.id), DeliveryLifecycle.isHeld(record, by: lease.attempt) else { continue }
            try persist(.renewed(attempt: lease.attempt, until: until), record)
            renewed.insert(lease.id)
        }
        return renewed
    }

    /// The warning, idempotency key, recipient and warning level of each leased delivery,
    /// read column by column: this runs for every leased batch.
    private func jobDetails(_ ids: [Int64]) throws -> [Int64: (String, String, Recipient, Level?)] {
        let marks = ids.map { _ in "?" }.joined(separator: ",")
        var result: [Int64: (String, String, Recipient, Level?)] = [:]
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT d.id, d.warningID, d.idempotencyKey, r.id, r.channel, r.region, r.name, r.address, r.options, w.level
                FROM delivery d JOIN recipient r ON r.id = d.recipientID JOIN warning w ON w.id = d.warningID
                WHERE d.id IN (\(marks))
                """,
            arguments: StatementArguments(ids))
        while let row = try rows.next() {
            guard let region = RegionCode(row[5]) else { continue }
            let recipient = Recipient(
                id: row[3], channel: row[4], region: region, name: row[6], address: row[7],
                options: RecipientRecord.parseOptions(row[8]))
            result[row[0]] = (row[1], row[2], recipient, Level(rawValue: row[9]))
        }
        return result
    }

    /// Writes a batch of attempt results. Each applies only to the attempt its delivery is
    /// on; every request is kept in `attempt` whether it changed the delivery or not.
    func record(_ results: [AttemptResult]) throws {
        let insert = try db.cachedStatement(
            sql: """
                INSERT OR REPLACE INTO attempt (deliveryID, number, at, httpStatus, error, outcome, milliseconds, reference)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
        var seals: [Seals.Receipt] = []
        var records = try self.records(ids: results.map(\.deliveryID))
        for result in results {
            if let record = records[result.deliveryID],
                let transition = DeliveryLifecycle.apply(.attempted(result), to: record)
            {
                try transition.record.write(in: db, from: record)
                records[result.deliveryID] = transition.record
                if transition.seal { seals.append(Seals.Receipt(transition.record)) }
            }
            if case .deferred = result.outcome { continue }
            try insert.execute(arguments: [
                result.deliveryID, result.attempt, Timestamp(result.at), result.httpStatus, result.error, result.outcome.name,
                result.milliseconds, result.reference,
            ])
        }
        try Seals.append(seals, in: db)
        // A delivery back in the queue (a retry, a hand-back) whose warning an Update or a
        // Cancel replaced while it was out is superseded now: `supersede` passed it by as it
        // was sending, and the replaced message must not go out after its replacement.
        let requeued = Set(results.map(\.deliveryID)).compactMap { records[$0] }.filter { $0.state == .queued }
        if let latest = results.map(\.at).max(), !requeued.isEmpty {
            let replaced = try withdrawn(requeued.map(\.id))
            for record in requeued where replaced.contains(record.id) {
                try persist(.superseded(at: Timestamp(latest)), record)
            }
        }
    }

    /// Those of the deliveries `ids` whose warning was updated or cancelled.
    private func withdrawn(_ ids: [Int64]) throws -> Set<Int64> {
        let marks = ids.map { _ in "?" }.joined(separator: ",")
        return Set(
            try Int64.fetchAll(
                db,
                sql: """
                    SELECT d.id FROM delivery d JOIN warning w ON w.id = d.warningID
                    WHERE d.id IN (\(marks)) AND w.status IN ('superseded', 'cancelled')
                    """,
                arguments: StatementArguments(ids)))
    }

    /// A gateway's report on a delivery, kept in `receipt` whether it changes the delivery or not.
    func report(_ report: DeliveryReport) throws -> ReportResult {
        guard let record = try record(id: report.deliveryID) else { return .unknownDelivery }
        let at = Timestamp(report.at)
        try db.execute(
            sql: "INSERT INTO receipt (deliveryID, at, source, state, detail) VALUES (?, ?, ?, ?, ?)",
            arguments: [report.deliveryID, at, report.source, report.state.rawValue, report.detail])
        guard let after = try persist(.reported(report.state, detail: report.detail, at: at), record) else {
            return .unchanged(record.state)
        }
        return .applied(after.state)
    }

    /// The recipient's acknowledgement of the delivery with `idempotencyKey`, if
    /// `secretHash` is its recipient's.
    func acknowledge(idempotencyKey: String, secretHashes: [String], at date: Date) throws -> AckResult {
        guard
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT \(DeliveryRecord.columns(of: "d")), r.secretHash FROM delivery d JOIN recipient r ON r.id = d.recipientID
                    WHERE d.idempotencyKey = ?
                    """,
                arguments: [idempotencyKey]),
            let expected: String = row["secretHash"], secretHashes.contains(expected)
        else { return .forged }
        let record = DeliveryRecord(row: row)
        return try persist(.acknowledged(at: Timestamp(date)), record) == nil ? .alreadyDelivered : .delivered
    }

    /// A terminal's broadcast report on the delivery with `playback.idempotencyKey`, if that
    /// delivery is the terminal's and `secretHashes` holds its secret. A played report makes
    /// the delivery `played` and keeps the report's times (the first report's); a failed one
    /// is kept as a receipt and changes nothing.
    func played(terminal id: String, secretHashes: [String], _ playback: TerminalPlayback, at date: Date) throws -> PlaybackResult {
        guard
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT \(DeliveryRecord.columns(of: "d")), r.secretHash FROM delivery d JOIN recipient r ON r.id = d.recipientID
                    WHERE d.idempotencyKey = ? AND r.id = ?
                    """,
                arguments: [playback.idempotencyKey, id]),
            let expected: String = row["secretHash"], secretHashes.contains(expected)
        else { return .forged }
        let record = DeliveryRecord(row: row)
        guard playback.result == "played" else {
            try db.execute(
                sql: "INSERT INTO receipt (deliveryID, at, source, state, detail) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    record.id, Timestamp(date), "terminal:\(id)", record.state.rawValue, "not played: \(playback.detail ?? "no detail")",
                ])
            return .recorded(record.state)
        }
        // Stamped with the node's clock, as every other state is; the terminal's own times
        // are kept beside it.
        guard let after = try persist(.played(at: Timestamp(date)), record) else { return .recorded(record.state) }
        try db.execute(
            sql: "INSERT OR IGNORE INTO playback (deliveryID, startedAt, endedAt, timesPlayed, reportedAt) VALUES (?, ?, ?, ?, ?)",
            arguments: [record.id, playback.started, playback.ended, playback.timesPlayed, Timestamp(date)])
        return .recorded(after.state)
    }

    // MARK: Reading and writing records

    private func record(id: Int64) throws -> DeliveryRecord? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT \(DeliveryRecord.columns) FROM delivery WHERE id = ?"), arguments: [id]
        ).map(DeliveryRecord.init(row:))
    }

    /// The records of `ids`, read a few hundred at a time.
    private func records(ids: [Int64]) throws -> [Int64: DeliveryRecord] {
        var records: [Int64: DeliveryRecord] = [:]
        records.reserveCapacity(ids.count)
        var start = 0
        let unique = Array(Set(ids))
        while start < unique.count {
            let chunk = unique[start..<min(start + 500, unique.count)]
            let marks = chunk.map { _ in "?" }.joined(separator: ",")
            let rows = try Row.fetchCursor(
                db, sql: "SELECT \(DeliveryRecord.columns) FROM delivery WHERE id IN (\(marks))",
                arguments: StatementArguments(Array(chunk)))
            while let row = try rows.next() {
                let record = DeliveryRecord(row: row)
                records[record.id] = record
            }
            start += 500
        }
        return records
    }

    private func candidates(_ condition: String, _ arguments: StatementArguments) throws -> [DeliveryRecord] {
        try Row.fetchAll(
            db.cachedStatement(sql: "SELECT \(DeliveryRecord.columns) FROM delivery WHERE \(condition)"), arguments: arguments
        ).map(DeliveryRecord.init(row:))
    }

    /// Applies `event` to each matching delivery; returns how many changed.
    private func apply(_ event: DeliveryEvent, toRecordsWhere condition: String, _ arguments: StatementArguments) throws -> Int {
        var changed = 0
        for record in try candidates(condition, arguments) where try persist(event, record) != nil {
            changed += 1
        }
        return changed
    }

    /// Asks the lifecycle what `event` does to `record` and writes it, sealing a final
    /// receipt; nil when the event changes nothing.
    @discardableResult
    private func persist(_ event: DeliveryEvent, _ record: DeliveryRecord) throws -> DeliveryRecord? {
        guard let transition = DeliveryLifecycle.apply(event, to: record) else { return nil }
        try transition.record.write(in: db, from: record)
        if transition.seal { try Seals.append([Seals.Receipt(transition.record)], in: db) }
        return transition.record
    }
}
