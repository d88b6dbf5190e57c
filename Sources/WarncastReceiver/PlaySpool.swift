import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Accepted warnings not played yet, one file each in `state_dir/queue/`: written (and
/// synced) before the warning is acknowledged, removed once it has been played. A receiver
/// that stops (a restart, a power cut) with warnings still waiting plays them when it starts
/// again, in the order they came; `played.log` still keeps the node's retries from playing
/// them twice.
public struct PlaySpool: Sendable {
    public let directory: URL

    public init(directory: URL) throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// `<milliseconds since 1970>-<SHA-256 of the key>.json`: sorts in arrival order.
    private func name(for key: String, at date: Date) -> String {
        let milliseconds = String(Int64(date.timeIntervalSince1970 * 1000))
        return String(repeating: "0", count: max(0, 15 - milliseconds.count)) + milliseconds + "-\(Self.digest(key)).json"
    }

    private static func digest(_ key: String) -> String {
        SHA256.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Keeps `body` (the message as received) for `key`, synced to disk.
    public func keep(_ body: Data, key: String, at date: Date = Date()) throws {
        let file = directory.appendingPathComponent(name(for: key, at: date))
        let temporary = directory.appendingPathComponent(".\(file.lastPathComponent).tmp")
        try body.write(to: temporary)
        let descriptor = open(temporary.path, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteUnknown) }
        let synced = fsync(descriptor)
        close(descriptor)
        guard synced == 0, rename(temporary.path, file.path) == 0 else { throw CocoaError(.fileWriteUnknown) }
        // The rename itself is on disk only once the folder is.
        guard syncDirectory() else { throw CocoaError(.fileWriteUnknown) }
    }

    @discardableResult
    private func syncDirectory() -> Bool {
        let descriptor = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        return fsync(descriptor) == 0
    }

    /// The warning `key` has been played: its file goes.
    public func remove(key: String) {
        let suffix = "-\(Self.digest(key)).json"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        var removed = false
        for name in names where name.hasSuffix(suffix) {
            removed = (try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))) != nil || removed
        }
        // Or a power cut could bring it back, to be played again.
        if removed { syncDirectory() }
    }

    /// One warning waiting: its message and when it was accepted.
    public struct Waiting: Sendable {
        public var message: BroadcastMessage
        public var acceptedAt: Date
    }

    /// What waits, oldest first, with the bodies that cannot be read any more (moved aside
    /// as `*.bad`, never played).
    public func waiting() -> (messages: [Waiting], unreadable: [String]) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        var messages: [Waiting] = []
        var unreadable: [String] = []
        for name in names {
            let file = directory.appendingPathComponent(name)
            if let body = FileManager.default.contents(atPath: file.path),
                let message = try? JSONDecoder().decode(BroadcastMessage.self, from: body)
            {
                messages.append(Waiting(message: message, acceptedAt: acceptedAt(name: name, file: file)))
            } else {
                unreadable.append(name)
                try? FileManager.default.moveItem(at: file, to: file.appendingPathExtension("bad"))
            }
        }
        return (messages, unreadable)
    }

    /// When the file's name says it was accepted; for a name that does not say so plausibly
    /// (written before names carried the full milliseconds), when the file was last written.
    private func acceptedAt(name: String, file: URL) -> Date {
        let named = Date(timeIntervalSince1970: (Double(name.prefix { $0 != "-" }) ?? 0) / 1000)
        if named > Date(timeIntervalSince1970: 1_577_836_800), named < Date().addingTimeInterval(86_400) { return named }
        let attributes = try? FileManager.default.attributesOfItem(atPath: file.path)
        return attributes?[.modificationDate] as? Date ?? Date()
    }
}
