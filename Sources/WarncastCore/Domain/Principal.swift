/// An authenticated caller: who holds the bearer token, in which role, for which department
/// or region.
public struct Principal: Sendable, Equatable {
    /// Identifier of the token that authenticated this caller (never the secret itself).
    public var tokenID: String
    /// Human name recorded with the token, for the audit log.
    public var name: String
    public var role: Role
    /// The department the token belongs to, if any.
    public var department: Department?
    /// The region a department-less token is scoped to (operators, auditors, receivers,
    /// government approvers).
    public var region: RegionCode
    /// For approvers: the approval role they hold, e.g. `duty-leader`.
    public var approvalRole: String?

    public init(
        tokenID: String, name: String, role: Role, department: Department?, region: RegionCode,
        approvalRole: String? = nil
    ) {
        self.tokenID = tokenID
        self.name = name
        self.role = role
        self.department = department
        self.region = region
        self.approvalRole = approvalRole
    }

    /// The area this principal may see: its department's region, else its own.
    public var scope: RegionCode { department?.region ?? region }

    /// How the principal appears in the audit log.
    public var auditName: String { "\(tokenID) (\(name), \(role.rawValue))" }

    /// Whether a warning targeting `areas` is visible to this principal: one of the areas lies
    /// inside its scope, or covers it.
    public func maySee(areas: [RegionCode]) -> Bool {
        areas.contains { scope.overlaps($0) }
    }
}
