import Foundation
import GRDB
import WarncastCore

/// A row of `department`; event codes are kept as a JSON array.
struct DepartmentRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "department"
    var id: String
    var name: String
    var kind: String
    var region: String
    var events: String
    /// JSON list of CAP sender addresses (migration v7).
    var senders: String

    init(_ department: Department) {
        senders = String(decoding: (try? JSONEncoder().encode(department.senders)) ?? Data("[]".utf8), as: UTF8.self)
        id = department.id
        name = department.name
        kind = department.kind
        region = department.region.rawValue
        events = String(decoding: (try? JSONEncoder().encode(department.events)) ?? Data("[]".utf8), as: UTF8.self)
    }

    var department: Department? {
        guard let code = RegionCode(region),
            let list = try? JSONDecoder().decode([String].self, from: Data(events.utf8))
        else { return nil }
        let senders = (try? JSONDecoder().decode([String].self, from: Data(senders.utf8))) ?? []
        return Department(id: id, name: name, kind: kind, region: code, events: list, senders: senders)
    }
}

/// A row of `token`: the grant plus the SHA-256 of its secret.
struct TokenRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "token"
    var id: String
    var secretHash: String
    var name: String
    var role: String
    var departmentID: String?
    var region: String
    var createdAt: Timestamp
    var revokedAt: Timestamp?
    var approvalRole: String?
    var expiresAt: Timestamp?

    init(_ grant: TokenGrant, secretHash: String) {
        expiresAt = grant.expiresAt
        id = grant.id
        self.secretHash = secretHash
        name = grant.name
        role = grant.role.rawValue
        departmentID = grant.departmentID
        region = grant.region.rawValue
        createdAt = grant.createdAt
        revokedAt = grant.revokedAt
        approvalRole = grant.approvalRole
    }

    var grant: TokenGrant? {
        guard let role = Role(rawValue: role), let code = RegionCode(region) else { return nil }
        return TokenGrant(
            id: id, name: name, role: role, departmentID: departmentID, region: code,
            createdAt: createdAt, revokedAt: revokedAt, approvalRole: approvalRole, expiresAt: expiresAt)
    }
}

/// A row of `warning`. The normalised `Warning` is kept whole as JSON in `document`, with the
/// columns the store searches on beside it and the raw message in `raw`.
struct WarningRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "warning"
    var id: String
    var status: String
    var identifier: String
    var sender: String
    var level: String
    var departmentID: String
    var receivedAt: Timestamp
    var fingerprint: String
    var document: String
    var raw: Data
    var format: String
    var submitterTokenID: String?
    var plan: String?
    var deadline: Timestamp?
    var expiresAt: Timestamp?
    var awaiting: Bool
    var late: Bool
    var escalationCount: Int
    var lastEscalatedAt: Timestamp?
    var releasedAt: Timestamp?
    var decidedAt: Timestamp?

    init(_ warning: Warning, raw: Data, plan: ApprovalPlan) throws {
        id = warning.id.rawValue
        status = warning.status.rawValue
        identifier = warning.identifier
        sender = warning.sender
        level = warning.level.rawValue
        departmentID = warning.department
        receivedAt = warning.receivedAt
        fingerprint = warning.fingerprint
        document = String(decoding: try JSONEncoder().encode(warning), as: UTF8.self)
        self.raw = raw
        format = warning.format.rawValue
        submitterTokenID = warning.submitterTokenID
        self.plan = String(decoding: try JSONEncoder().encode(plan), as: UTF8.self)
        deadline = plan.deadline.map(Timestamp.init)
        expiresAt = warning.expires
        // A plan that asks for nothing (handed down pre-approved) awaits nobody.
        awaiting = !plan.requirements.isEmpty
        late = false
        escalationCount = 0
        releasedAt = warning.status == .released ? warning.receivedAt : nil
    }

    /// The warning a CAP sender sent under `identifier`; the pair is unique.
    static func find(sender: String, identifier: String, _ db: Database) throws -> WarningRecord? {
        try fetchOne(db.cachedStatement(sql: "SELECT * FROM warning WHERE sender = ? AND identifier = ?"), arguments: [sender, identifier])
    }

    /// The warning `id`, through a statement prepared once per connection.
    static func find(id: String, _ db: Database) throws -> WarningRecord? {
        try fetchOne(db.cachedStatement(sql: "SELECT * FROM warning WHERE id = ?"), arguments: [id])
    }

    var approvalPlan: ApprovalPlan? {
        plan.flatMap { try? JSONDecoder().decode(ApprovalPlan.self, from: Data($0.utf8)) }
    }

    /// The warning with its current status and, given its decisions, its approval state.
    func warning(approvals: [Approval]? = nil) throws -> Warning {
        var warning = try JSONDecoder().decode(Warning.self, from: Data(document.utf8))
        // The columns are the authority; the document holds the fields fixed at intake.
        if let current = WarningStatus(rawValue: status) { warning.status = current }
        if let approvals, let plan = approvalPlan {
            warning.approval = ApprovalState(
                plan: plan, approvals: approvals, awaiting: awaiting, late: late, escalations: escalationCount,
                lastEscalatedAt: lastEscalatedAt, releasedAt: releasedAt, decidedAt: decidedAt)
        }
        return warning
    }

    /// The SQL for a listing, newest first.
    static func request(for query: WarningQuery) -> SQLRequest<WarningRecord> {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        if query.awaitingOnly {
            clauses.append("awaiting = 1")
        }
        func overlapping(_ code: RegionCode) {
            clauses.append(
                """
                EXISTS (SELECT 1 FROM warningArea a WHERE a.warningID = warning.id
                  AND (a.code LIKE ? OR ? LIKE a.prefix || '%'))
                """)
            _ = arguments.append(contentsOf: [String(code.prefix) + "%", code.rawValue])
        }
        overlapping(query.visibleTo)
        if let region = query.region { overlapping(region) }
        if let status = query.status {
            clauses.append("status = ?")
            _ = arguments.append(contentsOf: [status.rawValue])
        }
        if let level = query.level {
            clauses.append("level = ?")
            _ = arguments.append(contentsOf: [level.rawValue])
        }
        if let since = query.since {
            clauses.append("receivedAt >= ?")
            _ = arguments.append(contentsOf: [Timestamp.string(since)])
        }
        if let until = query.until {
            clauses.append("receivedAt < ?")
            _ = arguments.append(contentsOf: [Timestamp.string(until)])
        }
        if let department = query.department {
            clauses.append("departmentID = ?")
            _ = arguments.append(contentsOf: [department])
        }
        if query.lateOnly {
            clauses.append("late = 1")
        }
        _ = arguments.append(contentsOf: [query.limit])
        let sql =
            "SELECT * FROM warning WHERE " + clauses.joined(separator: " AND ")
            + " ORDER BY receivedAt DESC, id LIMIT ?"
        return SQLRequest(sql: sql, arguments: arguments)
    }
}

