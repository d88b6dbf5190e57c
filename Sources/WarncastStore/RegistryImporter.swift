import Foundation
import GRDB
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
    /// first 1000 of them in full). The file is read a buffer at a time into a scratch file
    /// in the temporary directory, so a million rows need no more memory than a thousand and the
    /// running daemon's writes wait only for the final copy, not for the reading. `progress`
    /// hears at most four times a second, and once at the end. `revive`: see
    /// `RegistryStore.importRecipients`.
    @discardableResult
    public func importRecipients(
        file: String, channels: Set<String>, revive: Bool = true, progress: (@Sendable (Progress) -> Void)? = nil
    ) async throws -> Int {
        let staging = try RecipientStaging(
            reader: try LineReader(file: file), channels: channels, hash: { [secrets] in secrets?.hash($0) ?? AccessToken.hash($0) },
            progress: progress)
        defer { staging.remove() }
        return try await store.importRecipients(
            staged: staging, revive: revive,
            audit: AuditEvent(actor: actor, action: .recipientsImported, subject: file, detail: ["file": file]))
    }
}

/// A recipients file read, checked and written row by row into a scratch SQLite file
/// (`row`, keyed by id, so a repeated id is found on disk rather than in memory), ready to
/// be copied into the store at once. Building it throws `RegistryImporter.FileError` with
/// every bad row.
public struct RecipientStaging: Sendable {
    public let path: String

    init(
        reader: LineReader, channels: Set<String>, hash: @Sendable (String) -> String,
        progress: (@Sendable (RegistryImporter.Progress) -> Void)?
    ) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("warncast-import-\(UUID().uuidString).sqlite").path
        var staged = false
        defer { if !staged { try? FileManager.default.removeItem(atPath: path) } }
        let queue = try DatabaseQueue(path: path)
        var errors: [RegionCSV.RowError] = []
        var rejected = 0
        var rows = 0
        let started = Date()
        var told = Date.distantPast
        func tell(finished: Bool) {
            guard let progress else { return }
            let now = Date()
            guard finished || now.timeIntervalSince(told) >= 0.25 else { return }
            told = now
            progress(
                .init(rows: rows, rejected: rejected, bytes: reader.bytesRead, seconds: now.timeIntervalSince(started), finished: finished))
        }
        func reject(_ reason: String) {
            rejected += 1
            if errors.count < 1000 { errors.append(.init(line: reader.line, reason: reason)) }
        }
        // A scratch file: no journal, no syncing; it is thrown away after the copy.
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA journal_mode = OFF")
            try db.execute(sql: "PRAGMA synchronous = OFF")
            try db.execute(
                sql: """
                    CREATE TABLE row (id TEXT PRIMARY KEY, channel TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
                      address TEXT NOT NULL, options TEXT NOT NULL, secretHash TEXT)
                    """)
        }
        try queue.write { db in
            let insert = try db.makeStatement(
                sql: "INSERT OR IGNORE INTO row (id, channel, region, name, address, options, secretHash) VALUES (?, ?, ?, ?, ?, ?, ?)")
            while let line = try reader.next() {
                let text = line.trimmingCharacters(in: .whitespaces)
                if text.isEmpty || text.hasPrefix("#") || (reader.line == 1 && text.hasPrefix("id,")) { continue }
                tell(finished: false)
                switch RecipientCSV.parseRow(text, channels: channels) {
                case .success(let parsed):
                    let record = RecipientRecord(parsed.recipient, secretHash: parsed.secret.map(hash))
                    try insert.execute(
                        arguments: [
                            record.id, record.channel, record.region, record.name, record.address, record.options, record.secretHash,
                        ])
                    if db.changesCount == 1 { rows += 1 } else { reject("duplicate id \(record.id)") }
                case .failure(let failure):
                    reject(failure.reason)
                }
            }
        }
        try queue.close()
        tell(finished: true)
        guard rejected == 0 else { throw RegistryImporter.FileError(file: reader.file, rows: errors, rejected: rejected) }
        staged = true
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
