import Foundation
import Hummingbird
import NIOCore
import NIOFoundationEssentialsCompat
import WarncastCore
import WarncastDispatch
import WarncastStore

/// Deliveries of a warning, its report and history, resends, and acknowledgements from
/// last-mile receivers.
struct DeliveryController {
    let store: any Store
    let channels: Set<String>
    let reports: WarningReportBuilder
    let refusals: AnonymousRefusals
    /// How recipients' secrets are kept; nil: plain SHA-256.
    let secrets: RecipientSecrets?
    let metrics: ServerMetrics
    let now: @Sendable () -> Date
    let streams = ReportStreams()

    func register<Methods: RouterMethods>(on registrar: RouteRegistrar<Methods>)
    where Methods.Context == WarncastRequestContext {
        registrar.on(.get, "/warnings/{id}/deliveries", use: deliveries)
        registrar.on(.get, "/warnings/{id}/report", use: report)
        registrar.on(.get, "/warnings/{id}/report/stream", use: reportStream)
        registrar.on(.get, "/warnings/{id}/history", use: history)
        registrar.on(.post, "/warnings/{id}/resend", use: resend)
        registrar.on(.get, "/audit/verify", use: verify)
    }

    /// Routes that authenticate with a recipient's secret rather than a token.
    func registerReceipts<Methods: RouterMethods>(on registrar: RouteRegistrar<Methods>)
    where Methods.Context == WarncastRequestContext {
        registrar.on(.post, "/v1/receipts/ack", use: acknowledge)
    }

    struct DeliveryList: ResponseEncodable {
        var warning: Warning.ID
        /// Count per state, every state listed.
        var summary: [String: Int]
        var total: Int
        var deliveries: [DeliveryView]
    }