/// A row of `approval`: one approver's decision on one warning.
struct ApprovalRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "approval"
    var warningID: String
    var tokenID: String
    var name: String
    var role: String
    var requirement: Int?
    var decision: String
    var reason: String?
    var at: String

    init(_ approval: Approval, warningID: String) {
        self.warningID = warningID
        tokenID = approval.tokenID
        name = approval.name
        role = approval.role
        requirement = approval.requirement
        decision = approval.decision.rawValue
        reason = approval.reason
        at = approval.at
    }

    var approval: Approval {
        Approval(
            tokenID: tokenID, name: name, role: role, requirement: requirement,
            decision: Approval.Decision(rawValue: decision) ?? .reject, reason: reason, at: at)
    }

    static func all(for warningID: String, _ db: Database) throws -> [Approval] {
        try ApprovalRecord.filter(Column("warningID") == warningID).order(Column("at")).fetchAll(db).map(\.approval)
    }
}

/// A row of `recipient`; options as `key=value;key=value` (as in the CSV, and quick to read
/// for every leased delivery), the acknowledgement secret as its SHA-256.
struct RecipientRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "recipient"
    var id: String
    var channel: String
    var region: String
    var name: String
    var address: String
    var options: String
    var secretHash: String?
    var active: Bool

    init(_ recipient: Recipient, secretHash: String?) {
        id = recipient.id
        channel = recipient.channel
        region = recipient.region.rawValue
        name = recipient.name
        address = recipient.address
        options = recipient.options.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ";")
        self.secretHash = secretHash
        active = true
    }

    init(
        id: String, channel: String, region: String, name: String, address: String, options: String, secretHash: String?, active: Bool
    ) {
        self.id = id
        self.channel = channel
        self.region = region
        self.name = name
        self.address = address
        self.options = options
        self.secretHash = secretHash
        self.active = active
    }

    /// What changes if this recipient becomes `new`: each changed field as `field` (before)
    /// and `field.new` (after); a changed secret is noted, never shown. Nil if nothing changes.
    func change(to new: RecipientRecord) -> [String: String]? {
        var detail: [String: String] = [:]
        for (field, old, now) in [
            ("channel", channel, new.channel), ("region", region, new.region), ("name", name, new.name),
            ("address", address, new.address), ("options", options, new.options),
        ] where old != now {
            detail[field] = old
            detail[field + ".new"] = now
        }
        if secretHash != new.secretHash { detail["secret"] = "replaced" }
        // One removed and added again is back in planning.
        if active != new.active {
            detail["active"] = active ? "yes" : "no"
            detail["active.new"] = new.active ? "yes" : "no"
        }
        return detail.isEmpty ? nil : detail
    }

    var recipient: Recipient? {
        guard let code = RegionCode(region) else { return nil }
        return Recipient(id: id, channel: channel, region: code, name: name, address: address, options: Self.parseOptions(options))
    }

    /// `key=value;key=value` to a dictionary.
    static func parseOptions(_ text: String) -> [String: String] {
        var parsed: [String: String] = [:]
        for pair in text.split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { parsed[String(parts[0])] = String(parts[1]) }
        }
        return parsed
    }
}
