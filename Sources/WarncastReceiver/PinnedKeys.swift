import Foundation
import Logging

/// The keys in `keys.json`, pinned on first use and only ever added to. The first start
/// without the file fetches the node's keys; later refreshes (on a timer, or when a message
/// names a key id not pinned, at most once a minute) add keys as `updates` allows and never
/// drop one.
public actor PinnedKeys {
    /// What a refresh may change once keys are pinned.
    public enum Updates: Sendable, Equatable {
        /// Pin new keys and take retirements: the list comes over a channel nobody can
        /// tamper with (verified HTTPS), or the operator said so.
        case all
        /// Take retirements of pinned keys only, and only from the moment they are seen,
        /// until lists show the key active for a day (`KeySet.takeUnverifiedRetirements`);
        /// a new key is logged, not pinned.
        /// Over plain HTTP anybody on the way could otherwise slip in a key of their own, or
        /// retire the pinned ones for good.
        case retirementsOnly
        /// Never ask the node: `keys.json` is provisioned by hand.
        case never
    }

    private let file: URL
    private let fetch: @Sendable () async throws -> KeySet
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let updates: Updates
    private var keys: KeySet
    private var lastUnknownRefresh: Date?

    /// A message naming an unknown key asks the node again at most this often.
    public static let unknownKeyInterval: TimeInterval = 60

    /// Reads `file` if it exists. `fetch` asks the node (`NodeClient.fetchKeys`).
    public init(
        file: URL, logger: Logger, updates: Updates = .all, now: @escaping @Sendable () -> Date = Date.init,
        fetch: @escaping @Sendable () async throws -> KeySet
    ) throws {
        self.file = file
        self.updates = updates
        self.fetch = fetch
        self.now = now
        self.logger = logger
        keys = FileManager.default.fileExists(atPath: file.path) ? try KeySet.decode(Data(contentsOf: file)) : KeySet()
    }

    /// The keys pinned now.
    public var current: KeySet { keys }

    /// Asks the node for its keys and pins what `updates` allows (everything, while none is
    /// pinned yet). False when the node could not be asked, or may not be.
    @discardableResult
    public func refresh() async -> Bool {
        guard updates != .never else { return false }
        let fetched: KeySet
        do {
            fetched = try await fetch()
        } catch {
            logger.warning("cannot fetch the node's keys", metadata: ["error": "\(error)"])
            return false
        }
        if updates == .retirementsOnly && !keys.isEmpty {
            let unpinned = fetched.keys.filter { keys.key(id: $0.id) == nil }.map(\.id)
            if !unpinned.isEmpty {
                logger.warning(
                    "the node lists keys that are not pinned: new keys are taken only over https (key_updates), so messages they sign are refused; copy the node's keys into the keys file to trust them",
                    metadata: ["ids": "\(unpinned.joined(separator: ","))", "file": "\(file.path)"])
            }
        }
        var updated = keys
        var added: [String] = []
        if updates == .retirementsOnly && !keys.isEmpty {
            let (retired, restored) = updated.takeUnverifiedRetirements(fetched.keys, now: now())
            if !retired.isEmpty {
                logger.warning(
                    "the node lists pinned keys as retired: messages they sign from now on are refused (over http this holds until the node's lists show them active for a day)",
                    metadata: ["ids": "\(retired.joined(separator: ","))"])
            }
            if !restored.isEmpty {
                logger.notice(
                    "the node has listed keys as active for a day: their retirement, taken over http, is dropped",
                    metadata: ["ids": "\(restored.joined(separator: ","))"])
            }
        } else {
            added = updated.add(fetched.keys)
        }
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
