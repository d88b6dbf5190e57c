import Foundation
import GRDB
import Synchronization
import WarncastCore

extension DeliveryRecord {
    /// The columns `init(row:)` reads, in this order, first in the row; every lease and every
    /// result reads them, so they are read by position rather than by name.
    static let columns = """
        id, state, attempts, leaseUntil, nextAttemptAt, expiresAt, sendingAt, acceptedAt, deliveredAt, failedAt,
        expiredAt, supersededAt, lastStatus, lastError, playedAt
        """

    /// The same columns of the table aliased `alias`.
    static func columns(of alias: String) -> String {
        columns.split(separator: ",").map { "\(alias).\($0.trimmingCharacters(in: .whitespacesAndNewlines))" }
            .joined(separator: ", ")
    }

    init(row: Row) {
        self.init(
            id: row[0], state: DeliveryState(rawValue: row[1]) ?? .queued, attempts: row[2], leaseUntil: row[3],
            nextAttemptAt: row[4], expiresAt: row[5], sendingAt: row[6], acceptedAt: row[7], deliveredAt: row[8],
            failedAt: row[9], expiredAt: row[10], supersededAt: row[11], lastStatus: row[12], lastError: row[13], playedAt: row[14])
    }

    /// The columns `write` may set, in the order of their bit in a change mask.
    private static let writable = [
        "state", "attempts", "leaseUntil", "nextAttemptAt", "sendingAt", "acceptedAt", "deliveredAt", "failedAt",
        "expiredAt", "supersededAt", "lastStatus", "lastError", "playedAt",
    ]

    /// The UPDATE for each set of changed columns, built once: a fan-out writes a few shapes
    /// of change hundreds of thousands of times.
    private static let updates = Mutex<[Int: String]>([:])

    private static func update(for mask: Int) -> String {
        updates.withLock { cache in
            if let sql = cache[mask] { return sql }
            let columns = writable.indices.filter { mask & (1 << $0) != 0 }.map { "\(writable[$0]) = ?" }
            let sql = "UPDATE delivery SET \(columns.joined(separator: ", ")) WHERE id = ?"
            cache[mask] = sql
            return sql
        }
    }

    /// Persists the record as the lifecycle left it, writing only the columns that changed
    /// from `before` (an index is only touched when a column of it is written); the store
    /// decides nothing here.
    func write(in db: Database, from before: DeliveryRecord) throws {
        var mask = 0
        var values: [(any DatabaseValueConvertible)?] = []
        values.reserveCapacity(6)
        func set(_ bit: Int, _ changed: Bool, _ value: (any DatabaseValueConvertible)?) {
            guard changed else { return }
            mask |= 1 << bit
            values.append(value)
        }
        set(0, state != before.state, state.rawValue)
        set(1, attempts != before.attempts, attempts)
        set(2, leaseUntil != before.leaseUntil, leaseUntil)
        set(3, nextAttemptAt != before.nextAttemptAt, nextAttemptAt)
        set(4, sendingAt != before.sendingAt, sendingAt)
        set(5, acceptedAt != before.acceptedAt, acceptedAt)
        set(6, deliveredAt != before.deliveredAt, deliveredAt)
        set(7, failedAt != before.failedAt, failedAt)
        set(8, expiredAt != before.expiredAt, expiredAt)
        set(9, supersededAt != before.supersededAt, supersededAt)
        set(10, lastStatus != before.lastStatus, lastStatus)
        set(11, lastError != before.lastError, lastError)
        set(12, playedAt != before.playedAt, playedAt)
        guard mask != 0 else { return }
        values.append(id)
        try db.cachedStatement(sql: Self.update(for: mask)).execute(arguments: StatementArguments(values))
    }
}
