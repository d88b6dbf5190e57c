import Foundation
import Hummingbird
import NIOFoundationEssentialsCompat
import WarncastConfig
import WarncastCore
import WarncastStore

/// The lower-tier side of the province / city / county chain. An upper node hands a
/// warning down with `POST /v1/cascade/warnings` and later asks for this node's report
/// with `GET /v1/cascade/warnings/{id}/report`; both are authenticated by the upper node's
/// signature (no bearer token), checked against `cascade.upstream`.
struct CascadeController {
    let store: any Store
    let intake: WarningIntake
    let verifier: UpstreamVerifier
    let node: String
    /// The division this node serves: a hand-down none of whose areas touches it is not
    /// this node's to file (a sibling's, replayed here).
    let nodeRegion: RegionCode
    let catalogue: EventCatalogue
    let reports: WarningReportBuilder
    let maxBodyBytes: Int
    let refusals: AnonymousRefusals
    let now: @Sendable () -> Date

    func register<Methods: RouterMethods>(on registrar: RouteRegistrar<Methods>)
    where Methods.Context == WarncastRequestContext {
        registrar.on(.post, "/v1/cascade/warnings", use: handDown)
        registrar.on(.get, "/v1/cascade/warnings/{id}/report", use: report)
    }

    /// The principal an upstream node's warnings are accepted as: an issuer of its own
    /// department, over its region, for every event type.
    func principal(_ upstream: WarncastConfiguration.Upstream) -> Principal {
        Principal(
            tokenID: "upstream:\(upstream.name)", name: upstream.name, role: .issuer,
            department: upstream.department(catalogue: catalogue),
            region: upstream.region)
    }

