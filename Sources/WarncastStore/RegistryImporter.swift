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
        /// How many rows were bad, when more than `rows` holds.
        public var rejected: Int

        public init(file: String, rows: [RegionCSV.RowError], rejected: Int? = nil) {
            self.file = file
            self.rows = rows
            self.rejected = rejected ?? rows.count
        }

        public var description: String {
            let shown = rows.prefix(20).map { "  \(file):\($0.line): \($0.reason)" }
            let more = rejected > 20 ? ["  … and \(rejected - 20) more"] : []
            return (["\(file): \(rejected) bad row(s); nothing was imported"] + shown + more).joined(separator: "\n")
        }
    }

    /// Imports every region of `file` (within `within`, if given). All or nothing.
    @discardableResult
    public func importRegions(file: String, within: RegionCode?) async throws -> Int {
        let text = try TextFile.utf8(file)
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
        let text = try TextFile.utf8(file)
        let parsed = DepartmentCSV.parse(text, catalogue: catalogue)
        guard parsed.errors.isEmpty else { throw FileError(file: file, rows: parsed.errors) }
        try await store.saveDepartments(
            parsed.departments,
            audit: AuditEvent(
                actor: actor, action: .departmentsImported, subject: file,
                detail: ["file": file, "ids": parsed.departments.map(\.id).joined(separator: " ")]))
        return parsed.departments.count
    }

    /// How an import is going, for a progress line.
    public struct Progress: Sendable {
        public var rows: Int
        public var rejected: Int
        public var bytes: Int
        public var seconds: Double
        public var finished: Bool

        public var rowsPerSecond: Double { seconds > 0 ? Double(rows) / seconds : 0 }
    }

    /// Imports every recipient of `file`, secrets stored as hashes. All or nothing: one bad
    /// row (or an id given twice) and nothing is saved, and every bad row is reported (the
    /// first 1000 of them in full). The file is read as it is saved, a buffer at a time, so
    /// a million rows need no more memory than a thousand. `progress` hears at most four
    /// times a second, and once at the end.
    @discardableResult
    public func importRecipients(
        file: String, channels: Set<String>, progress: (@Sendable (Progress) -> Void)? = nil
    ) async throws -> Int {
        let rows = CSVRecipientRows(
            reader: try LineReader(file: file), channels: channels, hash: { [secrets] in secrets?.hash($0) ?? AccessToken.hash($0) },
            progress: progress)
        let actor = actor
        return try await store.importRecipients(rows) { count in
            AuditEvent(actor: actor, action: .recipientsImported, subject: file, detail: ["file": file, "count": String(count)])
        }
    }
}

/// The rows of a recipients CSV as the store saves them: parsed one line at a time, bad rows
/// counted and kept (the first 1000) for the refusal at the end.
final class CSVRecipientRows: RecipientRows, @unchecked Sendable {
    private let reader: LineReader
    private let channels: Set<String>
    private let hash: @Sendable (String) -> String
    private let progress: (@Sendable (RegistryImporter.Progress) -> Void)?
    private var errors: [RegionCSV.RowError] = []
    private var rejected = 0
    private var rows = 0
    private let started = Date()
    private var told = Date.distantPast

    init(
        reader: LineReader, channels: Set<String>, hash: @escaping @Sendable (String) -> String,
        progress: (@Sendable (RegistryImporter.Progress) -> Void)?
    ) {
        self.reader = reader
        self.channels = channels
        self.hash = hash
        self.progress = progress
    }

    func next() throws -> (recipient: Recipient, secretHash: String?)? {
        while let line = try reader.next() {
            let row = line.trimmingCharacters(in: .whitespaces)
            if row.isEmpty || row.hasPrefix("#") || (reader.line == 1 && row.hasPrefix("id,")) { continue }
            tell()
            switch RecipientCSV.parseRow(row, channels: channels) {
            case .success(let parsed):
                rows += 1
                return (parsed.recipient, parsed.secret.map(hash))
            case .failure(let failure):
                reject(failure.reason)
            }
        }
        return nil
    }

    func duplicate(id: String) {
        rows -= 1
        reject("duplicate id \(id)")
    }

    func finish() throws {
        tell(finished: true)
        guard rejected == 0 else { throw RegistryImporter.FileError(file: reader.file, rows: errors, rejected: rejected) }
    }

    private func reject(_ reason: String) {
        rejected += 1
        if errors.count < 1000 { errors.append(.init(line: reader.line, reason: reason)) }
    }

    private func tell(finished: Bool = false) {
        guard let progress else { return }
        let now = Date()
        guard finished || now.timeIntervalSince(told) >= 0.25 else { return }
        told = now
        progress(
            .init(rows: rows, rejected: rejected, bytes: reader.bytesRead, seconds: now.timeIntervalSince(started), finished: finished))
    }
}
