import Foundation
import Hummingbird
import WarncastCore
import WarncastDispatch
import WarncastStore

/// Delivery reports from gateways. They carry no bearer token (Kannel cannot send one);
/// each names its delivery (`d`) and proves it with the delivery's token (`t`), which only
/// the gateway that was handed the callback URL knows.
struct ReceiptController {
    let store: any Store
    let tokens: CallbackToken?
    /// How each carrier-sms channel's status callbacks read, by channel name.
    let carriers: [String: CarrierStatus]
    let now: @Sendable () -> Date

    func register<Methods: RouterMethods>(on registrar: RouteRegistrar<Methods>)
    where Methods.Context == WarncastRequestContext {
        registrar.on(.get, KannelAdapter.reportPath, use: kannelReport)
        registrar.on(.post, "/v1/receipts/carrier/{channel}", use: carrierReport)
    }

    /// A carrier's status callback: `POST …/carrier/{channel}?d=ID&t=TOKEN` with the JSON
    /// the channel's settings describe.
    @Sendable func carrierReport(_ request: Request, context: WarncastRequestContext) async throws -> ReportAnswer {
        let channel = try context.parameters.require("channel")
        guard let status = carriers[channel] else { throw APIError.notFound("no carrier-sms channel '\(channel)'") }
        let query = request.uri.queryParameters
        let id = try await authenticated(query["d"].map(String.init), token: query["t"].map(String.init))
        let body = Data(buffer: try await request.body.collect(upTo: 64 * 1024))
        guard let (state, detail) = status.read(body) else {
            throw APIError(.badRequest, code: "bad_report", detail: "the report has no status where the channel's status_path says")
        }
        return try await record(id, state: state ?? .queued, detail: detail, source: "carrier:\(channel)")
    }

    struct ReportAnswer: ResponseEncodable {
        var delivery: Int64
        var state: String
        var applied: Bool
    }

    /// Kannel's DLR: `?d=ID&t=TOKEN&type=%d&reason=%A`.
    @Sendable func kannelReport(_ request: Request, context: WarncastRequestContext) async throws -> ReportAnswer {
        let query = request.uri.queryParameters
        let id = try await authenticated(query["d"].map(String.init), token: query["t"].map(String.init))
        guard let typeText = query["type"], let type = Int(String(typeText)) else {
            throw APIError(.badRequest, code: "bad_report", detail: "type must be Kannel's report type (%d)")
        }
        let reason = query["reason"].map { String($0) }.flatMap { $0.isEmpty ? nil : $0 }
        guard let state = KannelAdapter.state(forReportType: type) else {
            // Buffered (4) and the like: on record as a receipt, no change of state.
            return try await record(id, state: .queued, detail: "Kannel report type \(type)" + (reason.map { ": \($0)" } ?? ""), source: "kannel")
        }
        return try await record(id, state: state, detail: reason.map { "SMSC: \($0)" } ?? "Kannel report type \(type)", source: "kannel")
    }

    /// The delivery id of a report whose token matches it; a forged report is refused and audited.
    private func authenticated(_ idText: String?, token: String?) async throws -> Int64 {
        guard let idText, let id = Int64(idText), let token else {
            throw APIError(.badRequest, code: "bad_report", detail: "a report needs the delivery (d) and its token (t)")
        }
        guard let tokens, tokens.verify(token, forDelivery: id) else {
            try await store.appendAudit(AuditEvent(actor: "anonymous", action: "receipt.forged", subject: "delivery:\(id)"), at: now())
            throw APIError(.forbidden, code: "forged_receipt", detail: "the token does not belong to this delivery")
        }
        return id
    }

    private func record(_ id: Int64, state: DeliveryState, detail: String?, source: String) async throws -> ReportAnswer {
        switch try await store.report(DeliveryReport(deliveryID: id, state: state, detail: detail, source: source, at: now())) {
        case .applied(let state): return ReportAnswer(delivery: id, state: state.rawValue, applied: true)
        case .unchanged(let state): return ReportAnswer(delivery: id, state: state.rawValue, applied: false)
        case .unknownDelivery: throw APIError.notFound("no delivery \(id)")
        }
    }
}