    @Sendable func handDown(_ request: Request, context: WarncastRequestContext) async throws -> Response {
        // The headers first: a stranger's body is never read.
        try await authenticate(request, body: nil)
        // A hand-down is one delivery of the upper node's, keyed `<warning>/<recipient>`.
        // Its signature is the one every outgoing message carries, so anything else it
        // signed (the mail to a subscriber, keyed by the warning alone; a report request)
        // must not be taken for one.
        guard let key = request.headers[.init("Idempotency-Key")!], Self.isDeliveryKey(key) else {
            try await refusals.record(
                AuditEvent(actor: .anonymous, action: .cascadeRefused, subject: request.uri.path, detail: ["reason": "not_a_hand_down"]))
            throw APIError(
                .unauthorized, code: "not_a_hand_down",
                detail: "the signature was made for another message: a hand-down's Idempotency-Key is <warning>/<recipient>")
        }
        let body = Data(buffer: try await request.body.collect(upTo: maxBodyBytes))
        let upstream = try await authenticate(request, body: body)
        if let alert = Self.alert(of: body, contentType: request.headers[.contentType] ?? ""),
            case let areas = Self.areas(of: alert), !areas.isEmpty, !areas.contains(where: { $0.overlaps(nodeRegion) }),
            try await !holdsReplaced(alert)
        {
            try await refusals.record(
                AuditEvent(
                    actor: .upstream(upstream.name), action: .cascadeRefused, subject: request.uri.path,
                    detail: ["reason": "area_outside_node", "areas": areas.map(\.rawValue).joined(separator: " ")]))
            throw APIError(
                .forbidden, code: "area_outside_node",
                detail: "none of the warning's areas covers or lies within this node's region \(nodeRegion.rawValue)")
        }
        let path = (request.headers[.init("Warncast-Path")!] ?? "").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }
        if path.contains(node) {
            try await store.appendAudit(
                AuditEvent(
                    actor: .upstream(upstream.name), action: .cascadeLoop, subject: node, detail: ["path": path.joined(separator: ",")]
                ),
                at: now())
            throw APIError(
                .conflict, code: "cascade_loop",
                detail: "this node (\(node)) is already on the warning's path \(path.joined(separator: " → "))")
        }
        let acceptance: Acceptance
        do {
            acceptance = try await intake.submit(
                body, contentType: request.headers[.contentType] ?? "", principal: principal(upstream), logger: context.logger,
                handedDown: .init(path: path.isEmpty ? [upstream.name] : path, preApproved: upstream.approval == .preApproved))
        } catch let error as IntakeError {
            throw APIError(error)
        }
        let warning = acceptance.warning
        var duplicate = false
        if case .duplicate = acceptance { duplicate = true }
        var response = try context.responseEncoder.encode(
            WarningController.Accepted(
                id: warning.id, status: warning.status, location: "/v1/warnings/\(warning.id)", duplicate: duplicate),
            from: request, context: context)
        response.status = duplicate ? .ok : .created
        return response
    }

    /// Whether `key` is a delivery's idempotency key, `<warning>/<recipient>`.
    static func isDeliveryKey(_ key: String) -> Bool {
        guard let slash = key.firstIndex(of: "/"), !key.hasPrefix("GET ") else { return false }
        return slash != key.startIndex && key.index(after: slash) != key.endIndex
    }

    /// A hand-down's message, or nil when the body is not a CAP message (the intake then
    /// says what is wrong with it).
    static func alert(of body: Data, contentType: String) -> CAPAlert? {
        guard let format = try? CAPFormat(contentType: contentType) else { return nil }
        return try? CAPReader.read(body, format: format)
    }

    /// The division codes of a message's areas.
    static func areas(of alert: CAPAlert) -> [RegionCode] {
        alert.info.flatMap(\.area).flatMap(\.geocode)
            .filter { IntakeCheck.geocodeNames.contains($0.valueName.lowercased()) }
            .compactMap { RegionCode($0.value) }
    }

    /// Whether `alert` updates or lifts a warning this node holds: an Update that narrows a
    /// warning away from this node's region still replaces its copy here.
    private func holdsReplaced(_ alert: CAPAlert) async throws -> Bool {
        guard let type = MessageType(rawValue: alert.msgType), type != .alert else { return false }
        for reference in MessageReference.parseList(alert.references ?? "") ?? [] {
            if try await store.warning(sender: reference.sender, identifier: reference.identifier) != nil { return true }
        }
        return false
    }

    /// This node's report on a warning an upstream node handed down, with its own
    /// downstream nodes' reports.
    @Sendable func report(_ request: Request, context: WarncastRequestContext) async throws -> WarningReport {
        let id = Warning.ID(rawValue: try context.parameters.require("id"))
        let upstream = try await authenticate(request, body: Data())
        guard request.headers[.init("Idempotency-Key")!] == "GET \(DownstreamReports.reportPath(id.rawValue))" else {
            throw APIError(.unauthorized, code: "bad_signature", detail: "the signature was made for another request")
        }
        guard let warning = try await store.warning(id: id), warning.department == upstream.departmentID else {
            throw APIError.notFound("no warning \(id) from \(upstream.name)")
        }
        return try await reports.report(warningID: id, depth: WarningReportBuilder.depth(of: request), forUpstream: true)
    }

    /// The upstream node that signed the request: from its headers alone (`body` nil), or
    /// with the signature over `body` checked too.
    @discardableResult
    private func authenticate(_ request: Request, body: Data?) async throws -> WarncastConfiguration.Upstream {
        let (key, timestamp) = (request.headers[.init("Idempotency-Key")!], request.headers[.init("Warncast-Timestamp")!])
        let (keyID, signature) = (request.headers[.init("Warncast-Key-Id")!], request.headers[.init("Warncast-Signature")!])
        do {
            guard let body else {
                return try verifier.admit(idempotencyKey: key, timestamp: timestamp, keyID: keyID, signature: signature, now: now())
                    .upstream
            }
            return try verifier.verify(
                body: body, idempotencyKey: key, timestamp: timestamp, keyID: keyID, signature: signature, now: now())
        } catch {
            let (code, detail): (String, String) =
                switch error {
                case .unsigned: ("unsigned", "send Idempotency-Key and the Warncast-Timestamp, -Key-Id and -Signature headers")
                case .unknownKey(let id): ("unknown_upstream_key", "key \(id) is not one of cascade.upstream's keys")
                case .badSignature: ("bad_signature", "the signature does not verify")
                case .stale(let at): ("stale_signature", "timestamp \(at) is more than five minutes from now")
                case .ownKey: ("cascade_loop", "signed with this node's own key: its own message came back")
                }
            try await refusals.record(
                AuditEvent(actor: .anonymous, action: .cascadeRefused, subject: request.uri.path, detail: ["reason": code]))
            throw APIError(error == .ownKey ? .conflict : .unauthorized, code: code, detail: detail)
        }
    }
}
