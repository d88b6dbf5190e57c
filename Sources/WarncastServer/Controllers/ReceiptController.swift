import Foundation
import Hummingbird
import NIOFoundationEssentialsCompat
import WarncastCore
import WarncastDispatch
import WarncastStore

/// Delivery reports from gateways, on the routes the channels' receipt readers declare.
/// They carry no bearer token (Kannel cannot send one); each names its delivery (`d`) and
/// proves it with the delivery's token (`t`), which only the gateway that was handed the
/// callback URL knows. What the rest of the call means is the channel's reader's to say:
/// this controller knows no adapter.
struct ReceiptController {
    let outbox: any Outbox
    let refusals: AnonymousRefusals
    let tokens: CallbackToken?
    /// The routes the adapters declare.
    let routes: Set<ReceiptRoute>
    /// Each reporting channel's reader with its route, by channel name.
    let readers: [String: (route: ReceiptRoute, reader: any ReceiptReader)]
    let now: @Sendable () -> Date

    func register<Methods: RouterMethods>(on registrar: RouteRegistrar<Methods>)
    where Methods.Context == WarncastRequestContext {
        for route in routes.sorted(by: { $0.path < $1.path }) {
            registrar.on(
                HTTPRequest.Method(route.method) ?? .post, route.path,
                use: { request, context in
                    try await receive(request, route: route, channel: route.isPerChannel ? try context.parameters.require("channel") : nil)
                })
        }
    }

    /// The reader for a report on `route`: the named channel's, or for a route that names no
    /// channel, that of the (first) channel reporting there, since they read alike.
    private func reader(on route: ReceiptRoute, channel: String?) throws -> any ReceiptReader {
        let match = channel.flatMap { readers[$0] } ?? readers.sorted { $0.key < $1.key }.first { $0.value.route == route }?.value
        guard let match, match.route == route else {
            throw APIError.notFound("no channel '\(channel ?? route.path)' takes reports on this route")
        }
        return match.reader
    }

    struct ReportAnswer: ResponseEncodable {
        var delivery: Int64
        var state: String
        var applied: Bool
    }

    private func receive(_ request: Request, route: ReceiptRoute, channel: String?) async throws -> ReportAnswer {
        // A channel named in the path must exist before anything else is looked at.
        if channel != nil { _ = try reader(on: route, channel: channel) }
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
        let id = try await authenticated(query["d"], token: query["t"])
        let reader = try reader(on: route, channel: channel)
        let body = request.method == .get ? Data() : Data(buffer: try await request.body.collect(upTo: 64 * 1024))
        let report: GatewayReport
        do {
            report = try reader.read(ReceiptCallback(query: query, body: body))
        } catch {
            throw APIError(.badRequest, code: "bad_report", detail: error.detail)
        }
        // A report that says nothing final is kept as a record (state queued) and changes nothing.
        let delivery = DeliveryReport(
            deliveryID: id, state: report.state ?? .queued, detail: report.detail, source: report.source, at: now())
        switch try await outbox.report(delivery) {
        case .applied(let state): return ReportAnswer(delivery: id, state: state.rawValue, applied: true)
        case .unchanged(let state): return ReportAnswer(delivery: id, state: state.rawValue, applied: false)
        case .unknownDelivery: throw APIError.notFound("no delivery \(id)")
        }
    }

    /// The delivery id of a report whose token matches it; a forged report is refused and audited.
    private func authenticated(_ idText: String?, token: String?) async throws -> Int64 {
        guard let idText, let id = Int64(idText), let token else {
            throw APIError(.badRequest, code: "bad_report", detail: "a report needs the delivery (d) and its token (t)")
        }
        guard let tokens, tokens.verify(token, forDelivery: id) else {
            try await refusals.record(AuditEvent(actor: .anonymous, action: .receiptForged, subject: "delivery:\(id)"))
            throw APIError(.forbidden, code: "forged_receipt", detail: "the token does not belong to this delivery")
        }
        return id
    }
}
