import Foundation
import WarncastCore

/// Loads the region and department registries from their CSV files into a store.
public struct RegistryImporter: Sendable {
    public let store: any Store
    public let actor: AuditActor
    /// How recipients' secrets are kept; without it, as plain SHA-256 (tests, old nodes).
    public let secrets: RecipientSecrets?

    public init(store: any Store, actor: AuditActor, secrets: RecipientSecrets? = nil) {
        self.store = store
        self.actor = actor
        self.secrets = secrets
    }

    /// A registry file with bad rows; nothing from it was imported.
    public struct FileError: Error, Sendable, CustomStringConvertible {
        public var file: String
        public var rows: [RegionCSV.RowError]

        public var description: String {
            let shown = rows.prefix(20).map { "  \(file):\($0.line): \($0.reason)" }
            let more = rows.count > 20 ? ["  … and \(rows.count - 20) more"] : []
            return (["\(file): \(rows.count) bad row(s)"] + shown + more).joined(separator: "\n")
        }
    }

    /// Imports every region of `file` (within `within`, if given). All or nothing.
    @discardableResult
    public func importRegions(file: String, within: RegionCode?) async throws -> Int {
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let parsed = RegionCSV.parse(text, within: within)
        guard parsed.errors.isEmpty else { throw FileError(file: file, rows: parsed.errors) }
        var detail = ["file": file, "count": String(parsed.regions.count)]
        detail["within"] = within?.rawValue
        return try await store.importRegions(
            parsed.regions, audit: AuditEvent(actor: actor, action: .regionsImported, subject: file, detail: detail))
    }

    /// Imports every department of `file`. All or nothing.
    @discardableResult
    public func importDepartments(file: String, catalogue: EventCatalogue) async throws -> Int {
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let parsed = DepartmentCSV.parse(text, catalogue: catalogue)
        guard parsed.errors.isEmpty else { throw FileError(file: file, rows: parsed.errors) }
        try await store.saveDepartments(
            parsed.departments,
            audit: AuditEvent(
                actor: actor, action: .departmentsImported, subject: file,
                detail: ["file": file, "ids": parsed.departments.map(\.id).joined(separator: " ")]))
        return parsed.departments.count
    }

    /// Imports every recipient of `file`, secrets stored as hashes. All or nothing.
    @discardableResult
    public func importRecipients(file: String, channels: Set<String>) async throws -> Int {
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let parsed = RecipientCSV.parse(text, channels: channels)
        guard parsed.errors.isEmpty else { throw FileError(file: file, rows: parsed.errors) }
        try await store.saveRecipients(
            parsed.rows.map { ($0.recipient, $0.secret.map { secrets?.hash($0) ?? AccessToken.hash($0) }) },
            audit: AuditEvent(
                actor: actor, action: .recipientsImported, subject: file,
                detail: ["file": file, "count": String(parsed.rows.count)]))
        return parsed.rows.count
    }
}
