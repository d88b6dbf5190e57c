import Foundation

/// Exports for auditors: the audit log or the deliveries of a time range, as CSV or JSON
/// Lines, written a row at a time. Every row carries a hash chain so that the file can be
/// checked on its own later: audit rows carry the log's own `previousHash` and `hash`;
/// delivery rows a chain of the export's own, from 64 zeros, whose last hash the export
/// also writes to the audit log.
public enum ExportFormat: String, Sendable, CaseIterable {
    case csv, json

    public var contentType: String { self == .csv ? "text/csv; charset=utf-8" : "application/x-ndjson" }
}

public enum ExportKind: String, Sendable {
    case audit, deliveries
}

/// The columns of each export, in order; CSV headers and JSON keys alike.
public enum ExportColumns {
    public static let audit = ["sequence", "at", "actor", "action", "subject", "detail", "previousHash", "hash"]
    public static let deliveries = [
        "warning", "identifier", "id", "recipient", "recipientName", "region", "channel", "state", "attempts",
        "idempotencyKey", "queuedAt", "sendingAt", "acceptedAt", "deliveredAt", "failedAt", "expiredAt", "supersededAt",
        "lastStatus", "lastError", "previousHash", "hash",
    ]

    public static func of(_ kind: ExportKind) -> [String] { kind == .audit ? audit : deliveries }
}

/// Turns rows into lines of the chosen format, chaining delivery rows as it goes.
public struct ExportEncoder: Sendable {
    public let kind: ExportKind
    public let format: ExportFormat
    /// The hash of the last delivery row written (64 zeros before the first).
    public private(set) var lastHash = AuditEntry.genesisHash
    public private(set) var rows = 0

    public init(kind: ExportKind, format: ExportFormat) {
        self.kind = kind
        self.format = format
    }

    /// The CSV header line, or nothing for JSON Lines.
    public var header: String { format == .csv ? ExportColumns.of(kind).map(CSV.field).joined(separator: ",") + "\r\n" : "" }

    public mutating func line(_ entry: AuditEntry) -> String {
        rows += 1
        lastHash = entry.hash
        return line(
            [
                String(entry.sequence), entry.at, entry.actor, entry.action, entry.subject, entry.detail, entry.previousHash, entry.hash,
            ], numeric: [0])
    }

    public mutating func line(_ row: DeliveryExportFields) -> String {
        var values = row.values
        let previous = lastHash
        let hash = Self.chainHash(previous: previous, values: values)
        values += [previous, hash]
        lastHash = hash
        rows += 1
        return line(values.map { $0 ?? "" }, numeric: [2, 8, 17], nulls: Set(values.indices.filter { values[$0] == nil }))
    }

    private func line(_ values: [String], numeric: Set<Int>, nulls: Set<Int> = []) -> String {
        switch format {
        case .csv:
            return values.map(CSV.field).joined(separator: ",") + "\r\n"
        case .json:
            let members = zip(ExportColumns.of(kind), values).enumerated().map { index, pair in
                let value = nulls.contains(index) ? "null" : numeric.contains(index) ? pair.1 : JSONText.quote(pair.1)
                return "\(JSONText.quote(pair.0)):\(value)"
            }
            return "{" + members.joined(separator: ",") + "}\n"
        }
    }

    /// The hash of a delivery row: the previous row's hash and every field, each
    /// length-prefixed (a missing or empty value as `-1:`), under SHA-256.
    public static func chainHash(previous: String, values: [String?]) -> String {
        FieldHash.sha256([previous] + values)
    }
}

extension AuditEntry {
    /// The action a redacted entry carries in an export.
    public static let redactedAction = "redacted"

    /// This entry as an export for someone who may not read it shows it: where it stands in
    /// the chain (sequence, time, hashes) without what it says, so the export still proves
    /// that nothing between the entries it shows was left out.
    public var redacted: AuditEntry {
        var entry = self
        entry.actor = ""
        entry.action = Self.redactedAction
        entry.subject = ""
        entry.detail = ""
        return entry
    }

    var isRedacted: Bool { action == Self.redactedAction && actor.isEmpty && subject.isEmpty && detail.isEmpty }
}

/// A delivery's exported fields, in `ExportColumns.deliveries` order (without the hashes).
public struct DeliveryExportFields: Sendable {
    public var values: [String?]

    public init(warning: String, identifier: String, delivery d: DeliveryView) {
        let fields: [String] = [
            warning, identifier, String(d.id), d.recipient, d.recipientName, d.region, d.channel, d.state.rawValue,
            String(d.attempts), d.idempotencyKey, d.queuedAt.text,
        ]
        let times: [Timestamp?] = [d.sendingAt, d.acceptedAt, d.deliveredAt, d.failedAt, d.expiredAt, d.supersededAt]
        let rest: [String?] = times.map { $0?.text } + [d.lastStatus.map(String.init), d.lastError]
        values = (fields.map { Optional($0) } + rest).map { $0?.isEmpty == true ? nil : $0 }
    }
}

/// RFC 4180 CSV: fields quoted when they hold a comma, quote or line break.
public enum CSV {
    /// Characters that make a spreadsheet read a cell as a formula (OWASP's CSV injection
    /// list), and the quote that marks a neutralised cell.
    static let formulaStarts: Set<Character> = ["=", "+", "-", "@", "\t", "\r", "'"]

    /// A CSV cell: quoted when it must be, and a value a spreadsheet would run as a formula
    /// prefixed with `'`, which `parse` takes off again so exports still verify.
    public static func field(_ value: String) -> String {
        let safe = value.first.map(formulaStarts.contains) == true ? "'" + value : value
        guard safe.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return safe }
        return "\"" + safe.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A cell's value as it was before `field` neutralised it.
    static func value(ofCell cell: String) -> String {
        cell.hasPrefix("'") ? String(cell.dropFirst()) : cell
    }

    public static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        forEachRow(text) { rows.append($0) }
        return rows
    }

    /// Hands each row of `text` to `body` as it is read, so a file of a million rows is
    /// never held as rows at once.
    public static func forEachRow<Failure: Error>(_ text: String, _ body: ([String]) throws(Failure) -> Void) throws(Failure) {
        var row: [String] = []
        var field = ""
        var quoted = false
        var characters = text.makeIterator()
        var pending: Character?
        while let character = pending ?? characters.next() {
            pending = nil
            if quoted {
                if character == "\"" {
                    if let next = characters.next() {
                        if next == "\"" {
                            field.append("\"")
                        } else {
                            quoted = false
                            pending = next
                        }
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(character)
                }
                continue
            }
            switch character {
            case "\"": quoted = true
            case ",":
                row.append(field)
                field = ""
            case "\r\n", "\n", "\r":
                row.append(field)
                field = ""
                try body(row)
                row = []
            default: field.append(character)
            }
        }
        if !field.isEmpty || !row.isEmpty {
            row.append(field)
            try body(row)
        }
    }
}
