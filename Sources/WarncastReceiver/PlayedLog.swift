import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The idempotency keys this terminal has accepted, one per line in `played.log`. A key is
/// written and fsync'd before the node hears "ack", so a retry or a replay of an accepted
/// message, even after a restart, is acknowledged again and not played again.
///
/// The file only grows, by one short line per warning.
public actor PlayedLog {
    /// Why a key could not be recorded.
    public enum Failure: Error, Sendable, Equatable {
        /// Keys are lines: one with a line break cannot be recorded.
        case badKey
        /// The write or the fsync failed (errno).
        case io(Int32)
    }

    private var keys: Set<String>
    private let descriptor: Int32

    /// Opens (or creates) `file` and reads the keys in it. A last line without its line
    /// break was being written when the terminal stopped, and was never acknowledged: it
    /// is cut off, so that message plays when the node sends it again.
    public init(file: URL) throws {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        var text = FileManager.default.contents(atPath: file.path) ?? Data()
        if let last = text.last, last != UInt8(ascii: "\n") {
            text = text.prefix(upTo: (text.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 }) ?? text.startIndex)
            guard truncate(file.path, off_t(text.count)) == 0 else { throw Failure.io(errno) }
        }
        keys = Set(String(decoding: text, as: UTF8.self).split(separator: "\n").map(String.init))
        descriptor = open(file.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw Failure.io(errno) }
    }

    deinit {
        close(descriptor)
    }

    public func contains(_ key: String) -> Bool { keys.contains(key) }

    /// Records `key` durably. False when it was there already (a repeat); true when it is
    /// new and now on disk.
    public func record(_ key: String) throws(Failure) -> Bool {
        guard !key.isEmpty, !key.contains(where: \.isNewline) else { throw .badKey }
        guard !keys.contains(key) else { return false }
        let line = Array((key + "\n").utf8)
        let written = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == line.count else { throw .io(written < 0 ? errno : EIO) }
        guard fsync(descriptor) == 0 else { throw .io(errno) }
        keys.insert(key)
        return true
    }
}
