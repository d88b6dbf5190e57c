import Foundation
import GRDB
import WarncastCore

/// The embedded store: SQLite through GRDB, in WAL mode, migrated on open.
public struct SQLiteStore: Store {
    private let writer: any DatabaseWriter
    /// Which channels a released warning is planned on.
    private let routing: DeliveryRouting

    /// Opens (creating if needed) the database at `path`, creating its directory.
    public init(path: String, routing: DeliveryRouting = DeliveryRouting(byLevel: [:])) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
            try self.init(writer: DatabasePool(path: path, configuration: configuration), routing: routing)
        } catch let error as DatabaseError {
            throw StoreError.cannotOpen(path: path, reason: error.message ?? "\(error)")
        } catch {
            throw StoreError.cannotOpen(path: path, reason: "\(error)")
        }
    }

    /// Wraps an existing writer; tests use an in-memory queue.
    public init(writer: any DatabaseWriter, routing: DeliveryRouting = DeliveryRouting(byLevel: [:])) throws {
        self.writer = writer
        self.routing = routing
        try Schema.migrator.migrate(writer)
    }

    /// A store in memory, for tests.
    public static func inMemory(routing: DeliveryRouting = DeliveryRouting(byLevel: [:])) throws -> SQLiteStore {
        try SQLiteStore(writer: DatabaseQueue(), routing: routing)
    }

    // MARK: Regions

    public func importRegions(_ regions: [Region], audit: AuditEvent) async throws -> Int {
        try await writer.write { db in
            let statement = try db.makeStatement(sql: """
                INSERT INTO region (code, name, parent, tier) VALUES (?, ?, ?, ?)
                ON CONFLICT(code) DO UPDATE SET name = excluded.name, parent = excluded.parent
                """)
            for region in regions {
                try statement.execute(arguments: [
                    region.code.rawValue, region.name, region.parent?.rawValue, region.tier.rawValue,
                ])
            }
            try AuditLog.append(audit, at: Date(), in: db)
            return regions.count
        }
    }

    public func region(_ code: RegionCode) async throws -> Region? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT code, name, parent FROM region WHERE code = ?", arguments: [code.rawValue])
                .flatMap(Self.region(from:))
        }
    }

    public func regionCount() async throws -> Int {
        try await writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM region") ?? 0 }
    }

    private static func region(from row: Row) -> Region? {
        guard let code = RegionCode(row["code"]) else { return nil }
        let parent: String? = row["parent"]
        return Region(code: code, name: row["name"], parent: parent.flatMap(RegionCode.init))
    }

    // MARK: Departments

    public func saveDepartments(_ departments: [Department], audit: AuditEvent) async throws {
        try await writer.write { db in
            for department in departments {
                guard try Self.regionExists(department.region, db) else {
                    throw StoreError.unknownRegion(department.region.rawValue)
                }
                try DepartmentRecord(department).save(db)
            }
            try AuditLog.append(audit, at: Date(), in: db)
        }
    }

    public func department(id: String) async throws -> Department? {
        try await writer.read { db in try DepartmentRecord.fetchOne(db, key: id)?.department }
    }

    public func departments() async throws -> [Department] {
        try await writer.read { db in
            try DepartmentRecord.order(Column("id")).fetchAll(db).compactMap(\.department)
        }
    }

    static func regionExists(_ code: RegionCode, _ db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM region WHERE code = ?)", arguments: [code.rawValue]) ?? false
    }

    // MARK: Tokens

    public func createToken(_ grant: TokenGrant, secretHash: String, audit: AuditEvent) async throws {
        try await writer.write { db in
            if let id = grant.departmentID, try DepartmentRecord.fetchOne(db, key: id) == nil {
                throw StoreError.unknownDepartment(id)
            }
            guard try Self.regionExists(grant.region, db) else {
                throw StoreError.unknownRegion(grant.region.rawValue)
            }
            try TokenRecord(grant, secretHash: secretHash).insert(db)
            try AuditLog.append(audit, at: Date(), in: db)
        }
    }

    public func revokeToken(id: String, audit: AuditEvent) async throws -> Bool {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE token SET revokedAt = ? WHERE id = ? AND revokedAt IS NULL",
                arguments: [Timestamp.string(Date()), id])
            guard db.changesCount > 0 else { return false }
            try AuditLog.append(audit, at: Date(), in: db)
            return true
        }
    }

    public func tokens() async throws -> [TokenGrant] {
        try await writer.read { db in
            try TokenRecord.order(Column("createdAt")).fetchAll(db).compactMap(\.grant)
        }
    }

    public func principal(secretHash: String) async throws -> Principal? {
        try await writer.read { db in
            guard let record = try TokenRecord.filter(Column("secretHash") == secretHash)
                .filter(Column("revokedAt") == nil).fetchOne(db),
                let grant = record.grant
            else { return nil }
            let department = try grant.departmentID.flatMap { try DepartmentRecord.fetchOne(db, key: $0)?.department }
            return Principal(
                tokenID: grant.id, name: grant.name, role: grant.role, department: department, region: grant.region,
                approvalRole: grant.approvalRole)
        }
    }

    // MARK: Warnings

    public func accept(_ draft: WarningDraft, plan: ApprovalPlan, by principal: Principal, at date: Date) async throws -> Acceptance {
        try await writer.write { db in
            try WarningWriter(db: db, routing: routing).accept(draft, plan: plan, by: principal, at: date)
        }
    }

    public func warning(id: String) async throws -> Warning? {
        try await writer.read { db in
            try WarningRecord.fetchOne(db, key: id)?.warning(approvals: ApprovalRecord.all(for: id, db))
        }
    }

    public func warning(sender: String, identifier: String) async throws -> Warning? {
        try await writer.read { db in
            guard let record = try WarningRecord.find(sender: sender, identifier: identifier, db) else { return nil }
            return try record.warning(approvals: ApprovalRecord.all(for: record.id, db))
        }
    }

    public func rawMessage(id: String) async throws -> (data: Data, format: CAPFormat)? {
        try await writer.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT raw, format FROM warning WHERE id = ?", arguments: [id]),
                  let format = CAPFormat(rawValue: row["format"])
            else { return nil }
            return (row["raw"], format)
        }
    }

    public func warnings(_ query: WarningQuery) async throws -> [Warning] {
        try await writer.read { db in
            try WarningRecord.fetchAll(db, WarningRecord.request(for: query)).map {
                try $0.warning(approvals: ApprovalRecord.all(for: $0.id, db))
            }
        }
    }

    public func activeWarnings(at date: Date) async throws -> [Warning] {
        try await writer.read { db in
            try WarningRecord.fetchAll(
                db,
                sql: """
                    SELECT * FROM warning WHERE status = 'released' AND (expiresAt IS NULL OR expiresAt > ?)
                    ORDER BY releasedAt DESC, id LIMIT 1000
                    """,
                arguments: [Timestamp.string(date)]
            ).map { try $0.warning(approvals: []) }
        }
    }

    // MARK: Approval

    public func decide(
        warningID: String, _ decision: Approval.Decision, by principal: Principal, reason: String?, at date: Date
    ) async throws -> Decided {
        try await writer.write { db in
            try ApprovalWriter(db: db, routing: routing).decide(warningID: warningID, decision, by: principal, reason: reason, at: date)
        }
    }

    public func escalateOverdue(at date: Date, repeatEvery: TimeInterval, contacts: [String]) async throws -> [Escalation] {
        try await writer.write { db in
            try Scheduling(db: db, routing: routing).escalateOverdue(at: date, repeatEvery: repeatEvery, contacts: contacts)
        }
    }

    public func expireWarnings(at date: Date) async throws -> [String] {
        try await writer.write { db in try Scheduling(db: db, routing: routing).expireWarnings(at: date) }
    }

    public func auditEntries(subject: String) async throws -> [AuditEntry] {
        try await writer.read { db in try AuditLog.entries(subject: subject, in: db) }
    }

    // MARK: Recipients and deliveries

    public func saveRecipients(_ recipients: [(recipient: Recipient, secretHash: String?)], audit: AuditEvent) async throws {
        try await writer.write { db in
            for (recipient, secretHash) in recipients {
                try RecipientRecord(recipient, secretHash: secretHash).save(db)
            }
            try AuditLog.append(audit, at: Date(), in: db)
        }
    }

    public func recipients(channel: String?, within region: RegionCode?, limit: Int) async throws -> [Recipient] {
        try await writer.read { db in
            var request = RecipientRecord.all().order(Column("id")).limit(limit)
            if let channel { request = request.filter(Column("channel") == channel) }
            if let region { request = request.filter(Column("region").like(String(region.prefix) + "%")) }
            return try request.fetchAll(db).compactMap(\.recipient)
        }
    }

    public func recipientCount() async throws -> Int {
        try await writer.read { db in try RecipientRecord.fetchCount(db) }
    }

    public func leaseDeliveries(channel: String, limit: Int, at date: Date, leaseFor: TimeInterval) async throws -> [DeliveryJob] {
        try await writer.write { db in
            try Deliveries(db: db).lease(channel: channel, limit: limit, at: date, leaseFor: leaseFor)
        }
    }

    public func recordAttempts(_ results: [AttemptResult]) async throws {
        try await writer.write { db in try Deliveries(db: db).record(results) }
    }

    public func expireDeliveries(at date: Date) async throws -> Int {
        try await writer.write { db in try Deliveries(db: db).expire(at: date) }
    }

    public func reaches(warningID: String) async throws -> [WarningTimeline.Reach] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT channel, region, min(deliveredAt) AS first FROM delivery
                    WHERE warningID = ? AND state IN ('queued', 'sending', 'accepted', 'delivered', 'failed', 'expired')
                    GROUP BY channel, region
                    """,
                arguments: [warningID]
            ).map { row in
                WarningTimeline.Reach(
                    channel: row["channel"], division: row["region"], firstDelivered: (row["first"] as String?).flatMap(Timestamp.parse))
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
            nextAttemptAt: row["nextAttemptAt"], lastStatus: row["lastStatus"], lastError: row["lastError"])
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
                    WHERE d.id > ? AND d.queuedAt >= ? AND d.queuedAt < ? AND r.region LIKE ?
                    ORDER BY d.id LIMIT ?
                    """,
                arguments: [id, Timestamp.string(since), Timestamp.string(until), String(region.prefix) + "%", limit]
            ).map { DeliveryExportRow(warning: $0["warningID"], identifier: $0["identifier"], delivery: Self.deliveryView($0)) }
        }
    }

    public func prune(before cutoff: Date, actor: String, at date: Date) async throws -> (attempts: Int, receipts: Int) {
        try await writer.write { db in
            let limit = Timestamp.string(cutoff)
            try db.execute(sql: "DELETE FROM attempt WHERE at < ?", arguments: [limit])
            let attempts = db.changesCount
            try db.execute(sql: "DELETE FROM receipt WHERE at < ?", arguments: [limit])
            let receipts = db.changesCount
            if attempts + receipts > 0 {
                try AuditLog.append(
                    AuditEvent(
                        actor: actor, action: "retention.pruned", subject: "attempts,receipts",
                        detail: ["before": limit, "attempts": String(attempts), "receipts": String(receipts)]),
                    at: date, in: db)
            }
            return (attempts, receipts)
        }
    }

    public func exportAudit(since: Date, until: Date, after sequence: Int64, limit: Int) async throws -> [AuditEntry] {
        try await writer.read { db in
            try AuditLog.entries(since: Timestamp.string(since), until: Timestamp.string(until), after: sequence, limit: limit, in: db)
        }
    }

    public func deliveryReferences(warningID: String, channels: Set<String>) async throws -> [DeliveryReference] {
        guard !channels.isEmpty else { return [] }
        return try await writer.read { db in
            let marks = channels.map { _ in "?" }.joined(separator: ", ")
            var arguments: StatementArguments = [warningID]
            _ = arguments.append(contentsOf: StatementArguments(channels.sorted()))
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT d.id, r.id AS recipientID, r.name, r.address,
                      (SELECT a.reference FROM attempt a WHERE a.deliveryID = d.id AND a.reference IS NOT NULL
                       ORDER BY a.number DESC LIMIT 1) AS reference
                    FROM delivery d JOIN recipient r ON r.id = d.recipientID
                    WHERE d.warningID = ? AND d.state = 'delivered' AND d.channel IN (\(marks))
                    ORDER BY r.id
                    """,
                arguments: arguments
            ).compactMap { row in
                guard let reference: String = row["reference"] else { return nil }
                return DeliveryReference(
                    deliveryID: row["id"], recipientID: row["recipientID"], recipientName: row["name"], address: row["address"],
                    reference: reference)
            }
        }
    }

    public func reports(warningID: String, limit: Int) async throws -> [StoredReport] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT r.deliveryID, d.recipientID, r.at, r.source, r.state, r.detail
                    FROM receipt r JOIN delivery d ON d.id = r.deliveryID
                    WHERE d.warningID = ? ORDER BY r.id LIMIT ?
                    """,
                arguments: [warningID, limit]
            ).map { StoredReport(delivery: $0[0], recipient: $0[1], at: $0[2], source: $0[3], state: $0[4], detail: $0[5]) }
        }
    }

    public func report(_ report: DeliveryReport) async throws -> ReportResult {
        try await writer.write { db in try Deliveries(db: db).report(report) }
    }

    public func acknowledge(idempotencyKey: String, secretHash: String, at date: Date) async throws -> AckResult {
        try await writer.write { db in
            guard let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT d.id, d.state, r.secretHash FROM delivery d JOIN recipient r ON r.id = d.recipientID
                    WHERE d.idempotencyKey = ?
                    """,
                arguments: [idempotencyKey]),
                let expected: String = row["secretHash"], expected == secretHash
            else { return .forged }
            if (row["state"] as String) == DeliveryState.delivered.rawValue { return .alreadyDelivered }
            let now = Timestamp.string(date)
            try db.execute(
                sql: """
                    UPDATE delivery SET state = 'delivered', deliveredAt = ?, acceptedAt = coalesce(acceptedAt, ?), leaseUntil = NULL
                    WHERE id = ?
                    """,
                arguments: [now, now, row["id"] as Int64])
            try Seals.seal([row["id"] as Int64], in: db)
            return .delivered
        }
    }

    public func deliveries(warningID: String, state: DeliveryState?, limit: Int) async throws -> [DeliveryView] {
        try await deliveries(warningID: warningID, state: state, limit: limit, excluding: nil)
    }

    private func deliveries(
        warningID: String, state: DeliveryState?, limit: Int, excluding: DeliveryState?
    ) async throws -> [DeliveryView] {
        try await writer.read { db in
            var sql = """
                SELECT d.*, r.name AS recipientName, r.region AS region FROM delivery d
                JOIN recipient r ON r.id = d.recipientID WHERE d.warningID = ?
                """
            var arguments: StatementArguments = [warningID]
            if let state {
                sql += " AND d.state = ?"
                _ = arguments.append(contentsOf: [state.rawValue])
            }
            if let excluding {
                // Spelled as the states wanted, so the (warningID, state …) index narrows it.
                let wanted = DeliveryState.allCases.filter { $0 != excluding }
                sql += " AND d.state IN (\(wanted.map { _ in "?" }.joined(separator: ", ")))"
                _ = arguments.append(contentsOf: StatementArguments(wanted.map(\.rawValue)))
            }
            sql += " ORDER BY d.id LIMIT ?"
            _ = arguments.append(contentsOf: [limit])
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.deliveryView)
        }
    }

    public func rollup(warningID: String, depth: Tier) async throws -> WarningRollup {
        try await writer.read { db in
            let released = try String.fetchOne(db, sql: "SELECT releasedAt FROM warning WHERE id = ?", arguments: [warningID])
                .flatMap(Timestamp.parse)
            // One builder over all channels and, when there are several, one per channel, fed
            // in the same pass.
            var total = RollupBuilder(depth: depth)
            var byChannel: [String: RollupBuilder] = [:]
            // Counts per recipient region, state and channel, grouped by SQLite from the index.
            let groups = try Row.fetchAll(
                db,
                sql: "SELECT region, state, channel, count(*) FROM delivery WHERE warningID = ? GROUP BY region, state, channel",
                arguments: [warningID])
            let channels = Set(groups.map { $0[2] as String })
            for row in groups {
                guard let region = RegionCode(row[0]), let state = DeliveryState(rawValue: row[1]) else { continue }
                total.add(region: region, state: state, count: row[3])
                if channels.count > 1 {
                    byChannel[row[2], default: RollupBuilder(depth: depth)].add(region: region, state: state, count: row[3])
                }
            }
            // Seconds to deliver, computed by SQLite; each division keeps only the values at
            // its percentile ranks as they stream past.
            if let released {
                let times = try Row.fetchCursor(
                    db,
                    // In index order: deliveredAt ascending is seconds ascending, with no sort.
                    sql: """
                        SELECT region, \(channels.count > 1 ? "channel" : "NULL"), max(0, (julianday(deliveredAt) - julianday(?)) * 86400.0)
                        FROM delivery WHERE warningID = ? AND state = 'delivered' ORDER BY deliveredAt
                        """,
                    arguments: [Timestamp.string(released), warningID])
                while let row = try times.next() {
                    let region: String = row[0], seconds: Double = row[2]
                    total.addAscending(region: region, seconds: seconds)
                    if channels.count > 1, let channel = row[1] as String? {
                        byChannel[channel]?.addAscending(region: region, seconds: seconds)
                    }
                }
            }
            var names: [RegionCode: String] = [:]
            let name = try db.cachedStatement(sql: "SELECT name FROM region WHERE code = ?")
            for code in total.regions {
                names[code] = try String.fetchOne(name, arguments: [code.rawValue])
            }
            let entries = total.entries(names: names)
            // With one channel, its roll-up is the total.
            let perChannel = channels.count == 1 ? [channels.first!: entries] : byChannel.mapValues { $0.entries(names: names) }
            return WarningRollup(total: entries, byChannel: perChannel)
        }
    }

    public func undelivered(warningID: String, limit: Int) async throws -> [DeliveryView] {
        try await deliveries(warningID: warningID, state: nil, limit: limit, excluding: .delivered)
    }

    public func deliverySummary(warningID: String) async throws -> [DeliveryState: Int] {
        try await writer.read { db in
            var summary: [DeliveryState: Int] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT state, count(*) AS n FROM delivery WHERE warningID = ? GROUP BY state", arguments: [warningID])
            {
                if let state = DeliveryState(rawValue: row["state"]) { summary[state] = row["n"] }
            }
            return summary
        }
    }

    // MARK: Audit

    public func appendAudit(_ event: AuditEvent, at date: Date) async throws {
        try await writer.write { db in try AuditLog.append(event, at: date, in: db) }
    }

    public func auditEntries(from sequence: Int64, limit: Int) async throws -> [AuditEntry] {
        try await writer.read { db in try AuditLog.entries(from: sequence, limit: limit, in: db) }
    }

    public func verifyReceipts() async throws -> SealVerification {
        try await writer.read { db in try Seals.verify(in: db) }
    }

    public func verifyAudit() async throws -> AuditVerification {
        try await writer.read { db in try AuditLog.verify(in: db) }
    }

    public func ping() async throws {
        _ = try await writer.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }
}
