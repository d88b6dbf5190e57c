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
        // Each value is bounded: a refusal's detail may quote what a stranger sent.
        let bounded = detail.mapValues { AuditText.storable($0, limit: 1024) }
        return String(decoding: (try? encoder.encode(bounded)) ?? Data("{}".utf8), as: UTF8.self)
    }
}

/// A broken link of the audit chain: which entry, and why.
public struct AuditBreak: Sendable, Equatable, Codable {
    public var sequence: Int64
    public var reason: String

    public init(sequence: Int64, reason: String) {
        self.sequence = sequence
        self.reason = reason
    }
}

/// The outcome of checking a chain from its start.
public enum AuditVerification: Sendable, Equatable {
    case intact(entries: Int64, lastHash: String)
    /// Every broken link, in order: a break does not hide a later one.
    case broken([AuditBreak])

    /// Walks entries in sequence order and reports every broken link.
    public static func verify(_ entries: some Sequence<AuditEntry>) -> AuditVerification {
        var walker = AuditChainWalker()
        for entry in entries { walker.check(entry) }
        return walker.result
    }
}

/// Checks a chain one entry at a time, so a long log is verified without holding it. After
/// a break it goes on from the entry as it reads, so each later break is reported too.
public struct AuditChainWalker: Sendable {
    /// At most this many breaks are listed; the count of entries goes on.
    public static let breakLimit = 1000

    private var expectedPrevious = AuditEntry.genesisHash
    private var expectedSequence: Int64 = 1
    private var checked: Int64 = 0
    public private(set) var breaks: [AuditBreak] = []

    public init() {}

    public mutating func check(_ entry: AuditEntry) {
        checked += 1
        if entry.sequence != expectedSequence {
            record(entry.sequence, "expected entry \(expectedSequence) here: an entry was removed or inserted")
        } else if entry.previousHash != expectedPrevious {
            record(entry.sequence, "previous-hash does not match the entry before it")
        }
        if entry.computedHash() != entry.hash {
            record(entry.sequence, "content does not match its hash: the entry was edited")
        }
        expectedPrevious = entry.hash
        expectedSequence = entry.sequence + 1
    }

    public var result: AuditVerification {
        breaks.isEmpty ? .intact(entries: checked, lastHash: expectedPrevious) : .broken(breaks)
    }

    private mutating func record(_ sequence: Int64, _ reason: String) {
        if breaks.count < Self.breakLimit { breaks.append(AuditBreak(sequence: sequence, reason: reason)) }
    }
}
