import Foundation
import GRDB
import WarncastCore

/// The receipts' own hash chain. Whenever a delivery reaches a final state (delivered,
/// failed, expired, superseded) its receipt — state, the time of that state, attempts, last
/// status and error — is appended to `delivery_seal`, chained like the audit log and just
/// as append-only. A resend that queues a finished delivery again seals that too. `verify`
/// walks the chain and checks that every finished delivery still reads as its last seal
/// says, and that every delivery last sealed finished still is: a receipt changed, reopened
/// or removed in the database file is found.
enum Seals {
    static let finalStates: Set<String> = ["delivered", "played", "failed", "expired", "superseded"]

    /// The fields of a receipt that are sealed, read from `delivery`.
    static let receiptSQL = """
        SELECT id, state, attempts, lastStatus, lastError,
          coalesce(CASE state WHEN 'delivered' THEN deliveredAt WHEN 'played' THEN playedAt WHEN 'failed' THEN failedAt
                              WHEN 'expired' THEN expiredAt WHEN 'superseded' THEN supersededAt END, '') AS finalAt
        FROM delivery
        """

    struct Receipt: Equatable {
        var deliveryID: Int64
        var state: String
        var at: String
        var attempts: Int
        var lastStatus: Int?
        var lastError: String?

        init(row: Row) {
            deliveryID = row["id"]
            state = row["state"]
            at = row["finalAt"]
            attempts = row["attempts"]
            lastStatus = row["lastStatus"]
            lastError = row["lastError"]
        }

        /// The receipt of a delivery as the lifecycle has just left it.
        init(_ record: DeliveryRecord) {
            let sealed = record.sealedFields
            deliveryID = record.id
            state = sealed.state.rawValue
            at = sealed.at?.text ?? ""
            attempts = sealed.attempts
            lastStatus = sealed.lastStatus
            lastError = sealed.lastError
        }

        init(sealRow row: Row) {
            deliveryID = row["deliveryID"]
            state = row["state"]
            at = row["at"]
            attempts = row["attempts"]
            lastStatus = row["lastStatus"]
            lastError = row["lastError"]
        }

        /// Each field that differs from `sealed`, as `field: now … (sealed …)`.
        func differences(from sealed: Receipt) -> String {
            var fields: [String] = []
            func compare(_ name: String, _ now: String?, _ then: String?) {
                if now != then { fields.append("\(name) reads \(now ?? "nothing") but was sealed \(then ?? "nothing")") }
            }
            compare("state", state, sealed.state)
            compare("time", at, sealed.at)
            compare("attempts", String(attempts), String(sealed.attempts))
            compare("lastStatus", lastStatus.map(String.init), sealed.lastStatus.map(String.init))
            compare("lastError", lastError, sealed.lastError)
            return fields.joined(separator: "; ")
        }

        func hash(sequence: Int64, previous: String) -> String {
            FieldHash.sha256([
                previous, String(sequence), String(deliveryID), state, at, String(attempts), lastStatus.map(String.init), lastError,
            ])
        }
    }

    static func append(_ receipts: [Receipt], in db: Database) throws {
        guard !receipts.isEmpty else { return }
        let last = try Row.fetchOne(db, sql: "SELECT sequence, hash FROM delivery_seal ORDER BY sequence DESC LIMIT 1")
        var sequence: Int64 = last?["sequence"] ?? 0
        var previous: String = last?["hash"] ?? AuditEntry.genesisHash
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO delivery_seal (sequence, deliveryID, state, at, attempts, lastStatus, lastError, previousHash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        for receipt in receipts {
            sequence += 1
            let hash = receipt.hash(sequence: sequence, previous: previous)
            try insert.execute(arguments: [
                sequence, receipt.deliveryID, receipt.state, receipt.at, receipt.attempts, receipt.lastStatus, receipt.lastError,
                previous, hash,
            ])
            previous = hash
        }
    }

    /// Walks the seal chain, then checks each finished delivery against its last seal.
    static func verify(in db: Database) throws -> SealVerification {
        var previous = AuditEntry.genesisHash
        var count: Int64 = 0
        var latest: [Int64: Receipt] = [:]
        let seals = try Row.fetchCursor(db, sql: "SELECT * FROM delivery_seal ORDER BY sequence")
        while let row = try seals.next() {
            count += 1
            let sequence: Int64 = row["sequence"]
            let receipt = Receipt(sealRow: row)
            guard sequence == count else { return .broken(delivery: receipt.deliveryID, reason: "seal \(count) is missing") }
            guard row["previousHash"] == previous else {
                return .broken(delivery: receipt.deliveryID, reason: "seal \(sequence) does not follow the seal before it")
            }
            let hash: String = row["hash"]
            guard receipt.hash(sequence: sequence, previous: previous) == hash else {
                return .broken(delivery: receipt.deliveryID, reason: "seal \(sequence) does not match its hash: it was edited")
            }
            latest[receipt.deliveryID] = receipt
            previous = hash
        }
        let current = try Row.fetchCursor(
            db, sql: receiptSQL + " WHERE state IN ('delivered', 'played', 'failed', 'expired', 'superseded') ORDER BY id")
        var finished: Int64 = 0
        var finishedIDs: Set<Int64> = []
        while let row = try current.next() {
            finished += 1
            let receipt = Receipt(row: row)
            finishedIDs.insert(receipt.deliveryID)
            guard let sealed = latest[receipt.deliveryID] else {
                return .broken(delivery: receipt.deliveryID, reason: "it reads \(receipt.state) but was never sealed so")
            }
            guard sealed == receipt else {
                return .broken(delivery: receipt.deliveryID, reason: "it differs from its seal: " + receipt.differences(from: sealed))
            }
        }
        // Sealed finished, and no seal since: still finished, and still there.
        let reopened = latest.filter { finalStates.contains($0.value.state) && !finishedIDs.contains($0.key) }.keys.sorted()
        if let id = reopened.first, let sealed = latest[id] {
            let state = try String.fetchOne(db, sql: "SELECT state FROM delivery WHERE id = ?", arguments: [id])
            return .broken(
                delivery: id,
                reason: state.map { "it reads \($0) but was sealed \(sealed.state), with no seal since" }
                    ?? "it was sealed \(sealed.state) but is gone from the store")
        }
        return .intact(seals: count, deliveries: finished, lastHash: previous)
    }

    /// Seals the deliveries a resend queued again before resends were sealed (migration
    /// v16): their last seal says finished, and they are not.
    static func sealReopened(in db: Database) throws {
        let rows = try Row.fetchAll(
            db,
            sql: receiptSQL
                + " WHERE state NOT IN ('delivered', 'played', 'failed', 'expired', 'superseded')"
                + " AND id IN (SELECT deliveryID FROM delivery_seal) ORDER BY id")
        try append(rows.map(Receipt.init(row:)), in: db)
    }

    /// Seals every delivery already final when the seals were introduced (migration v5).
    /// The schema then had no `playedAt` (v10), and nothing was played.
    static func sealExisting(in db: Database) throws {
        let before = receiptSQL.replacingOccurrences(of: "WHEN 'played' THEN playedAt ", with: "")
        let rows = try Row.fetchAll(db, sql: before + " WHERE state IN ('delivered', 'failed', 'expired', 'superseded') ORDER BY id")
        try append(rows.map(Receipt.init(row:)), in: db)
    }
}

/// What `verify` found in the receipts' chain.
public enum SealVerification: Sendable, Equatable {
    case intact(seals: Int64, deliveries: Int64, lastHash: String)
    case broken(delivery: Int64, reason: String)
}
