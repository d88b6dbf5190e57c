import Foundation
import Hummingbird
import WarncastCore
import WarncastStore

/// The recipients registry over the API: operators list, add, replace and remove recipients
/// within their region; auditors list them.
struct RecipientController {
    let store: any Store
    let channels: Set<String>
    /// How recipients' secrets are kept; nil: plain SHA-256.
    let secrets: RecipientSecrets?

    func register<Methods: RouterMethods>(on registrar: RouteRegistrar<Methods>)
    where Methods.Context == WarncastRequestContext {
        registrar.on(.get, "/recipients", use: recipients)
        registrar.on(.post, "/recipients", use: addRecipients)
        registrar.on(.delete, "/recipients/{id}", use: removeRecipient)
    }

    struct RecipientList: ResponseEncodable {
        var recipients: [Recipient]
        var count: Int
    }

    @Sendable func recipients(_ request: Request, context: WarncastRequestContext) async throws -> RecipientList {
        let principal = try context.requirePrincipal()
        guard [.operator, .auditor].contains(principal.role) else {
            throw APIError.forbidden("only operator and auditor tokens may list recipients")
        }
        let channel = request.uri.queryParameters["channel"].map(String.init)
        var region = principal.scope
        if let text = request.uri.queryParameters["region"] {
            guard let code = RegionCode(String(text)), code.isWithin(principal.scope) else {
                throw APIError.badQuery("region must be a division code within \(principal.scope)")
            }
            region = code
        }
        let list = try await store.recipients(channel: channel, within: region, limit: 10_000)
        return RecipientList(recipients: list, count: list.count)
    }

    /// A recipient as an operator adds it; `secret` is what it acknowledges with.
    struct NewRecipient: Decodable {
        var id: String
        var channel: String
        var region: String
        var name: String
        var address: String
        var secret: String?
        var options: [String: String]?
    }

    struct Saved: ResponseEncodable {
        var saved: Int
    }

    @Sendable func addRecipients(_ request: Request, context: WarncastRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        guard principal.role == .operator else { throw APIError.forbidden("only operator tokens may add recipients") }
        let body = try await request.body.collect(upTo: 16 << 20)
        let list = try JSONBody.decode([NewRecipient].self, from: body, expected: "send a JSON array of recipients")
        var rows: [(recipient: Recipient, secretHash: String?)] = []
        for (index, item) in list.enumerated() {
            guard channels.contains(item.channel) else {
                throw APIError(.unprocessableContent, code: "unknown_channel", detail: "[\(index)]: unknown channel '\(item.channel)'")
            }
            guard let region = RegionCode(item.region), region.isWithin(principal.scope) else {
                throw APIError(
                    .unprocessableContent, code: "invalid_region_code",
                    detail: "[\(index)]: '\(item.region)' is not a division code within \(principal.scope)")
            }
            guard !item.id.isEmpty, !item.address.isEmpty else {
                throw APIError(.unprocessableContent, code: "missing_field", detail: "[\(index)]: id and address are required")
            }
            if let problem = RecipientCSV.addressProblem(item.address) {
                throw APIError(.unprocessableContent, code: "invalid_address", detail: "[\(index)]: \(problem)")
            }
            let recipient = Recipient(
                id: item.id, channel: item.channel, region: region, name: item.name, address: item.address,
                options: item.options ?? [:])
            rows.append((recipient, item.secret.map { secrets?.hash($0) ?? AccessToken.hash($0) }))
        }
        do {
            try await store.saveRecipients(
                rows, within: principal.scope,
                audit: AuditEvent(
                    actor: .principal(principal), action: .recipientsSaved, subject: "api",
                    detail: ["count": String(rows.count), "region": principal.scope.rawValue]))
        } catch let error as StoreError {
            guard case .recipientOutOfScope = error else { throw error }
            throw APIError(.forbidden, code: "recipient_out_of_scope", detail: error.description)
        }
        var response = try context.responseEncoder.encode(Saved(saved: rows.count), from: request, context: context)
        response.status = .created
        return response
    }

    struct Removed: ResponseEncodable {
        var id: String
        var removed: Bool
    }

    /// Takes one recipient out of later warnings' plans (its deliveries so far stay).
    @Sendable func removeRecipient(_ request: Request, context: WarncastRequestContext) async throws -> Removed {
        let principal = try context.requirePrincipal()
        guard principal.role == .operator else { throw APIError.forbidden("only operator tokens may remove recipients") }
        let id = try context.parameters.require("id")
        let removed: Bool
        do {
            removed = try await store.removeRecipient(
                id: id, within: principal.scope,
                audit: AuditEvent(actor: .principal(principal), action: .recipientRemoved, subject: id))
        } catch let error as StoreError {
            guard case .recipientOutOfScope = error else { throw error }
            throw APIError(.forbidden, code: "recipient_out_of_scope", detail: error.description)
        }
        guard removed else { throw APIError.notFound("no recipient '\(id)'") }
        return Removed(id: id, removed: true)
    }
}

extension Recipient: ResponseEncodable {}
