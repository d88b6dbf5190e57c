import Foundation
import GRDB
import WarncastCore

/// Appends to and reads the hash-chained audit table, always inside a caller's transaction.
enum AuditLog {
    static func append(_ event: AuditEvent, at date: Date, in db: Database) throws {
        let last = try Row.fetchOne(db, sql: "SELECT sequence, hash FROM audit ORDER BY sequence DESC LIMIT 1")
        let sequence: Int64 = (last?["sequence"] ?? 0) + 1
        let entry = AuditEntry(
            sequence: sequence, at: Timestamp.string(date), actor: event.actor.name, action: event.action.name,
            subject: event.subject, detail: event.detailJSON,
            previousHash: last?["hash"] ?? AuditEntry.genesisHash)
        try db.execute(
            sql: """
                INSERT INTO audit (sequence, at, actor, action, subject, detail, previousHash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                entry.sequence, entry.at, entry.actor, entry.action, entry.subject, entry.detail,
                entry.previousHash, entry.hash,
            ])
    }

    static func entries(from sequence: Int64, limit: Int, in db: Database) throws -> [AuditEntry] {
        try Row.fetchAll(
            db, sql: "SELECT * FROM audit WHERE sequence >= ? ORDER BY sequence LIMIT ?",
            arguments: [sequence, limit]
        ).map(entry(from:))
    }

    /// Entries recorded in `[since, until)` after `sequence`, in order; a page of an export.
    static func entries(since: String, until: String, after sequence: Int64, limit: Int, in db: Database) throws -> [AuditEntry] {
        try Row.fetchAll(
            db, sql: "SELECT * FROM audit WHERE sequence > ? AND at >= ? AND at < ? ORDER BY sequence LIMIT ?",
            arguments: [sequence, since, until, limit]
        ).map(entry(from:))
    }

    static func entries(subject: String, in db: Database) throws -> [AuditEntry] {
        try Row.fetchAll(db, sql: "SELECT * FROM audit WHERE subject = ? ORDER BY sequence", arguments: [subject])
            .map(entry(from:))
    }

    /// Walks the whole chain with a cursor, so a long log is never held in memory at once.
    static func verify(in db: Database) throws -> AuditVerification {
        let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM audit ORDER BY sequence")
        var entries: [AuditEntry] = []
        var result = AuditVerification.intact(entries: 0, lastHash: AuditEntry.genesisHash)
        var checked: (count: Int64, hash: String) = (0, AuditEntry.genesisHash)
        while let row = try cursor.next() {
            entries.append(entry(from: row))
            if entries.count == 1000 {
                result = verifyBatch(entries, after: checked)
                guard case .intact(let count, let hash) = result else { return result }
                checked = (count, hash)
                entries.removeAll(keepingCapacity: true)
            }
        }
        return verifyBatch(entries, after: checked)
    }

    private static func verifyBatch(_ entries: [AuditEntry], after: (count: Int64, hash: String)) -> AuditVerification {
        AuditVerification.verify(entries, startingAfter: after.count, previousHash: after.hash)
    }

    private static func entry(from row: Row) -> AuditEntry {
        var entry = AuditEntry(
            sequence: row["sequence"], at: row["at"], actor: row["actor"], action: row["action"],
            subject: row["subject"], detail: row["detail"], previousHash: row["previousHash"])
        entry.hash = row["hash"]
        return entry
    }
}
