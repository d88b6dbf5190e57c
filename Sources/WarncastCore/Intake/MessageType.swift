/// CAP `msgType` values Warncast accepts from departments.
public enum MessageType: String, Sendable, Codable, CaseIterable {
    /// A new warning.
    case alert = "Alert"
    /// Replaces an earlier message: level up or down, extended, area changed.
    case update = "Update"
    /// Lifts an earlier warning (解除).
    case cancel = "Cancel"
}

/// Where a warning is in its life. Only `pendingApproval` exists until approval rules land.
public enum WarningStatus: String, Sendable, Codable, CaseIterable {
    case pendingApproval = "pending_approval"
    case approved
    case released
    case rejected
    case superseded
    case cancelled
    case expired
}

/// One `sender,identifier,sent` triple of a CAP `references` field.
public struct MessageReference: Sendable, Codable, Hashable, CustomStringConvertible {
    public var sender: String
    public var identifier: String
    public var sent: String

    public init(sender: String, identifier: String, sent: String) {
        self.sender = sender
        self.identifier = identifier
        self.sent = sent
    }

    /// Parses the whitespace-separated list of triples.
    public static func parseList(_ text: String) -> [MessageReference]? {
        var result: [MessageReference] = []
        for triple in text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }) {
            let parts = triple.split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else { return nil }
            result.append(MessageReference(sender: String(parts[0]), identifier: String(parts[1]), sent: String(parts[2])))
        }
        return result.isEmpty ? nil : result
    }

    public var description: String { "\(sender),\(identifier),\(sent)" }
}
