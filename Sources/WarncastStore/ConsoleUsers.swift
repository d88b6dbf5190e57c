import Foundation
import GRDB
import HummingbirdBcrypt
import WarncastCore

/// A person who signs in to the console with a user name and password. An account holds
/// the same grant a token does (role, department or region, approval role); signing in
/// opens a session, which is an ordinary token of that grant that expires, so the console
/// is held to exactly the scopes and rules of the API.
public struct ConsoleUser: Sendable, Codable, Equatable {
    public var username: String
    /// Who the person is, for the audit log, e.g. "带班领导 李四".
    public var name: String
    public var role: Role
    public var departmentID: String?
    public var region: RegionCode
    public var approvalRole: String?
    public var createdAt: Timestamp

    public init(
        username: String, name: String, role: Role, departmentID: String?, region: RegionCode, approvalRole: String?,
        createdAt: Timestamp
    ) {
        self.username = username
        self.name = name
        self.role = role
        self.departmentID = departmentID
        self.region = region
        self.approvalRole = approvalRole
        self.createdAt = createdAt
    }

    /// The grant of a session token `id` for this account, ending at `expiresAt`.
    public func sessionGrant(id: String, at now: Date, expiresAt: Date) -> TokenGrant {
        TokenGrant(
            id: id, name: name, role: role, departmentID: departmentID, region: region, createdAt: Timestamp(now),
            approvalRole: approvalRole, expiresAt: Timestamp(expiresAt))
    }

    /// A user name: 1 to 64 letters, digits, `.`, `_` or `-`.
    public static func isValidUsername(_ text: String) -> Bool {
        (1...64).contains(text.count)
            && text.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0) }
    }
}

/// Passwords are kept only as bcrypt hashes.
public enum ConsolePassword {
    /// bcrypt's work factor: about a quarter of a second per sign-in on a small server.
    public static let cost: UInt8 = 11
    /// What a password must be: 10 to 72 bytes (bcrypt reads no further), no control characters.
    public static func problem(_ password: String) -> String? {
        if password.utf8.count < 10 { return "a password needs at least 10 characters" }
        if password.utf8.count > 72 { return "a password may have at most 72 bytes" }
        if password.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            return "a password may not contain control characters"
        }
        return nil
    }

    /// The hash of `password`; a lower `work` only for tests, which check logic, not cost.
    public static func hash(_ password: String, work: UInt8 = cost) -> String { Bcrypt.hash(password, cost: work) }

    public static func verify(_ password: String, hash: String) -> Bool { Bcrypt.verify(password, hash: hash) }

    /// A hash of no password, checked against when the user name is unknown so that the
    /// answer takes as long as for a wrong password.
    public static let decoy = Bcrypt.hash("no account has this password", cost: cost)
}

struct ConsoleUserRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "console_user"
    var username: String
    var passwordHash: String
    var name: String
    var role: String
    var departmentID: String?
    var region: String
    var approvalRole: String?
    var createdAt: Timestamp
    var removedAt: Timestamp?

    init(_ user: ConsoleUser, passwordHash: String) {
        username = user.username
        self.passwordHash = passwordHash
        name = user.name
        role = user.role.rawValue
        departmentID = user.departmentID
        region = user.region.rawValue
        approvalRole = user.approvalRole
        createdAt = user.createdAt
        removedAt = nil
    }

    var user: ConsoleUser? {
        guard let role = Role(rawValue: role), let code = RegionCode(region) else { return nil }
        return ConsoleUser(
            username: username, name: name, role: role, departmentID: departmentID, region: code, approvalRole: approvalRole,
            createdAt: createdAt)
    }
}

extension SQLiteStore {
    public func saveConsoleUser(_ user: ConsoleUser, passwordHash: String, audit: AuditEvent) async throws {
        try await write { db in
            if let id = user.departmentID, try DepartmentRecord.fetchOne(db, key: id) == nil {
                throw StoreError.unknownDepartment(id)
            }
            guard try Self.regionExists(user.region, db) else { throw StoreError.unknownRegion(user.region.rawValue) }
            // A new password or grant ends the sessions opened under the old one.
            try Self.endSessions(of: user.username, at: self.now(), db)
            try ConsoleUserRecord(user, passwordHash: passwordHash).save(db)
            try AuditLog.append(audit, at: self.now(), in: db)
        }
    }

    public func consoleUser(username: String) async throws -> (user: ConsoleUser, passwordHash: String)? {
        try await writer.read { db in
            guard let record = try ConsoleUserRecord.filter(Column("username") == username && Column("removedAt") == nil).fetchOne(db),
                let user = record.user
            else { return nil }
            return (user, record.passwordHash)
        }
    }

    public func consoleUsers() async throws -> [ConsoleUser] {
        try await writer.read { db in
            try ConsoleUserRecord.filter(Column("removedAt") == nil).order(Column("username")).fetchAll(db).compactMap(\.user)
        }
    }

    public func removeConsoleUser(username: String, audit: AuditEvent) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: "UPDATE console_user SET removedAt = ? WHERE username = ? AND removedAt IS NULL",
                arguments: [Timestamp.string(self.now()), username])
            guard db.changesCount > 0 else { return false }
            try Self.endSessions(of: username, at: self.now(), db)
            try AuditLog.append(audit, at: self.now(), in: db)
            return true
        }
    }

    public func openSession(for username: String, grant: TokenGrant, secretHash: String, audit: AuditEvent) async throws {
        try await write { db in
            try TokenRecord(grant, secretHash: secretHash).insert(db)
            try db.execute(sql: "UPDATE token SET consoleUser = ? WHERE id = ?", arguments: [username, grant.id])
            try AuditLog.append(audit, at: self.now(), in: db)
        }
    }

    public func consoleSession(secretHash: String, at date: Date) async throws -> (grant: TokenGrant, username: String)? {
        try await writer.read { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT * FROM token WHERE secretHash = ? AND consoleUser IS NOT NULL AND revokedAt IS NULL",
                    arguments: [secretHash]),
                let grant = try TokenRecord(row: row).grant, grant.expiresAt.map({ Timestamp(date) < $0 }) ?? true
            else { return nil }
            return (grant, row["consoleUser"])
        }
    }

    private static func endSessions(of username: String, at now: Date, _ db: Database) throws {
        try db.execute(
            sql: "UPDATE token SET revokedAt = ? WHERE consoleUser = ? AND revokedAt IS NULL", arguments: [Timestamp.string(now), username])
    }
}
