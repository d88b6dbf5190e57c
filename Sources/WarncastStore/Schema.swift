import GRDB

/// The store's migrations. A migration that has landed is never edited; changes come as a
/// new one.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try createRegistries(db)
            try createWarnings(db)
            try createAuditLog(db)
        }
        migrator.registerMigration("v2") { db in
            try addApprovals(db)
        }
        migrator.registerMigration("v3") { db in
            try addDeliveries(db)
        }
        migrator.registerMigration("v4") { db in
            try addReceipts(db)
        }
        migrator.registerMigration("v5") { db in
            try addSeals(db)
        }
        migrator.registerMigration("v6") { db in
            try addDeliveryRegion(db)
        }
        migrator.registerMigration("v7") { db in
            try addSendersAndTokenExpiry(db)
        }
        migrator.registerMigration("v8") { db in
            // One row rewritten by every health check: a write that fails when the disk is full.
            try db.create(table: "health_probe") { t in
                t.primaryKey("id", .integer)
                t.column("at", .text).notNull()
            }
        }
        migrator.registerMigration("v9") { db in
            // Where planning a released warning's deliveries goes on from: the last recipient id
            // planned, or NULL once every recipient has been considered (issue: performance).
            try db.alter(table: "warning") { t in
                t.add(column: "planAfter", .text)
            }
            // The planner asks every second; only warnings being planned are in this index.
            try db.execute(sql: "CREATE INDEX warning_planning ON warning (releasedAt, id) WHERE planAfter IS NOT NULL")
        }
        migrator.registerMigration("v10") { db in
            try addTerminals(db)
        }
        migrator.registerMigration("v11") { db in
            // Console accounts (issue: the console). A session is a token that names its account.
            try db.create(table: "console_user") { t in
                t.primaryKey("username", .text)
                t.column("passwordHash", .text).notNull()
                t.column("name", .text).notNull()
                t.column("role", .text).notNull()
                t.column("departmentID", .text).references("department")
                t.column("region", .text).notNull()
                t.column("approvalRole", .text)
                t.column("createdAt", .text).notNull()
                t.column("removedAt", .text)
            }
            try db.alter(table: "token") { t in
                t.add(column: "consoleUser", .text)
            }
            try db.execute(sql: "CREATE INDEX token_console_user ON token (consoleUser) WHERE consoleUser IS NOT NULL")
        }
        migrator.registerMigration("v12") { db in
            // Where divisions lie, for the console's coverage picture (NULL where the registry
            // file has no coordinates).
            try db.alter(table: "region") { t in
                t.add(column: "longitude", .double)
                t.add(column: "latitude", .double)
            }
        }
        migrator.registerMigration("v13") { db in
            // The terminals in an area are counted per division from this index alone: with
            // `active` outside it, a provincial warning's blind-spot count read every one of a
            // million recipients' rows inside the releasing approval (1.4 s).
            try db.execute(sql: "CREATE INDEX recipient_channel_region_active ON recipient (channel, region, active)")
            try db.execute(sql: "DROP INDEX recipient_channel_region")
        }
        // Only an index is rebuilt: no foreign key can change, and checking them all would
        // read every delivery, attempt and receipt once more.
        migrator.registerMigration("v14", foreignKeyChecks: .immediate) { db in
            try orderReceiptsByDelivery(db)
        }
        migrator.registerMigration("v15", foreignKeyChecks: .immediate) { db in
            try expireByWarning(db)
        }
        // Resends are sealed from now on; deliveries resent before are sealed as they stand.
        migrator.registerMigration("v16", foreignKeyChecks: .immediate) { db in
            try Seals.sealReopened(in: db)
        }
        return migrator
    }

    /// Terminals' heartbeats and broadcast reports (issue: the last mile). A delivery a
    /// terminal reports having broadcast is `played`, with the time it ended; the report's
    /// start, end and times played are kept beside it. `terminal` holds the last heartbeat of
    /// each recipient that sends them.
    private static func addTerminals(_ db: Database) throws {
        try db.alter(table: "delivery") { t in
            t.add(column: "playedAt", .text)
        }
        try db.create(table: "playback") { t in
            t.primaryKey("deliveryID", .integer)
            t.column("startedAt", .text).notNull()
            t.column("endedAt", .text).notNull()
            t.column("timesPlayed", .integer).notNull()
            t.column("reportedAt", .text).notNull()
        }
        try db.create(table: "terminal") { t in
            t.primaryKey("recipientID", .text)
            t.column("status", .text).notNull()
            t.column("volume", .integer)
            t.column("lastPlayed", .text)
            t.column("version", .text)
            t.column("firstSeenAt", .text).notNull()
            t.column("lastSeenAt", .text).notNull()
        }
        // A dial-in terminal that connects finds what waits for it here; push deliveries
        // (nearly all of a large fan-out) are not in this index and cost it nothing.
        try db.execute(
            sql: "CREATE INDEX delivery_dial_in_waiting ON delivery (recipientID) WHERE state = 'queued' AND endpoint = 'dial-in'")
    }

    /// Each department's CAP sender addresses, and an optional expiry for every token
    /// (issue: hardening).
    private static func addSendersAndTokenExpiry(_ db: Database) throws {
        try db.alter(table: "department") { t in
            t.add(column: "senders", .text).notNull().defaults(to: "[]")
        }
        try db.alter(table: "token") { t in
            t.add(column: "expiresAt", .text)
        }
    }

    /// Each delivery keeps its recipient's region as planned, and one index answers the
    /// report, the timeline and the summary of a warning without touching the table: the
    /// per-tier report of 100,000 deliveries reads only index entries.
    private static func addDeliveryRegion(_ db: Database) throws {
        try db.alter(table: "delivery") { t in
            t.add(column: "region", .text)
        }
        try db.execute(sql: "UPDATE delivery SET region = (SELECT region FROM recipient r WHERE r.id = delivery.recipientID)")
        try db.execute(sql: "DROP INDEX delivery_warning_state")
        try db.create(
            index: "delivery_warning_receipts", on: "delivery", columns: ["warningID", "state", "deliveredAt", "region", "channel"])
    }

    /// The receipts index orders a warning's deliveries of one state and delivered time by
    /// their id before their region and channel (issue: fan-out performance). Region first
    /// put every planned delivery and every change of state at a random place of the index
    /// when recipients' ids do not follow their regions (a county's villages interleaved):
    /// in a model of the table (Python's sqlite3, the same SQLite) a million planned in
    /// 6.0–6.8 s and a lease and a result cost 40–46 µs a delivery; with the id first, 4.2–4.4 s
    /// and 27 µs, as fast as planning without the index at all. Region and channel stay in
    /// the index, which still answers the reports alone; they now follow the id (which
    /// decides the order by itself), and the roll-up counts its groups in any order.
    private static func orderReceiptsByDelivery(_ db: Database) throws {
        try db.execute(sql: "DROP INDEX delivery_warning_receipts")
        try db.create(
            index: "delivery_warning_receipts", on: "delivery",
            columns: ["warningID", "state", "deliveredAt", "id", "region", "channel"])
    }

    /// Deliveries expire with their warning, so the expiry sweep looks for expired warnings
    /// that still have deliveries to do (`warning.deliveriesOpen`, set when deliveries are
    /// planned or resent) and walks each one's receipts index, instead of keeping every open
    /// delivery in an index of its own: that index took an entry for each delivery planned
    /// and lost it again with the receipt, for a sweep that finds nothing nearly always.
    private static func expireByWarning(_ db: Database) throws {
        try db.alter(table: "warning") { t in
            t.add(column: "deliveriesOpen", .boolean).notNull().defaults(to: false)
        }
        try db.execute(
            sql: """
                UPDATE warning SET deliveriesOpen = 1
                WHERE EXISTS (SELECT 1 FROM delivery d WHERE d.warningID = warning.id AND d.state IN ('queued', 'sending'));
                DROP INDEX delivery_open_expiry;
                CREATE INDEX warning_deliveries_open ON warning (expiresAt) WHERE deliveriesOpen;
                """)
    }

    /// The receipts' hash chain (issue: roll-ups and the auditor's view).
    private static func addSeals(_ db: Database) throws {
        try db.create(table: "delivery_seal") { t in
            t.primaryKey("sequence", .integer)
            t.column("deliveryID", .integer).notNull()
            t.column("state", .text).notNull()
            t.column("at", .text).notNull()
            t.column("attempts", .integer).notNull()
            t.column("lastStatus", .integer)
            t.column("lastError", .text)
            t.column("previousHash", .text).notNull()
            t.column("hash", .text).notNull()
        }
        try db.execute(
            sql: """
                CREATE TRIGGER delivery_seal_no_update BEFORE UPDATE ON delivery_seal
                BEGIN SELECT RAISE(ABORT, 'receipt seals are append-only'); END;
                CREATE TRIGGER delivery_seal_no_delete BEFORE DELETE ON delivery_seal
                BEGIN SELECT RAISE(ABORT, 'receipt seals are append-only'); END;
                """)
        try Seals.sealExisting(in: db)
    }

    /// Delivery reports from gateways (SMS DLRs, carrier callbacks, acknowledgements), and
    /// the gateway's own id for each attempt (issue: SMS, email and cascade).
    private static func addReceipts(_ db: Database) throws {
        try db.alter(table: "attempt") { t in
            t.add(column: "reference", .text)
        }
        try db.create(table: "receipt") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("deliveryID", .integer).notNull().references("delivery", onDelete: .cascade)
            t.column("at", .text).notNull()
            // Who reported it: `kannel`, `carrier`, `smtp`, `ack` …
            t.column("source", .text).notNull()
            t.column("state", .text).notNull()
            t.column("detail", .text)
        }
        try db.create(index: "receipt_delivery", on: "receipt", columns: ["deliveryID"])
    }

    /// Recipients, one delivery per recipient and channel, and every attempt (issue: dispatch).
    private static func addDeliveries(_ db: Database) throws {
        try db.create(table: "recipient") { t in
            t.primaryKey("id", .text)
            t.column("channel", .text).notNull()
            t.column("region", .text).notNull()
            t.column("name", .text).notNull()
            t.column("address", .text).notNull()
            t.column("options", .text).notNull()
            t.column("secretHash", .text)
            t.column("active", .boolean).notNull().defaults(to: true)
        }
        try db.create(index: "recipient_channel_region", on: "recipient", columns: ["channel", "region"])
        try db.create(table: "delivery") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("warningID", .text).notNull().references("warning", onDelete: .cascade)
            t.column("recipientID", .text).notNull()
            t.column("channel", .text).notNull()
            t.column("idempotencyKey", .text).notNull().unique()
            t.column("endpoint", .text).notNull()
            t.column("state", .text).notNull()
            t.column("attempts", .integer).notNull().defaults(to: 0)
            t.column("nextAttemptAt", .text).notNull()
            t.column("leaseUntil", .text)
            t.column("expiresAt", .text)
            t.column("queuedAt", .text).notNull()
            t.column("sendingAt", .text)
            t.column("acceptedAt", .text)
            t.column("deliveredAt", .text)
            t.column("failedAt", .text)
            t.column("expiredAt", .text)
            t.column("supersededAt", .text)
            t.column("lastStatus", .integer)
            t.column("lastError", .text)
        }
        // Partial indexes: a delivered delivery leaves them, so they stay as small as the
        // work still to do and cost nothing to keep up for finished rows.
        try db.execute(
            sql: """
                CREATE INDEX delivery_due ON delivery (channel, nextAttemptAt) WHERE state = 'queued';
                CREATE INDEX delivery_leased ON delivery (channel, leaseUntil) WHERE state = 'sending';
                CREATE INDEX delivery_open_expiry ON delivery (expiresAt) WHERE state IN ('queued', 'sending');
                """)
        try db.create(index: "delivery_warning_state", on: "delivery", columns: ["warningID", "state"])
        try db.create(table: "attempt") { t in
            t.column("deliveryID", .integer).notNull().references("delivery", onDelete: .cascade)
            t.column("number", .integer).notNull()
            t.column("at", .text).notNull()
            t.column("httpStatus", .integer)
            t.column("error", .text)
            t.column("outcome", .text).notNull()
            t.column("milliseconds", .integer).notNull()
            t.primaryKey(["deliveryID", "number"])
        }
    }

    /// Approval plans, decisions, deadlines and escalations (issue: approval rules).
    private static func addApprovals(_ db: Database) throws {
        try db.alter(table: "token") { t in
            t.add(column: "approvalRole", .text)
        }
        try db.alter(table: "warning") { t in
            t.add(column: "submitterTokenID", .text)
            t.add(column: "plan", .text)
            t.add(column: "deadline", .text)
            t.add(column: "expiresAt", .text)
            // 1 while approvals (or the review of an immediate release) are outstanding.
            t.add(column: "awaiting", .boolean).notNull().defaults(to: false)
            t.add(column: "late", .boolean).notNull().defaults(to: false)
            t.add(column: "escalationCount", .integer).notNull().defaults(to: 0)
            t.add(column: "lastEscalatedAt", .text)
            t.add(column: "releasedAt", .text)
            t.add(column: "decidedAt", .text)
        }
        try db.create(index: "warning_awaiting_deadline", on: "warning", columns: ["awaiting", "deadline"])
        try db.create(index: "warning_status_expiresAt", on: "warning", columns: ["status", "expiresAt"])
        try db.create(index: "audit_subject", on: "audit", columns: ["subject"])
        try db.create(table: "approval") { t in
            t.column("warningID", .text).notNull().references("warning", onDelete: .cascade)
            t.column("tokenID", .text).notNull()
            t.column("name", .text).notNull()
            t.column("role", .text).notNull()
            t.column("requirement", .integer)
            t.column("decision", .text).notNull()
            t.column("reason", .text)
            t.column("at", .text).notNull()
            t.primaryKey(["warningID", "tokenID"])
        }
        try db.create(table: "escalation") { t in
            t.column("warningID", .text).notNull().references("warning", onDelete: .cascade)
            t.column("number", .integer).notNull()
            t.column("at", .text).notNull()
            t.column("contacts", .text).notNull()
            t.primaryKey(["warningID", "number"])
        }
    }

    private static func createRegistries(_ db: Database) throws {
        try db.create(table: "region") { t in
            t.primaryKey("code", .text)
            t.column("name", .text).notNull()
            t.column("parent", .text)
            t.column("tier", .text).notNull()
        }
        try db.create(table: "department") { t in
            t.primaryKey("id", .text)
            t.column("name", .text).notNull()
            t.column("kind", .text).notNull()
            t.column("region", .text).notNull()
            t.column("events", .text).notNull()
        }
        try db.create(table: "token") { t in
            t.primaryKey("id", .text)
            t.column("secretHash", .text).notNull().unique()
            t.column("name", .text).notNull()
            t.column("role", .text).notNull()
            t.column("departmentID", .text).references("department", onDelete: .restrict)
            t.column("region", .text).notNull()
            t.column("createdAt", .text).notNull()
            t.column("revokedAt", .text)
        }
    }

    private static func createWarnings(_ db: Database) throws {
        try db.create(table: "warning") { t in
            t.primaryKey("id", .text)
            t.column("status", .text).notNull()
            t.column("identifier", .text).notNull()
            t.column("sender", .text).notNull()
            t.column("level", .text).notNull()
            t.column("departmentID", .text).notNull().references("department", onDelete: .restrict)
            t.column("receivedAt", .text).notNull()
            t.column("fingerprint", .text).notNull()
            t.column("document", .text).notNull()
            t.column("raw", .blob).notNull()
            t.column("format", .text).notNull()
            t.uniqueKey(["sender", "identifier"])
        }
        try db.create(index: "warning_receivedAt", on: "warning", columns: ["receivedAt"])
        try db.create(table: "warningArea") { t in
            t.column("warningID", .text).notNull().references("warning", onDelete: .cascade)
            t.column("code", .text).notNull()
            // The digits every code inside this area starts with, for containment queries.
            t.column("prefix", .text).notNull()
            t.primaryKey(["warningID", "code"])
        }
        try db.create(index: "warningArea_code", on: "warningArea", columns: ["code"])
    }

    private static func createAuditLog(_ db: Database) throws {
        try db.create(table: "audit") { t in
            t.primaryKey("sequence", .integer)
            t.column("at", .text).notNull()
            t.column("actor", .text).notNull()
            t.column("action", .text).notNull()
            t.column("subject", .text).notNull()
            t.column("detail", .text).notNull()
            t.column("previousHash", .text).notNull()
            t.column("hash", .text).notNull()
        }
        // Append-only: the store itself can never rewrite history. Someone with the file can
        // still drop these triggers, which is what the hash chain is there to reveal.
        try db.execute(
            sql: """
                CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
                BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
                BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                """)
    }
}
