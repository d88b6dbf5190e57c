import Foundation
import GRDB
import WarncastCore

/// Regions, departments, tokens and recipients.
extension SQLiteStore {
    // MARK: Regions

    public func importRegions(_ regions: [Region], audit: AuditEvent) async throws -> Int {
        try await write { db in
            let statement = try db.makeStatement(
                sql: """
                    INSERT INTO region (code, name, parent, tier, longitude, latitude) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT(code) DO UPDATE SET name = excluded.name, parent = excluded.parent,
                        longitude = excluded.longitude, latitude = excluded.latitude
                    """)
            for region in regions {
                try statement.execute(arguments: [
                    region.code.rawValue, region.name, region.parent?.rawValue, region.tier.rawValue, region.longitude, region.latitude,
                ])
            }
            try AuditLog.append(audit, at: now(), in: db)
            return regions.count
        }
    }

    public func region(_ code: RegionCode) async throws -> Region? {
        try await writer.read { db in
            try Row.fetchOne(
                db, sql: "SELECT code, name, parent, longitude, latitude FROM region WHERE code = ?", arguments: [code.rawValue]
            )
            .flatMap(Self.region(from:))
        }
    }

    public func regions(matching text: String, within scope: RegionCode, limit: Int) async throws -> [Region] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT code, name, parent, longitude, latitude FROM region
                    WHERE substr(code, 1, length(?3)) = ?3 AND (substr(code, 1, length(?1)) = ?1 OR instr(name, ?1) > 0)
                    ORDER BY length(code), code LIMIT ?2
                    """, arguments: [text, limit, String(scope.prefix)]
            ).compactMap(Self.region(from:))
        }
    }

    public func regions(codes: [RegionCode]) async throws -> [Region] {
        try await writer.read { db in
            let statement = try db.cachedStatement(sql: "SELECT code, name, parent, longitude, latitude FROM region WHERE code = ?")
            return try codes.compactMap { try Row.fetchOne(statement, arguments: [$0.rawValue]).flatMap(Self.region(from:)) }
        }
    }

    public func regionCount() async throws -> Int {
        try await writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM region") ?? 0 }
    }

    private static func region(from row: Row) -> Region? {
        guard let code = RegionCode(row["code"]) else { return nil }
        let parent: String? = row["parent"]
        return Region(
            code: code, name: row["name"], parent: parent.flatMap(RegionCode.init), longitude: row["longitude"], latitude: row["latitude"])
    }

    // MARK: Departments

    public func saveDepartments(_ departments: [Department], audit: AuditEvent) async throws {
        try await write { db in
            for department in departments {
                guard try Self.regionExists(department.region, db) else {
                    throw StoreError.unknownRegion(department.region.rawValue)
                }
                try DepartmentRecord(department).save(db)
            }
            try AuditLog.append(audit, at: now(), in: db)
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
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM region WHERE code = ?)"), arguments: [code.rawValue])
            ?? false
    }

    // MARK: Tokens

    public func createToken(_ grant: TokenGrant, secretHash: String, audit: AuditEvent) async throws {
        try await write { db in
            if let id = grant.departmentID, try DepartmentRecord.fetchOne(db, key: id) == nil {
                throw StoreError.unknownDepartment(id)
            }
            guard try Self.regionExists(grant.region, db) else {
                throw StoreError.unknownRegion(grant.region.rawValue)
            }
            try TokenRecord(grant, secretHash: secretHash).insert(db)
            try AuditLog.append(audit, at: now(), in: db)
        }
    }

    public func revokeToken(id: String, audit: AuditEvent) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: "UPDATE token SET revokedAt = ? WHERE id = ? AND revokedAt IS NULL",
                arguments: [Timestamp.string(now()), id])
            guard db.changesCount > 0 else { return false }
            try AuditLog.append(audit, at: now(), in: db)
            return true
        }
    }

    public func tokens() async throws -> [TokenGrant] {
        try await writer.read { db in
            try TokenRecord.order(Column("createdAt")).fetchAll(db).compactMap(\.grant)
        }
    }

    public func principal(secretHash: String, at date: Date) async throws -> Principal? {
        try await writer.read { db in
            guard
                // Every authenticated request asks: statements prepared once per connection.
                let record = try TokenRecord.fetchOne(
                    db.cachedStatement(sql: "SELECT * FROM token WHERE secretHash = ? AND revokedAt IS NULL"), arguments: [secretHash]),
                let grant = record.grant, grant.expiresAt.map { Timestamp(date) < $0 } ?? true
            else { return nil }
            let department = try grant.departmentID.flatMap {
                try DepartmentRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM department WHERE id = ?"), arguments: [$0])?.department
            }
            return Principal(
                tokenID: grant.id, name: grant.name, role: grant.role, department: department, region: grant.region,
                approvalRole: grant.approvalRole)
        }
    }

    // MARK: Recipients

    public func saveRecipients(
        _ recipients: [(recipient: Recipient, secretHash: String?)], within scope: RegionCode?, audit: AuditEvent
    ) async throws {
        try await write { db in
            let at = now()
            // Each recipient added or changed is an entry of its own (who put which address
            // where), besides the batch's: the registry file's import at start is not here.
            for (recipient, secretHash) in recipients {
                let record = RecipientRecord(recipient, secretHash: secretHash)
                if let existing = try RecipientRecord.fetchOne(db, key: recipient.id) {
                    if let scope {
                        guard let region = RegionCode(existing.region), region.isWithin(scope) else {
                            throw StoreError.recipientOutOfScope(id: recipient.id, region: existing.region)
                        }
                    }
                    if let change = existing.change(to: record) {
                        try AuditLog.append(
                            AuditEvent(actor: audit.actor, action: .recipientChanged, subject: recipient.id, detail: change), at: at, in: db
                        )
                    }
                } else {
                    try AuditLog.append(
                        AuditEvent(
                            actor: audit.actor, action: .recipientAdded, subject: recipient.id,
                            detail: [
                                "channel": record.channel, "region": record.region, "name": record.name, "address": record.address,
                                "secret": record.secretHash == nil ? "none" : "set",
                            ]), at: at, in: db)
                }
                try record.save(db)
            }
            try AuditLog.append(audit, at: at, in: db)
        }
    }

    public func importRecipients(staged: RecipientStaging, revive: Bool, audit: AuditEvent) async throws -> Int {
        let at = now()
        // ATTACH cannot happen inside a transaction: attach, copy in one transaction, detach.
        return try await writeWithoutTransaction { db -> Int in
            try db.execute(sql: "ATTACH DATABASE ? AS staged", arguments: [staged.path])
            defer { try? db.execute(sql: "DETACH DATABASE staged") }
            var count = 0
            try db.inTransaction {
                // Each recipient the file changes (an address re-pointed, a removed one back)
                // is an entry of its own, as through the API: who put which address where.
                // Added ones are counted in the batch's entry.
                let changed = try Row.fetchCursor(
                    db,
                    sql: """
                        SELECT r.id, r.channel, r.region, r.name, r.address, r.options, r.secretHash, r.active,
                          s.channel, s.region, s.name, s.address, s.options, s.secretHash
                        FROM staged.row s JOIN recipient r ON r.id = s.id
                        WHERE r.channel IS NOT s.channel OR r.region IS NOT s.region OR r.name IS NOT s.name
                          OR r.address IS NOT s.address OR r.options IS NOT s.options OR r.secretHash IS NOT s.secretHash
                          OR (? AND NOT r.active)
                        """, arguments: [revive])
                var changes = 0
                while let row = try changed.next() {
                    let before = RecipientRecord(
                        id: row[0], channel: row[1], region: row[2], name: row[3], address: row[4], options: row[5], secretHash: row[6],
                        active: row[7])
                    let after = RecipientRecord(
                        id: row[0], channel: row[8], region: row[9], name: row[10], address: row[11], options: row[12],
                        secretHash: row[13], active: before.active || revive)
                    guard let change = before.change(to: after) else { continue }
                    try AuditLog.append(
                        AuditEvent(actor: audit.actor, action: .recipientChanged, subject: before.id, detail: change), at: at, in: db)
                    changes += 1
                }
                let existing = try Int.fetchOne(db, sql: "SELECT count(*) FROM staged.row s JOIN recipient r ON r.id = s.id") ?? 0
                try db.execute(
                    sql: """
                        INSERT INTO recipient (id, channel, region, name, address, options, secretHash, active)
                        SELECT id, channel, region, name, address, options, secretHash, 1 FROM staged.row WHERE true
                        ON CONFLICT (id) DO UPDATE SET channel = excluded.channel, region = excluded.region,
                          name = excluded.name, address = excluded.address, options = excluded.options,
                          secretHash = excluded.secretHash, active = CASE WHEN ? THEN 1 ELSE recipient.active END
                        """, arguments: [revive])
                count = try Int.fetchOne(db, sql: "SELECT count(*) FROM staged.row") ?? 0
                var event = audit
                event.detail["count"] = String(count)
                event.detail["added"] = String(count - existing)
                event.detail["changed"] = String(changes)
                try AuditLog.append(event, at: at, in: db)
                return .commit
            }
            return count
        }
    }

    public func recipients(channel: String?, within region: RegionCode?, limit: Int) async throws -> [Recipient] {
        try await writer.read { db in
            var request = RecipientRecord.filter(Column("active") == true).order(Column("id")).limit(limit)
            if let channel { request = request.filter(Column("channel") == channel) }
            if let region { request = request.filter(Column("region").like(String(region.prefix) + "%")) }
            return try request.fetchAll(db).compactMap(\.recipient)
        }
    }

    public func recipient(id: String) async throws -> Recipient? {
        try await writer.read { db in try RecipientRecord.fetchOne(db, key: id).flatMap { $0.active ? $0.recipient : nil } }
    }

    public func recipientCount() async throws -> Int {
        try await writer.read { db in try RecipientRecord.filter(Column("active") == true).fetchCount(db) }
    }

    public func removeRecipient(id: String, within scope: RegionCode?, audit: AuditEvent) async throws -> Bool {
        try await write { db in
            guard let existing = try RecipientRecord.fetchOne(db, key: id), existing.active else { return false }
            if let scope {
                guard let region = RegionCode(existing.region), region.isWithin(scope) else {
                    throw StoreError.recipientOutOfScope(id: id, region: existing.region)
                }
            }
            try db.execute(sql: "UPDATE recipient SET active = 0 WHERE id = ?", arguments: [id])
            var event = audit
            event.detail.merge(
                ["channel": existing.channel, "region": existing.region, "name": existing.name]) { given, _ in given }
            try AuditLog.append(event, at: now(), in: db)
            return true
        }
    }
}
