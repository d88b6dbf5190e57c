import Foundation
import Logging
import WarncastCore

/// Writes one `key=value` line per log event to standard error, e.g.
/// `ts=2026-07-01T00:00:00.000Z level=info label=warncastd msg="warning accepted" warning=…`.
/// journald and log shippers can split these lines without a parser of their own.
public struct LogfmtHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String

    public init(label: String) {
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = [
            "ts=\(Timestamp.string(Date()))", "level=\(event.level)", "label=\(label)",
            "msg=\(Self.quote(event.message.description))",
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        for key in merged.keys.sorted() {
            fields.append("\(key)=\(Self.quote(merged[key]!.description))")
        }
        FileHandle.standardError.write(Data((fields.joined(separator: " ") + "\n").utf8))
    }

    static func quote(_ value: String) -> String {
        let plain = !value.isEmpty && value.unicodeScalars.allSatisfy { $0.value > 0x20 && $0 != "\"" && $0 != "=" && $0 != "\\" }
        if plain { return value }
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
        return "\"\(escaped)\""
    }
}
