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
        "\(String(format: "%015d", Int64(date.timeIntervalSince1970 * 1000)))-\(Self.digest(key)).json"
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
    }

    /// The warning `key` has been played: its file goes.
    public func remove(key: String) {
        let suffix = "-\(Self.digest(key)).json"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names where name.hasSuffix(suffix) {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }

    /// What waits, oldest first, with the bodies that cannot be read any more (moved aside
    /// as `*.bad`, never played).
    public func waiting() -> (messages: [(body: Data, message: BroadcastMessage)], unreadable: [String]) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        var messages: [(Data, BroadcastMessage)] = []
        var unreadable: [String] = []
        for name in names {
            let file = directory.appendingPathComponent(name)
            if let body = FileManager.default.contents(atPath: file.path),
                let message = try? JSONDecoder().decode(BroadcastMessage.self, from: body)
            {
                messages.append((body, message))
            } else {
                unreadable.append(name)
                try? FileManager.default.moveItem(at: file, to: file.appendingPathExtension("bad"))
            }
        }
        return (messages, unreadable)
    }
}
