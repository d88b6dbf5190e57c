import GRDB
import WarncastCore

extension DeliveryRecord {
    /// The columns `init(row:)` reads and `write(in:)` writes.
    static let columns = """
        id, state, attempts, leaseUntil, nextAttemptAt, expiresAt, sendingAt, acceptedAt, deliveredAt, failedAt,
        expiredAt, supersededAt, lastStatus, lastError
        """

    init(row: Row) {
        self.init(
            id: row["id"], state: DeliveryState(rawValue: row["state"]) ?? .queued, attempts: row["attempts"],
            leaseUntil: row["leaseUntil"], nextAttemptAt: row["nextAttemptAt"], expiresAt: row["expiresAt"],
            sendingAt: row["sendingAt"], acceptedAt: row["acceptedAt"], deliveredAt: row["deliveredAt"],
            failedAt: row["failedAt"], expiredAt: row["expiredAt"], supersededAt: row["supersededAt"],
            lastStatus: row["lastStatus"], lastError: row["lastError"])
    }

    /// Persists the record as the lifecycle left it; the store decides nothing here.
    func write(in db: Database) throws {
        try db.cachedStatement(
            sql: """
                UPDATE delivery SET state = ?, attempts = ?, leaseUntil = ?, nextAttemptAt = ?, sendingAt = ?, acceptedAt = ?,
                  deliveredAt = ?, failedAt = ?, expiredAt = ?, supersededAt = ?, lastStatus = ?, lastError = ?
                WHERE id = ?
                """
        ).execute(arguments: [
            state.rawValue, attempts, leaseUntil, nextAttemptAt, sendingAt, acceptedAt, deliveredAt, failedAt, expiredAt,
            supersededAt, lastStatus, lastError, id,
        ])
    }
}
