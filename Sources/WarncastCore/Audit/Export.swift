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

/// Checks an exported file on its own: every row's hash, and every link to the row before.
public enum ExportVerifier {
    public struct Result: Sendable, Equatable {
        public var kind: ExportKind
        public var rows: Int
        /// For an audit export: the `previousHash` of its first entry, which ties it to the
        /// entry before it in the live log.
        public var anchor: String
        public var lastHash: String
        /// Audit entries shown only by their place in the chain (outside the exporter's region).
        public var redacted: Int = 0
        /// Shown entries before a redacted one. Their hashes are checked, but a redacted
        /// entry's own hash cannot be computed from the file, so an entry before it could be
        /// edited with every hash up to the redacted one and its link rewritten, and the file
        /// would still verify and end on the same last hash: only the live log, or an export
        /// of it that redacts none of them, vouches for these.
        public var unanchored: Int = 0
    }

    public struct Failure: Error, Equatable, CustomStringConvertible {
        public var row: Int
        public var reason: String
        public var description: String { "row \(row): \(reason)" }

        public init(row: Int, reason: String) {
            self.row = row
            self.reason = reason
        }
    }

    /// Checks `data` row by row: a month's export of a province (millions of rows) is
    /// verified without holding its rows, only the file and the last hash.
    public static func verify(_ data: Data) throws(Failure) -> Result {
        let text = String(decoding: data, as: UTF8.self)
        if text.hasPrefix("{") {
            var checker: Checker?
            var index = 0
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) where !line.isEmpty {
                index += 1
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                    throw Failure(row: index, reason: "not a JSON object")
                }
                let record = object.mapValues { value -> String? in
                    switch value {
                    case let text as String: text
                    case let number as NSNumber: number.stringValue
                    default: nil
                    }
                }
                if checker == nil { checker = Checker(kind: record["action"] != nil ? .audit : .deliveries) }
                try checker?.check(record, row: index)
            }
            return (checker ?? Checker(kind: .deliveries)).result
        }
        var checker: Checker?
        var header: [String] = []
        var index = 0
        try CSV.forEachRow(text) { (row: [String]) throws(Failure) in
            guard checker != nil else {
                if row == ExportColumns.audit {
                    checker = Checker(kind: .audit)
                } else if row == ExportColumns.deliveries {
                    checker = Checker(kind: .deliveries)
                } else {
                    throw Failure(row: 1, reason: "the header is neither an audit nor a deliveries export")
                }
                header = row
                return
            }
            index += 1
            let record = Dictionary(zip(header, row.map { Optional(CSV.value(ofCell: $0)) }), uniquingKeysWith: { first, _ in first })
            try checker?.check(record, row: index)
        }
        guard let checker else { throw Failure(row: 0, reason: "empty file") }
        return checker.result
    }

    private static func value(_ record: [String: String?], _ key: String) -> String? { record[key] ?? nil }

    /// The chain checked so far, one record after another.
    struct Checker {
        let kind: ExportKind
        var rows = 0
        var previous: String?
        var anchor = AuditEntry.genesisHash
        var redacted = 0
        var unanchored = 0
        var shown = 0

        var result: Result {
            kind == .audit
                ? Result(
                    kind: .audit, rows: rows, anchor: anchor, lastHash: previous ?? anchor, redacted: redacted, unanchored: unanchored)
                : Result(kind: .deliveries, rows: rows, anchor: AuditEntry.genesisHash, lastHash: previous ?? AuditEntry.genesisHash)
        }

        mutating func check(_ record: [String: String?], row: Int) throws(Failure) {
            rows += 1
            if kind == .audit { try checkAudit(record, index: row - 1) } else { try checkDelivery(record, index: row - 1) }
        }

        private mutating func checkAudit(_ record: [String: String?], index: Int) throws(Failure) {
            let fields = ExportColumns.audit.map { value(record, $0) ?? "" }
            guard let sequence = Int64(fields[0]) else { throw Failure(row: index + 1, reason: "sequence is not a number") }
            let entry = AuditEntry(
                sequence: sequence, at: fields[1], actor: fields[2], action: fields[3], subject: fields[4], detail: fields[5],
                previousHash: fields[6])
            if index == 0 { anchor = fields[6] }
            if let previous, fields[6] != previous {
                throw Failure(row: index + 1, reason: "entry \(sequence) does not follow the entry before it")
            }
            // A redacted entry's content is not there to hash; its links still are.
            if entry.isRedacted {
                redacted += 1
                unanchored = shown
            } else {
                guard entry.hash == fields[7] else { throw Failure(row: index + 1, reason: "entry \(sequence) does not match its hash") }
                shown += 1
            }
            previous = fields[7]
        }

        private mutating func checkDelivery(_ record: [String: String?], index: Int) throws(Failure) {
            let before = previous ?? AuditEntry.genesisHash
            // CSV cannot tell an empty text from a missing one; the export writes missing
            // values as empty cells, so an empty cell is read back as missing.
            let values = ExportColumns.deliveries.dropLast(2).map { key -> String? in
                let text = value(record, key)
                return text?.isEmpty == true ? nil : text
            }
            guard value(record, "previousHash") == before else {
                throw Failure(row: index + 1, reason: "does not follow the row before it")
            }
            let hash = ExportEncoder.chainHash(previous: before, values: values)
            guard hash == value(record, "hash") else { throw Failure(row: index + 1, reason: "does not match its hash") }
            previous = hash
        }
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
