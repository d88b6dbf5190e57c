import Foundation
import GRDB
import WarncastCore

/// The embedded store: SQLite through GRDB, in WAL mode, migrated on open.
public struct SQLiteStore: Store {
    let writer: any DatabaseWriter
    /// How the store's writes have been going, for `health`.
    let monitor = WriteMonitor()
    /// The one clock of the store, for the times it stamps itself (audit entries of imports).
    let now: @Sendable () -> Date
    /// Recipients considered per planning step of a release (see `PlanningStep`); tests
    /// make it small.
    public var planningStep = Planning.defaultStep

    /// Opens (creating if needed) the database at `path`, creating its directory. An existing
    /// store of an older schema is migrated first; `migrating` hears, before that starts,
    /// the names of the migrations to apply (some rebuild an index of every delivery kept).
    public init(
        path: String, now: @escaping @Sendable () -> Date = Date.init, migrating: ([String]) -> Void = { _ in }
    ) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            // Raw messages, phone numbers and token hashes: readable by the daemon's user only,
            // whatever the umask.
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                // Pages of 16 KiB: planning a release writes a row and its index entries per
                // recipient, and with 4 KiB pages a million took 5.9-7.2 s (make bench, four
                // runs), with 16 KiB 4.9-6.3 s. Taken by a new store only, before its first
                // table; an existing one keeps its size (operations.md, "Upgrading").
                try db.execute(sql: "PRAGMA page_size = 16384")
                // The WAL is copied back after as many bytes whatever the pages as with SQLite's
                // default of 1000 pages of 4 KiB (250 of 16 KiB): a checkpoint runs in whichever
                // commit crosses the mark, and one four times larger put 20 ms on the slowest
                // 1 % of submissions.
                let pageSize = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
                try db.execute(sql: "PRAGMA wal_autocheckpoint = \(max(1, 4_096_000 / max(pageSize, 512)))")
            }
            let isNew = !FileManager.default.fileExists(atPath: path)
            let pool = try DatabasePool(path: path, configuration: configuration)
            for file in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: file) {
                try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
                // The CLI run as root creating the store of a node: it goes to the owner of the
                // state directory (the daemon's user). An existing store keeps its owner, and
                // SQLite gives its WAL and shared memory the store's.
                if isNew { try FileOwnership.match(file, like: directory) }
            }
            let pending = try pool.read { db -> [String] in
                let applied = try Schema.migrator.appliedIdentifiers(db)
                return applied.isEmpty ? [] : Schema.migrator.migrations.filter { !applied.contains($0) }
            }
            if !pending.isEmpty { migrating(pending) }
            try self.init(writer: pool, now: now)
        } catch let error as DatabaseError {
            throw StoreError.cannotOpen(path: path, reason: error.message ?? "\(error)")
        } catch {
            throw StoreError.cannotOpen(path: path, reason: "\(error)")
        }
    }

    /// Wraps an existing writer; tests use an in-memory queue.
    public init(writer: any DatabaseWriter, now: @escaping @Sendable () -> Date = Date.init) throws {
        self.writer = writer
        self.now = now
        try Schema.migrator.migrate(writer)
    }

    /// A store in memory, for tests.
    public static func inMemory(now: @escaping @Sendable () -> Date = Date.init) throws -> SQLiteStore {
        try SQLiteStore(writer: DatabaseQueue(), now: now)
    }

    public func ping() async throws {
        _ = try await writer.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    /// Reads, writes a probe row, and looks at how the store's own writes went: a store that
    /// answers reads but cannot write (a full disk) is not healthy, and is again by itself
    /// once a write succeeds. Unless `fresh`, at most one probe a second
    /// (`WriteMonitor.probeInterval`): a probe that wrote less than that ago stands, with the
    /// store's writes since.
    public func health(fresh: Bool) async -> StoreHealth {
        if fresh || !monitor.probedRecently() {
            do {
                try await ping()
                try await writer.write { db in
                    try db.execute(
                        sql: "INSERT OR REPLACE INTO health_probe (id, at) VALUES (1, ?)", arguments: [Timestamp.string(now())])
                }
                monitor.probed(wrote: true)
            } catch {
                monitor.probed(wrote: false)
                return StoreHealth(problem: "the store cannot write: \(Self.reason(error))")
            }
        }
        return StoreHealth(problem: monitor.problem(at: now()).map { "a write failed: \($0)" })
    }

    /// Every write of the store, so that a failing disk shows in `health`.
    func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await monitored { try await writer.write(updates) }
    }

    /// A write that manages its own transaction (an ATTACH must come before one), watched
    /// the same way.
    func writeWithoutTransaction<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await monitored { try await writer.writeWithoutTransaction(updates) }
    }

    private func monitored<T>(_ body: () async throws -> T) async throws -> T {
        do {
            let value = try await body()
            monitor.succeeded(at: now())
            return value
        } catch {
            if WriteMonitor.isStorageFailure(error) { monitor.failed(at: now(), reason: Self.reason(error)) }
            throw error
        }
    }

    private static func reason(_ error: any Error) -> String {
        (error as? DatabaseError)?.message ?? "\(error)"
    }
}