    /// The caller's part of the warning's deliveries: those to divisions within its region
    /// (a county's operator sees its own villages of a province-wide warning, not the rest).
    @Sendable func deliveries(_ request: Request, context: WarncastRequestContext) async throws -> DeliveryList {
        let id = Warning.ID(rawValue: try context.parameters.require("id"))
        let reader = try context.requireReader()
        _ = try await store.warning(id: id, visibleTo: reader)
        var state: DeliveryState?
        if let text = request.uri.queryParameters["state"] {
            guard let parsed = DeliveryState(rawValue: String(text)) else {
                throw APIError.badQuery("state must be one of \(DeliveryState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            state = parsed
        }
        let limit =
            try request.uri.queryParameters["limit"].map { text -> Int in
                guard let limit = Int(text), (1...100_000).contains(limit) else { throw APIError.badQuery("limit must be 1 to 100000") }
                return limit
            } ?? 1000
        let counts = try await store.deliverySummary(warningID: id, within: reader.scope)
        var summary: [String: Int] = [:]
        for state in DeliveryState.allCases { summary[state.rawValue] = counts[state] ?? 0 }
        return DeliveryList(
            warning: id, summary: summary, total: counts.values.reduce(0, +),
            deliveries: try await store.deliveries(warningID: id, state: state, limit: limit, within: reader.scope))
    }

    /// Who was reached, per tier, and who was not; with the lower-tier nodes' reports. Of
    /// the caller's region only (`WarningReport.scoped(to:)`).
    @Sendable func report(_ request: Request, context: WarncastRequestContext) async throws -> WarningReport {
        let id = Warning.ID(rawValue: try context.parameters.require("id"))
        let reader = try context.requireReader()
        _ = try await store.warning(id: id, visibleTo: reader)
        return try await reports.report(warningID: id, depth: WarningReportBuilder.depth(of: request), within: reader.scope)
    }

    /// Everything on record about one warning: the message as received, every audit entry
    /// (submission, approvals, release, updates and cancellation, escalations, deliveries
    /// planned, exports), the deliveries' count per state and the gateways' reports. Each
    /// delivery with its receipt is at `deliveries`, and in bulk in the deliveries export.
    struct History: ResponseEncodable {
        var warning: Warning.ID
        /// The submitted message, byte for byte, as text, and its format.
        var cap: String
        var format: String
        var entries: [AuditEntry]
        var deliveries: [String: Int]
        var deliveriesURL: String
        /// Gateways' delivery reports (Kannel DLRs, carrier callbacks), the first 1000.
        var reports: [StoredReport]
    }

    /// Every audit entry about the warning: submission, approvals, release, deliveries planned,
    /// escalations, supersession.
    @Sendable func history(_ request: Request, context: WarncastRequestContext) async throws -> History {
        let id = Warning.ID(rawValue: try context.parameters.require("id"))
        let reader = try context.requireReader()
        _ = try await store.warning(id: id, visibleTo: reader)
        let raw = try await store.rawMessage(id: id)
        let summary = try await store.deliverySummary(warningID: id, within: reader.scope)
        return History(
            warning: id, cap: raw.map { String(decoding: $0.data, as: UTF8.self) } ?? "", format: raw?.format.rawValue ?? "",
            entries: try await store.auditEntries(subject: id.rawValue),
            deliveries: Dictionary(uniqueKeysWithValues: summary.map { ($0.key.rawValue, $0.value) }),
            deliveriesURL: "/v1/warnings/\(id)/deliveries",
            reports: try await store.reports(warningID: id, limit: 1000, within: reader.scope))
    }

    /// Both chains: the audit log, and the receipts' seals.
    struct Verification: ResponseEncodable {
        /// True when both are intact.
        var intact: Bool
        var entries: Int64?
        var lastHash: String?
        /// The first break (kept for clients that read only it), then every break.
        var brokenAt: Int64?
        var reason: String?
        var breaks: [AuditBreak]?
        var receipts: Receipts
    }

    struct Receipts: Codable {
        var intact: Bool
        var seals: Int64?
        /// Finished deliveries checked against their seals.
        var deliveries: Int64?
        var lastHash: String?
        var brokenDelivery: Int64?
        var reason: String?
    }

    @Sendable func verify(_ request: Request, context: WarncastRequestContext) async throws -> Verification {
        let principal = try context.requirePrincipal()
        guard [.auditor, .operator].contains(principal.role) else {
            throw APIError.forbidden("only auditor and operator tokens may verify the audit log")
        }
        let receipts: Receipts =
            switch try await store.verifyReceipts() {
            case .intact(let seals, let deliveries, let lastHash):
                Receipts(intact: true, seals: seals, deliveries: deliveries, lastHash: lastHash)
            case .broken(let delivery, let reason):
                Receipts(intact: false, brokenDelivery: delivery, reason: reason)
            }
        switch try await store.verifyAudit() {
        case .intact(let entries, let lastHash):
            return Verification(intact: receipts.intact, entries: entries, lastHash: lastHash, receipts: receipts)
        case .broken(let breaks):
            return Verification(
                intact: false, brokenAt: breaks.first?.sequence, reason: breaks.first?.reason, breaks: breaks, receipts: receipts)
        }
    }

    /// What to send again; everything is optional but the reason.
    struct ResendRequest: Decodable {
        var channel: String?
        var region: String?
        var states: [String]?
        var reason: String
    }

    struct Resent: ResponseEncodable {
        var warning: Warning.ID
        var resent: Int
    }

    /// An operator queues a warning's failed (and, on request, expired) deliveries again,
    /// with their original idempotency keys, within the operator's region.
    @Sendable func resend(_ request: Request, context: WarncastRequestContext) async throws -> Resent {
        let principal = try context.requirePrincipal()
        guard principal.role == .operator else { throw APIError.forbidden("only operator tokens may resend deliveries") }
        let id = Warning.ID(rawValue: try context.parameters.require("id"))
        let warning = try await store.warning(id: id, visibleTo: principal)
        // A warning replaced or lifted since must not go out again (the message that
        // replaced it is the one to send), nor one that expired or was rejected.
        if [.superseded, .cancelled, .expired, .rejected].contains(warning.status) {
            throw APIError(
                .conflict, code: "not_in_force",
                detail: "warning \(id) is \(warning.status.rawValue), no longer in force: its deliveries are not sent again"
                    + ([.superseded, .cancelled].contains(warning.status) ? "; resend the message that replaced it" : ""))
        }
        let body = try await request.body.collect(upTo: 64 * 1024)
        let ask = try JSONBody.decode(
            ResendRequest.self, from: body, expected: #"send {"reason": "…"} and optionally channel, region, states"#)
        guard !ask.reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw APIError(.unprocessableContent, code: "reason_required", detail: "say why the deliveries are sent again")
        }
        var region = principal.scope
        if let text = ask.region {
            guard let code = RegionCode(text), code.isWithin(principal.scope) else {
                throw APIError.badQuery("region must be a division code within \(principal.scope)")
            }
            region = code
        }
        if let channel = ask.channel, !channels.contains(channel) {
            throw APIError(.unprocessableContent, code: "unknown_channel", detail: "unknown channel '\(channel)'")
        }
        var states: Set<DeliveryState> = [.failed]
        if let names = ask.states {
            states = []
            for name in names {
                guard let state = DeliveryState(rawValue: name), [.failed, .expired].contains(state) else {
                    throw APIError.badQuery("states may be failed and expired")
                }
                states.insert(state)
            }
        }
        let count = try await store.resend(
            warningID: id, channel: ask.channel, within: region, states: states, by: .principal(principal), reason: ask.reason,
            at: now())
        metrics.countResends(channel: ask.channel, count: count)
        return Resent(warning: id, resent: count)
    }

    struct AckRequest: Decodable {
        var idempotencyKey: String
    }

    struct AckResponse: ResponseEncodable {
        var idempotencyKey: String
        var state: String
    }

    /// A receiver confirms it played a message: `Authorization: Bearer <its secret>` and
    /// `{"idempotencyKey": "…"}`. A key that is not the caller's is a forged receipt.
    @Sendable func acknowledge(_ request: Request, context: WarncastRequestContext) async throws -> AckResponse {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw APIError.unauthenticated("send the recipient's secret as 'Authorization: Bearer <secret>'")
        }
        let secret = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        let body = try await request.body.collect(upTo: 64 * 1024)
        let ack = try JSONBody.decode(AckRequest.self, from: body, expected: #"send {"idempotencyKey": "…"}"#)
        let forms = secrets?.candidates(secret) ?? [AccessToken.hash(secret)]
        switch try await store.acknowledge(idempotencyKey: ack.idempotencyKey, secretHashes: forms, at: now()) {
        case .delivered: return AckResponse(idempotencyKey: ack.idempotencyKey, state: "delivered")
        case .alreadyDelivered: return AckResponse(idempotencyKey: ack.idempotencyKey, state: "delivered")
        case .forged:
            try await refusals.record(AuditEvent(actor: .anonymous, action: .receiptForged, subject: ack.idempotencyKey))
            throw APIError(.forbidden, code: "forged_receipt", detail: "no delivery with this key belongs to the presented secret")
        }
    }
}
