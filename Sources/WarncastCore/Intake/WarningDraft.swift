import Foundation

/// A submission that passed every check that needs no store: the normalised fields Warncast
/// works with, next to the raw message exactly as received.
public struct WarningDraft: Sendable, Equatable {
    public var identifier: String
    public var sender: String
    public var sent: Date
    public var messageType: MessageType
    /// CAP `status`: Actual, Exercise, System, Test or Draft.
    public var capStatus: String
    public var level: Level
    /// Event type code from the catalogue, e.g. `rainstorm`.
    public var event: String
    public var headline: String?
    public var areas: [RegionCode]
    public var references: [MessageReference]
    public var effective: Date
    public var onset: Date?
    public var expires: Date?
    public var departmentID: String
    public var alert: CAPAlert
    public var raw: Data
    public var format: CAPFormat
    /// SHA-256 of the normalised CAP content: equal for the same message sent again, in either format.
    public var fingerprint: String
    /// For a warning handed down by upper-tier nodes: their names, the originating node first.
    public var upstreamPath: [String]?
}
