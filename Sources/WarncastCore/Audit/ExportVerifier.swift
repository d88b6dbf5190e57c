import Foundation

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
