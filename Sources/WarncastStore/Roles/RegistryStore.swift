import Foundation
import WarncastCore

/// The registries: regions, departments, access tokens and recipients.
public protocol RegistryStore: Sendable {
    func importRegions(_ regions: [Region], audit: AuditEvent) async throws -> Int
    func region(_ code: RegionCode) async throws -> Region?
    func regionCount() async throws -> Int
    /// Divisions within `scope` (itself included) whose code starts with `text` or whose name
    /// contains it, the higher tiers first.
    func regions(matching text: String, within scope: RegionCode, limit: Int) async throws -> [Region]
    /// The divisions with these codes that exist, in the same order.
    func regions(codes: [RegionCode]) async throws -> [Region]

    func saveDepartments(_ departments: [Department], audit: AuditEvent) async throws
    func department(id: String) async throws -> Department?
    func departments() async throws -> [Department]

    func createToken(_ grant: TokenGrant, secretHash: String, audit: AuditEvent) async throws
    func revokeToken(id: String, audit: AuditEvent) async throws -> Bool
    func tokens() async throws -> [TokenGrant]
    /// The principal whose live token (not revoked, not expired at `at`) hashes to `secretHash`.
    func principal(secretHash: String, at: Date) async throws -> Principal?

    /// Adds or replaces recipients; `secretHash` is the SHA-256 of the secret a recipient
    /// acknowledges with, if any. With a `scope`, a recipient that exists already must lie
    /// within it (else `StoreError.recipientOutOfScope`, and nothing is saved), and each one
    /// changed is audited with what it was and what it became.
    func saveRecipients(
        _ recipients: [(recipient: Recipient, secretHash: String?)], within scope: RegionCode?, audit: AuditEvent
    ) async throws
    /// Saves every recipient of a checked staging file (`RecipientStaging`) in one short
    /// transaction, with the audit event; returns how many. With `revive`, a recipient
    /// removed earlier and listed again is active again; without (the configured file at
    /// every start), it stays removed.
    func importRecipients(staged: RecipientStaging, revive: Bool, audit: AuditEvent) async throws -> Int
    /// Active recipients (removed ones are left out), by id.
    func recipients(channel: String?, within region: RegionCode?, limit: Int) async throws -> [Recipient]
    /// The active recipient with this id (nil for a removed one).
    func recipient(id: String) async throws -> Recipient?
    /// How many active recipients there are.
    func recipientCount() async throws -> Int
    /// Takes an active recipient out of every later warning's plan, audited; its deliveries
    /// so far stay on record, and saving it again brings it back. False when there is no
    /// active recipient with this id; `StoreError.recipientOutOfScope` when it lies outside
    /// `scope`.
    func removeRecipient(id: String, within scope: RegionCode?, audit: AuditEvent) async throws -> Bool

    /// Adds a console account, or replaces one (a new password, a new grant), ending the
    /// sessions opened under what it replaces.
    func saveConsoleUser(_ user: ConsoleUser, passwordHash: String, audit: AuditEvent) async throws
    /// The account that may sign in as `username`, with its password hash.
    func consoleUser(username: String) async throws -> (user: ConsoleUser, passwordHash: String)?
    func consoleUsers() async throws -> [ConsoleUser]
    /// Removes an account and ends its sessions; false when there is none.
    func removeConsoleUser(username: String, audit: AuditEvent) async throws -> Bool
    /// Opens a console session: a token of `grant` that belongs to `username`.
    func openSession(for username: String, grant: TokenGrant, secretHash: String, audit: AuditEvent) async throws
    /// The live console session (not revoked, not expired at `at`) whose secret hashes to
    /// `secretHash`: its token's grant and its account.
    func consoleSession(secretHash: String, at: Date) async throws -> (grant: TokenGrant, username: String)?
}

/// A token as the store lists it: everything except the secret.
public struct TokenGrant: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var role: Role
    public var departmentID: String?
    public var region: RegionCode
    public var createdAt: Timestamp
    public var revokedAt: Timestamp?
    /// For approvers: the approval role, e.g. `duty-leader`.
    public var approvalRole: String?
    /// After this moment the token is refused as if revoked; nil: it does not expire.
    public var expiresAt: Timestamp?

    public init(
        id: String, name: String, role: Role, departmentID: String?, region: RegionCode,
        createdAt: Timestamp, revokedAt: Timestamp? = nil, approvalRole: String? = nil, expiresAt: Timestamp? = nil
    ) {
        self.expiresAt = expiresAt
        self.approvalRole = approvalRole
        self.id = id
        self.name = name
        self.role = role
        self.departmentID = departmentID
        self.region = region
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

extension RegistryStore {
    /// Adds or replaces recipients without a scope: the registry import at start-up and the CLI.
    public func saveRecipients(_ recipients: [(recipient: Recipient, secretHash: String?)], audit: AuditEvent) async throws {
        try await saveRecipients(recipients, within: nil, audit: audit)
    }
}
