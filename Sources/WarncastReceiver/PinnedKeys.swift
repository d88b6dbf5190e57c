import Foundation
import Logging

/// The keys in `keys.json`, pinned on first use and only ever added to. The first start
/// without the file fetches the node's keys; later refreshes (on a timer, or when a message
/// names a key id not pinned, at most once a minute) add keys and never drop one.
public actor PinnedKeys {
    private let file: URL
    private let fetch: @Sendable () async throws -> KeySet
    private let now: @Sendable () -> Date
    private let logger: Logger
    private var keys: KeySet
    private var lastUnknownRefresh: Date?

    /// A message naming an unknown key asks the node again at most this often.
    public static let unknownKeyInterval: TimeInterval = 60

    /// Reads `file` if it exists. `fetch` asks the node (`NodeClient.fetchKeys`).
    public init(
        file: URL, logger: Logger, now: @escaping @Sendable () -> Date = Date.init, fetch: @escaping @Sendable () async throws -> KeySet
    ) throws {
        self.file = file
        self.fetch = fetch
        self.now = now
        self.logger = logger
        keys = FileManager.default.fileExists(atPath: file.path) ? try KeySet.decode(Data(contentsOf: file)) : KeySet()
    }

    /// The keys pinned now.
    public var current: KeySet { keys }

    /// Asks the node for its keys and pins any new ones. False when the node could not be
    /// asked (the pinned keys stay as they are).
    @discardableResult
    public func refresh() async -> Bool {
        let fetched: KeySet
        do {
            fetched = try await fetch()
        } catch {
            logger.warning("cannot fetch the node's keys", metadata: ["error": "\(error)"])
            return false
        }
        var updated = keys
        let added = updated.add(fetched.keys)
        guard updated != keys else { return true }
        do {
            try save(updated)
        } catch {
            logger.error("cannot write the pinned keys", metadata: ["file": "\(file.path)", "error": "\(error)"])
            return false
        }
        keys = updated
        if !added.isEmpty { logger.notice("pinned new signing keys", metadata: ["ids": "\(added.joined(separator: ","))"]) }
        return true
    }

    /// A message named `id`, which is not pinned: asks the node, unless it was asked for an
    /// unknown key less than a minute ago. Whether `id` is pinned afterwards.
    public func refresh(forUnknown id: String) async -> Bool {
        if keys.rawKey(id: id) != nil { return true }
        let time = now()
        if let last = lastUnknownRefresh, time.timeIntervalSince(last) < Self.unknownKeyInterval { return false }
        lastUnknownRefresh = time
        await refresh()
        return keys.rawKey(id: id) != nil
    }

    private func save(_ keys: KeySet) throws {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try keys.encoded().write(to: file, options: .atomic)
    }
}
