import Foundation

/// A warning as Warncast keeps it: the normalised fields of an accepted CAP message plus
/// what happened to it. The raw message is stored beside it, byte for byte.
public struct Warning: Sendable, Codable, Equatable {
    public var id: ID
    public var status: WarningStatus
    public var identifier: String
    public var sender: String
    public var sent: String
    public var msgType: MessageType
    public var capStatus: String
    public var level: Level
    public var severity: Severity
    public var event: String
    public var headline: String?
    public var areas: [RegionCode]
    public var references: [MessageReference]
    public var effective: Timestamp
    public var onset: Timestamp?
    public var expires: Timestamp?
    public var department: String
    /// Token id and name of the principal that submitted it.
    public var submittedBy: String
    /// The token that submitted it and its holder's name, for the two-person rule.
    public var submitterTokenID: String?
    public var submitterName: String?
    public var receivedAt: Timestamp
    /// Format the message arrived in.
    public var format: CAPFormat
    public var fingerprint: String
    /// The message's CAP content, normalised, in Warncast's JSON form.
    public var alert: CAPAlert
    /// Where it stands in its approval; filled in when the warning is read.
    public var approval: ApprovalState?
    /// For a warning handed down by upper-tier nodes: their names, the originating node first.
    public var upstreamPath: [String]?

    public init(id: ID, status: WarningStatus, draft: WarningDraft, submittedBy: Principal, receivedAt: Date) {
        self.id = id
        self.status = status
        identifier = draft.identifier
        sender = draft.sender
        sent = draft.alert.sent
        msgType = draft.messageType
        capStatus = draft.capStatus
        level = draft.level
        severity = draft.level.severity
        event = draft.event
        headline = draft.headline
        areas = draft.areas
        references = draft.references
        effective = Timestamp(draft.effective)
        onset = draft.onset.map(Timestamp.init)
        expires = draft.expires.map(Timestamp.init)
        department = draft.departmentID
        self.submittedBy = submittedBy.auditName
        submitterTokenID = submittedBy.tokenID
        submitterName = submittedBy.name
        self.receivedAt = Timestamp(receivedAt)
        format = draft.format
        fingerprint = draft.fingerprint
        upstreamPath = draft.upstreamPath
        alert = draft.alert
    }
}

/// Filters for listing warnings; every field narrows the result.
public struct WarningQuery: Sendable, Equatable {
    public var status: WarningStatus?
    /// Warnings whose areas lie within this region or cover it.
    public var region: RegionCode?
    /// Received at or after this time.
    public var since: Date?
    /// Received before this time.
    public var until: Date?
    /// Issued by this department.
    public var department: String?
    /// Only warnings flagged late (approval or delivery behind its threshold).
    public var lateOnly: Bool = false
    public var level: Level?
    /// Only warnings still waiting for approvals or a review.
    public var awaitingOnly: Bool
    /// Only warnings the caller may see: areas overlapping this region.
    public var visibleTo: RegionCode
    public var limit: Int

    public init(
        status: WarningStatus? = nil, region: RegionCode? = nil, since: Date? = nil, level: Level? = nil,
        awaitingOnly: Bool = false, visibleTo: RegionCode, limit: Int = 100
    ) {
        self.awaitingOnly = awaitingOnly
        self.status = status
        self.region = region
        self.since = since
        self.level = level
        self.visibleTo = visibleTo
        self.limit = limit
    }
}
