import Foundation
import WarncastCore

/// What became of a warning's deliveries: lists, roll-ups per tier, timelines, exports.
public protocol ReportStore: Sendable {
    /// For each channel and division (the recipient's region, usually a village) of the
    /// warning's deliveries, when the first of them was delivered (nil: none yet).
    func reaches(warningID: Warning.ID) async throws -> [WarningTimeline.Reach]
    /// Delivered deliveries of `warningID` on `channels` with the id the receiver gave them
    /// (for lower-tier nodes: their id of the warning).
    func deliveryReferences(warningID: Warning.ID, channels: Set<String>) async throws -> [DeliveryReference]
    /// The gateways' reports on a warning's deliveries, oldest first, at most `limit`; only
    /// of deliveries to divisions `within` the region given, when one is.
    func reports(warningID: Warning.ID, limit: Int, within: RegionCode?) async throws -> [StoredReport]
    /// A warning's deliveries by id (of `state`, when given; `within` a region, when given).
    func deliveries(warningID: Warning.ID, state: DeliveryState?, limit: Int, within: RegionCode?) async throws -> [DeliveryView]
    /// A warning's deliveries counted per state (`within` a region, when given).
    func deliverySummary(warningID: Warning.ID, within: RegionCode?) async throws -> [DeliveryState: Int]
    /// Per channel, the warning's deliveries waiting to go out again after an attempt that
    /// did not reach the recipient (`within` a region, when given), with the latest error.
    func retrying(warningID: Warning.ID, within: RegionCode?) async throws -> [WarningTimeline.Retrying]
    /// The release time of the oldest warning of `level` in force with a delivery still
    /// waiting to be sent (queued, or leased and on its way): how long someone has been
    /// waiting for it. Nil when every delivery of such warnings has gone out.
    func oldestWaitingRelease(level: Level) async throws -> Date?
    /// Deliveries counted per division at every tier down to `depth`, with times to deliver.
    /// The deliveries in `excluding` are left out of the total (not of their channel's rows):
    /// hand-downs whose lower node's own rows take their place.
    func rollup(warningID: Warning.ID, depth: Tier, excluding: Set<Int64>) async throws -> WarningRollup
    /// Deliveries that did not (or not yet) reach their recipient: the blind spots (`within`
    /// a region, when given).
    func undelivered(warningID: Warning.ID, limit: Int, within: RegionCode?) async throws -> [DeliveryView]
    /// A page of deliveries planned in `[since, until)` to divisions within `region` (where
    /// each recipient was when the delivery was planned), after delivery `id`, by id.
    func exportDeliveries(
        since: Date, until: Date, within region: RegionCode, after id: Int64, limit: Int
    ) async throws -> [DeliveryExportRow]
}

/// The whole warning's deliveries, for callers that see all of it (the node itself, tests).
extension ReportStore {
    public func reports(warningID: Warning.ID, limit: Int) async throws -> [StoredReport] {
        try await reports(warningID: warningID, limit: limit, within: nil)
    }

    public func deliveries(warningID: Warning.ID, state: DeliveryState?, limit: Int) async throws -> [DeliveryView] {
        try await deliveries(warningID: warningID, state: state, limit: limit, within: nil)
    }

    public func deliverySummary(warningID: Warning.ID) async throws -> [DeliveryState: Int] {
        try await deliverySummary(warningID: warningID, within: nil)
    }

    public func undelivered(warningID: Warning.ID, limit: Int) async throws -> [DeliveryView] {
        try await undelivered(warningID: warningID, limit: limit, within: nil)
    }

    public func retrying(warningID: Warning.ID) async throws -> [WarningTimeline.Retrying] {
        try await retrying(warningID: warningID, within: nil)
    }
}

/// One delivery in an export, with its warning.
public struct DeliveryExportRow: Sendable, Codable, Equatable {
    public var warning: String
    public var identifier: String
    public var delivery: DeliveryView

    public init(warning: String, identifier: String, delivery: DeliveryView) {
        self.warning = warning
        self.identifier = identifier
        self.delivery = delivery
    }
}

/// A delivered delivery and the receiver's id for what it received.
public struct DeliveryReference: Sendable, Equatable {
    public var deliveryID: Int64
    public var recipientID: String
    public var recipientName: String
    /// The recipient's division.
    public var region: String
    public var address: String
    public var reference: String

    public init(
        deliveryID: Int64, recipientID: String, recipientName: String, region: String, address: String, reference: String
    ) {
        self.deliveryID = deliveryID
        self.recipientID = recipientID
        self.recipientName = recipientName
        self.region = region
        self.address = address
        self.reference = reference
    }
}

extension ReportStore {
    public func rollup(warningID: Warning.ID, depth: Tier) async throws -> WarningRollup {
        try await rollup(warningID: warningID, depth: depth, excluding: [])
    }
}

/// A gateway's report as kept: which delivery (and recipient), when, from whom, what it said.
public struct StoredReport: Sendable, Codable, Equatable {
    public var delivery: Int64
    public var recipient: String
    public var at: Timestamp
    public var source: String
    public var state: DeliveryState
    public var detail: String?

    public init(delivery: Int64, recipient: String, at: Timestamp, source: String, state: DeliveryState, detail: String?) {
        self.delivery = delivery
        self.recipient = recipient
        self.at = at
        self.source = source
        self.state = state
        self.detail = detail
    }
}
