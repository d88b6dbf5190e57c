import Foundation

/// A file that could not be read, with the file's name and the cause in words (never a
/// Foundation error dump).
public struct FileReadError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var reason: String

    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }

    public var description: String { "\(file): \(reason)" }
}

/// Reads the files an operator names: registries, CAP messages, exports.
public enum TextFile {
    /// That `path` is a file this process may read, or why not.
    public static func checkReadable(_ path: String) throws(FileReadError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FileReadError(file: path, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw FileReadError(file: path, reason: "is a directory, not a file") }
        guard FileManager.default.isReadableFile(atPath: path) else { throw FileReadError(file: path, reason: "permission denied") }
    }

    /// The bytes of `path`, or why not.
    public static func data(_ path: String) throws(FileReadError) -> Data {
        try checkReadable(path)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileReadError(file: path, reason: "cannot be read")
        }
        return data
    }

    /// The text of `path`, which must be UTF-8 (a byte order mark is dropped).
    public static func utf8(_ path: String) throws(FileReadError) -> String {
        var bytes = try data(path)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        guard let text = String(data: bytes, encoding: .utf8) else {
            let line = validPrefixLines(bytes)
            throw FileReadError(
                file: path, reason: "is not UTF-8 text (first bad byte on line \(line)); save it as UTF-8, e.g. iconv -f GB18030 -t UTF-8")
        }
        return text
    }

    /// The line (from 1) holding the first byte that is not valid UTF-8.
    static func validPrefixLines(_ bytes: Data) -> Int {
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        var line = 1
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): if scalar == "\n" { line += 1 }
            case .emptyInput, .error: return line
            }
        }
    }
}
