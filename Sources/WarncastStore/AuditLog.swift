import Foundation
import GRDB
import WarncastCore

/// Appends to and reads the hash-chained audit table, always inside a caller's transaction.
enum AuditLog {
    static func append(_ event: AuditEvent, at date: Date, in db: Database) throws {
        // Both statements are prepared once per connection: every intake and decision writes
        // an entry, and parsing the SQL again each time was a large part of an intake's cost.
        let last = try Row.fetchOne(db.cachedStatement(sql: "SELECT sequence, hash FROM audit ORDER BY sequence DESC LIMIT 1"))
        let sequence: Int64 = (last?["sequence"] ?? 0) + 1
        // The chain hashes exactly what is stored, and what is stored reads back the same:
        // control characters are written as visible escapes, and long subjects cut.
        let entry = AuditEntry(
            sequence: sequence, at: Timestamp.string(date), actor: AuditText.storable(event.actor.name),
            action: AuditText.storable(event.action.name), subject: AuditText.storable(event.subject),
            detail: event.detailJSON,
            previousHash: last?["hash"] ?? AuditEntry.genesisHash)
        try db.cachedStatement(
            sql: """
                INSERT INTO audit (sequence, at, actor, action, subject, detail, previousHash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
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

    /// The first and last sequence of the entries recorded in `[since, until)`.
    static func span(since: String, until: String, in db: Database) throws -> ClosedRange<Int64>? {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT min(sequence), max(sequence) FROM audit WHERE at >= ? AND at < ?", arguments: [since, until]),
            let first: Int64 = row[0], let last: Int64 = row[1]
        else { return nil }
        return first...last
    }

    /// Entries `sequence` through `last`, in order, at most `limit`; a page of an export.
    static func entries(from sequence: Int64, through last: Int64, limit: Int, in db: Database) throws -> [AuditEntry] {
        try Row.fetchAll(
            db, sql: "SELECT * FROM audit WHERE sequence >= ? AND sequence <= ? ORDER BY sequence LIMIT ?",
            arguments: [sequence, last, limit]
        ).map(entry(from:))
    }

    static func entries(subject: String, in db: Database) throws -> [AuditEntry] {
        try Row.fetchAll(db, sql: "SELECT * FROM audit WHERE subject = ? ORDER BY sequence", arguments: [subject])
            .map(entry(from:))
    }

    /// Walks the whole chain with a cursor, so a long log is never held in memory at once.
    static func verify(in db: Database) throws -> AuditVerification {
        let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM audit ORDER BY sequence")
        var walker = AuditChainWalker()
        while let row = try cursor.next() {
            walker.check(entry(from: row))
        }
        return walker.result
    }

    private static func entry(from row: Row) -> AuditEntry {
        var entry = AuditEntry(
            sequence: row["sequence"], at: row["at"], actor: row["actor"], action: row["action"],
            subject: row["subject"], detail: row["detail"], previousHash: row["previousHash"])
        entry.hash = row["hash"]
        return entry
    }
}
