import Foundation
import Hummingbird
import NIOCore
import NIOFoundationEssentialsCompat
import WarncastCore
import WarncastDispatch
import WarncastStore

/// `/v1/warnings`: submit CAP warnings and read them back, scoped to the caller's region.
struct WarningController {
    let store: any Store
    let intake: WarningIntake
    let maxBodyBytes: Int
    /// The node's language and the SMS channel's length limit, for previews.
    var language = "zh-CN"
    var smsLimit = 670

    func register<Methods: RouterMethods>(on registrar: RouteRegistrar<Methods>)
    where Methods.Context == WarncastRequestContext {
        registrar.on(.post, "/warnings", use: submit)
        registrar.on(.post, "/previews", use: preview)
        registrar.on(.get, "/warnings", use: list)
        registrar.on(.get, "/warnings/{id}", use: show)
        registrar.on(.get, "/warnings/{id}/cap", use: raw)
    }

    /// The answer to an accepted submission.
    struct Accepted: ResponseEncodable {
        var id: Warning.ID
        var status: WarningStatus
        var location: String
        var duplicate: Bool
    }

    /// A warning checked as a submission would be, stored nowhere: what its recipients would
    /// get on each channel, or the refusal a submission would get.
    @Sendable func preview(_ request: Request, context: WarncastRequestContext) async throws -> MessagePreviewAnswer {
        let principal = try context.requirePrincipal()
        guard let body = try? await request.body.collect(upTo: maxBodyBytes) else {
            throw APIError(IntakeError.bodyTooLarge(limit: maxBodyBytes))
        }
        do {
            let warning = try await intake.preview(
                Data(buffer: body), contentType: request.headers[.contentType] ?? "", principal: principal)
            return MessagePreviewAnswer(
                level: warning.level, areas: warning.areas, preview: MessagePreview(of: warning, language: language, smsLimit: smsLimit))
        } catch let error as IntakeError {
            throw APIError(error)
        }
    }

    struct MessagePreviewAnswer: ResponseEncodable {
        var level: Level
        var areas: [RegionCode]
        var preview: MessagePreview
    }

    @Sendable func submit(_ request: Request, context: WarncastRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxBodyBytes)
        } catch {
            let refusal = IntakeError.bodyTooLarge(limit: maxBodyBytes)
            try await intake.refuse(refusal, identifier: nil, principal: principal, logger: context.logger)
            throw APIError(refusal)
        }
        let contentType = request.headers[.contentType] ?? ""
        let acceptance: Acceptance
        do {
            acceptance = try await intake.submit(
                Data(buffer: body), contentType: contentType, principal: principal, logger: context.logger)
        } catch let error as IntakeError {
            throw APIError(error)
        }
        let warning = acceptance.warning
        let location = "/v1/warnings/\(warning.id)"
        let duplicate: Bool
        if case .duplicate = acceptance { duplicate = true } else { duplicate = false }
        var response = try context.responseEncoder.encode(
            Accepted(id: warning.id, status: warning.status, location: location, duplicate: duplicate),
            from: request, context: context)
        response.status = duplicate ? .ok : .created
        response.headers[.location] = location
        return response
    }

    @Sendable func show(_ request: Request, context: WarncastRequestContext) async throws -> Warning {
        try await store.warning(id: Warning.ID(rawValue: context.parameters.require("id")), visibleTo: context.requireReader())
    }

    @Sendable func raw(_ request: Request, context: WarncastRequestContext) async throws -> Response {
        let id = Warning.ID(rawValue: try context.parameters.require("id"))
        _ = try await store.warning(id: id, visibleTo: context.requireReader())
        guard let raw = try await store.rawMessage(id: id) else {
            throw APIError.notFound("no warning '\(id)' visible to this token")
        }
        let type = raw.format == .xml ? "application/cap+xml" : "application/json"
        // The issuer's bytes, which may hold anything a namespace allows (a script element
        // in an XHTML one): saved as a file, never shown as a page (APIResponseHeaders too).
        let file = "\(id.rawValue.filter { $0.isLetter || $0.isNumber || $0 == "-" }).\(raw.format == .xml ? "xml" : "json")"
        return Response(
            status: .ok, headers: [.contentType: type, .contentDisposition: "attachment; filename=\"\(file)\""],
            body: .init(byteBuffer: ByteBuffer(data: raw.data)))
    }

    /// A page of warnings.
    struct Listing: ResponseEncodable {
        var warnings: [Warning]
        var count: Int
    }

    @Sendable func list(_ request: Request, context: WarncastRequestContext) async throws -> Listing {
        let principal = try context.requireReader()
        let query = try Self.query(from: request.uri.queryParameters, scope: principal.scope)
        let warnings = try await store.warnings(query)
        return Listing(warnings: warnings, count: warnings.count)
    }

    static func query(from parameters: Parameters, scope: RegionCode) throws -> WarningQuery {
        var query = WarningQuery(visibleTo: scope)
        if let text = parameters["status"] {
            guard let status = WarningStatus(rawValue: String(text)) else {
                throw APIError.badQuery("status must be one of \(WarningStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            query.status = status
        }
        if let text = parameters["level"] {
            guard let level = Level(rawValue: String(text)) else {
                throw APIError.badQuery("level must be one of blue, yellow, orange, red")
            }
            query.level = level
        }
        if let text = parameters["region"] {
            guard let region = RegionCode(String(text)) else {
                throw APIError.badQuery("region '\(text)' is not a division code")
            }
            query.region = region
        }
        for (name, keyPath) in [("since", \WarningQuery.since), ("until", \WarningQuery.until)]
            as [(Substring, WritableKeyPath<WarningQuery, Date?>)]
        {
            if let text = parameters[name] {
                guard let time = Timestamp.parse(String(text)) else {
                    throw APIError.badQuery("\(name) must be a time with an offset, e.g. 2026-07-01T08:00:00+08:00 or 2026-07-01T00:00:00Z")
                }
                query[keyPath: keyPath] = time
            }
        }
        if let text = parameters["department"] {
            query.department = String(text)
        }
        if let text = parameters["late"] {
            guard text == "true" || text == "false" else { throw APIError.badQuery("late must be true or false") }
            query.lateOnly = text == "true"
        }
        if let text = parameters["limit"] {
            guard let limit = Int(text), (1...1000).contains(limit) else {
                throw APIError.badQuery("limit must be a whole number from 1 to 1000")
            }
            query.limit = limit
        }
        return query
    }

}

extension Warning: ResponseEncodable {}
