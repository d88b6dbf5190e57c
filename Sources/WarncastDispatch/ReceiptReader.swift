import Foundation
import WarncastCore

/// How a gateway reports back on a delivery, for adapters whose gateway does (Kannel's
/// DLRs, a carrier's status callbacks). The HTTP layer routes the call, checks the delivery
/// (`d`) and its token (`t`) the adapter put in the callback URL, and hands the rest here:
/// it knows no adapter, and an adapter knows no HTTP server.
public protocol ReceiptReader: Sendable {
    /// What the call says about its delivery.
    func read(_ callback: ReceiptCallback) throws(ReceiptReadError) -> GatewayReport
}

/// How an adapter's gateway reports back: where it calls, and how to build the reader for
/// one channel from the channel's name and settings.
public struct ReceiptRegistration: Sendable {
    public var route: ReceiptRoute
    public var reader: @Sendable (_ channel: String, _ settings: [String: String]) throws -> any ReceiptReader

    public init(
        route: ReceiptRoute, reader: @escaping @Sendable (_ channel: String, _ settings: [String: String]) throws -> any ReceiptReader
    ) {
        self.route = route
        self.reader = reader
    }
}

/// A method and a path on this node; `{channel}` in the path stands for the channel's name,
/// for gateways whose reports read differently per channel.
public struct ReceiptRoute: Hashable, Sendable {
    public var method: String
    public var path: String

    public init(method: String, path: String) {
        self.method = method
        self.path = path
    }

    /// Whether the route names its channel.
    public var isPerChannel: Bool { path.contains("{channel}") }
}

/// A gateway's call as it arrived: its query parameters and body.
public struct ReceiptCallback: Sendable {
    public var query: [String: String]
    public var body: Data

    public init(query: [String: String], body: Data = Data()) {
        self.query = query
        self.body = body
    }
}

/// What a gateway said: the state it reports (nil: nothing final yet, kept as a record
/// only), its words, and who said it.
public struct GatewayReport: Sendable, Equatable {
    public var state: DeliveryState?
    public var detail: String?
    public var source: String

    public init(state: DeliveryState?, detail: String?, source: String) {
        self.state = state
        self.detail = detail
        self.source = source
    }
}

/// A report that cannot be read; answered 400 `bad_report` with this detail.
public struct ReceiptReadError: Error, Sendable, Equatable {
    public var detail: String

    public init(_ detail: String) {
        self.detail = detail
    }
}
