import Foundation
import GRDB
import WarncastCore

extension DeliveryRecord {
    /// The columns `init(row:)` reads, in this order, first in the row; every lease and every
    /// result reads them, so they are read by position rather than by name.
    static let columns = """
        id, state, attempts, leaseUntil, nextAttemptAt, expiresAt, sendingAt, acceptedAt, deliveredAt, failedAt,
        expiredAt, supersededAt, lastStatus, lastError
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
            failedAt: row[9], expiredAt: row[10], supersededAt: row[11], lastStatus: row[12], lastError: row[13])
    }

    /// Persists the record as the lifecycle left it, writing only the columns that changed
    /// from `before` (an index is only touched when a column of it is written); the store
    /// decides nothing here.
    func write(in db: Database, from before: DeliveryRecord) throws {
        var assignments: [String] = []
        var values: [(any DatabaseValueConvertible)?] = []
        func set<Value: Equatable & DatabaseValueConvertible>(_ column: String, _ new: Value?, _ old: Value?) {
            guard new != old else { return }
            assignments.append("\(column) = ?")
            values.append(new)
        }
        set("state", state.rawValue, before.state.rawValue)
        set("attempts", attempts, before.attempts)
        set("leaseUntil", leaseUntil, before.leaseUntil)
        set("nextAttemptAt", nextAttemptAt, before.nextAttemptAt)
        set("sendingAt", sendingAt, before.sendingAt)
        set("acceptedAt", acceptedAt, before.acceptedAt)
        set("deliveredAt", deliveredAt, before.deliveredAt)
        set("failedAt", failedAt, before.failedAt)
        set("expiredAt", expiredAt, before.expiredAt)
        set("supersededAt", supersededAt, before.supersededAt)
        set("lastStatus", lastStatus, before.lastStatus)
        set("lastError", lastError, before.lastError)
        guard !assignments.isEmpty else { return }
        values.append(id)
        try db.cachedStatement(sql: "UPDATE delivery SET \(assignments.joined(separator: ", ")) WHERE id = ?")
            .execute(arguments: StatementArguments(values))
    }
}
