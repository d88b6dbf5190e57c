import Foundation

/// Reads a UTF-8 text file line by line through a fixed buffer, so a file of a million
/// rows never sits in memory whole. Lines end with `\n` (a `\r` before it is dropped); a
/// byte order mark at the start is dropped.
public final class LineReader {
    public let file: String
    /// The number of the line `next()` returned last, from 1.
    public private(set) var line = 0
    /// Bytes read from the file so far.
    public private(set) var bytesRead = 0
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    private let chunk: Int

    public init(file: String, chunk: Int = 1 << 20) throws(FileReadError) {
        try TextFile.checkReadable(file)
        guard let handle = FileHandle(forReadingAtPath: file) else { throw FileReadError(file: file, reason: "cannot be read") }
        self.file = file
        self.handle = handle
        self.chunk = chunk
    }

    deinit { try? handle.close() }

    /// The next line, or nil at the end of the file.
    public func next() throws(FileReadError) -> String? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                let text = try decode(buffer[start..<newline])
                start = newline + 1
                return text
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                let text = try decode(buffer[start...])
                start = buffer.count
                return text
            }
            try fill()
        }
    }

    private func fill() throws(FileReadError) {
        // Keep the unread part only, then read the next chunk after it.
        if start > 0 {
            buffer.removeFirst(start)
            start = 0
        }
        let data: Data?
        do {
            data = try handle.read(upToCount: chunk)
        } catch {
            throw FileReadError(file: file, reason: "cannot be read after \(bytesRead) bytes")
        }
        guard let data, !data.isEmpty else {
            atEnd = true
            return
        }
        bytesRead += data.count
        buffer.append(contentsOf: data)
    }

    private func decode(_ bytes: ArraySlice<UInt8>) throws(FileReadError) -> String {
        line += 1
        var bytes = bytes
        if line == 1, bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        if bytes.last == 0x0D { bytes = bytes.dropLast() }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw FileReadError(
                file: file, reason: "line \(line) is not UTF-8 text; save the file as UTF-8, e.g. iconv -f GB18030 -t UTF-8")
        }
        return text
    }
}
