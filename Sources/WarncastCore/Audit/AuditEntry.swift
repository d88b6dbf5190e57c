import Foundation

/// One line of the append-only audit log. Each entry's hash covers the previous entry's
/// hash and every field of its own, so editing, inserting or deleting any entry breaks the
/// chain from that point on.
public struct AuditEntry: Sendable, Codable, Equatable {
    /// Position in the chain, starting at 1.
    public var sequence: Int64
    /// When it happened, as RFC 3339 UTC with milliseconds.
    public var at: String
    /// Who did it: a token identifier with name and role, or `system` / `cli:<user>`.
    public var actor: String
    /// What happened, e.g. `warning.accepted`, `warning.refused`, `token.created`.
    public var action: String
    /// What it happened to, e.g. a warning or token id.
    public var subject: String
    /// Details as compact JSON.
    public var detail: String
    public var previousHash: String
    public var hash: String

    /// The hash of the entry before the first.
    public static let genesisHash = String(repeating: "0", count: 64)

    /// Builds the next entry of a chain whose last hash is `previousHash`.
    public init(
        sequence: Int64, at: String, actor: String, action: String, subject: String,
        detail: String, previousHash: String
    ) {
        self.sequence = sequence
        self.at = at
        self.actor = actor
        self.action = action
        self.subject = subject
        self.detail = detail
        self.previousHash = previousHash
        self.hash = ""
        self.hash = computedHash()
    }

    /// The hash this entry should carry given its fields.
    public func computedHash() -> String {
        FieldHash.sha256([previousHash, String(sequence), at, actor, action, subject, detail])
    }
}

/// What the audit action recorded, before it is chained.
public struct AuditEvent: Sendable {
    public var actor: AuditActor
    public var action: AuditAction
    public var subject: String
    public var detail: [String: String]

    public init(actor: AuditActor, action: AuditAction, subject: String, detail: [String: String] = [:]) {
        self.actor = actor
        self.action = action
        self.subject = subject
        self.detail = detail
    }

    /// `detail` as compact JSON with sorted keys, so it hashes the same everywhere.
    public var detailJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(detail)) ?? Data("{}".utf8), as: UTF8.self)
    }
}

/// The outcome of checking a chain from its start.
public enum AuditVerification: Sendable, Equatable {
    case intact(entries: Int64, lastHash: String)
    /// The first entry whose link is broken, and why.
    case broken(sequence: Int64, reason: String)

    /// Walks entries in sequence order and reports the first broken link. To check a chain in
    /// pieces, pass the number of entries already checked and the last hash they ended on.
    public static func verify(
        _ entries: some Sequence<AuditEntry>, startingAfter checked: Int64 = 0,
        previousHash: String = AuditEntry.genesisHash
    ) -> AuditVerification {
        var expectedPrevious = previousHash
        var expectedSequence: Int64 = checked + 1
        for entry in entries {
            if entry.sequence != expectedSequence {
                return .broken(
                    sequence: entry.sequence, reason: "expected entry \(expectedSequence) here: an entry was removed or inserted")
            }
            if entry.previousHash != expectedPrevious {
                return .broken(sequence: entry.sequence, reason: "previous-hash does not match the entry before it")
            }
            if entry.computedHash() != entry.hash {
                return .broken(sequence: entry.sequence, reason: "content does not match its hash: the entry was edited")
            }
            expectedPrevious = entry.hash
            expectedSequence += 1
        }
        return .intact(entries: expectedSequence - 1, lastHash: expectedPrevious)
    }
}
