/// What a principal may do. A token carries exactly one role.
public enum Role: String, Sendable, Codable, CaseIterable {
    /// Submits, updates and lifts warnings for its department (发布责任单位).
    case issuer
    /// Signs off warnings (duty leader or government leader in charge).
    case approver
    /// Release-centre duty operator (值班).
    case `operator`
    /// Read-only access to warnings, deliveries and the audit log.
    case auditor
    /// A last-mile receiver acknowledging what it played.
    case receiver

    /// Whether this role may read warnings through the API.
    public var mayReadWarnings: Bool { self != .receiver }
}
