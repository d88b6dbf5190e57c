import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationEssentialsCompat
import WarncastCore
import WarncastStore

/// The console (`/console`): its page, script and style, and signing in and out. Everything
/// else the page does goes through the API (`/v1/…`) with the session's cookie, held to the
/// same roles and scopes as a token.
struct ConsoleController: Sendable {
    let store: any Store
    let title: String
    let timeZone: TimeZone
    let catalogue: EventCatalogue
    let refusals: AnonymousRefusals
    /// Reverse proxies whose X-Forwarded-For names the client (`server.trusted_proxies`).
    var trustedProxies: Set<String> = []
    let throttle = SignInThrottle()
    let hashing = PasswordChecks()
    let now: @Sendable () -> Date

    func register<Methods: RouterMethods>(on registrar: RouteRegistrar<Methods>)
    where Methods.Context == WarncastRequestContext {
        registrar.on(.get, "/console", use: page)
        registrar.on(.get, "/console/console.js", use: script)
        registrar.on(.get, "/console/console.css", use: style)
        registrar.on(.post, "/console/session", use: signIn)
        registrar.on(.get, "/console/session", use: session)
        registrar.on(.delete, "/console/session", use: signOut)
        registrar.on(.get, "/console/regions", use: regions)
        registrar.on(.get, "/console/places", use: places)
    }

    /// The console's own resources only: no inline script or style, no framing.
    static let headers: HTTPFields = [
        .contentSecurityPolicy:
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        .xContentTypeOptions: "nosniff",
        .init("Referrer-Policy")!: "no-referrer",
        .init("X-Frame-Options")!: "DENY",
        .cacheControl: "no-cache",
    ]

    private func asset(_ text: String, type: String) -> Response {
        var headers = Self.headers
        headers[.contentType] = type
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    @Sendable func page(_ request: Request, context: WarncastRequestContext) async throws -> Response {
        asset(ConsoleAssets.page(title: title), type: "text/html; charset=utf-8")
    }

    @Sendable func script(_ request: Request, context: WarncastRequestContext) async throws -> Response {
        asset(ConsoleAssets.script, type: "text/javascript; charset=utf-8")
    }

    @Sendable func style(_ request: Request, context: WarncastRequestContext) async throws -> Response {
        asset(ConsoleAssets.style, type: "text/css; charset=utf-8")
    }

    struct SignIn: Decodable {
        var username: String
        var password: String
    }

    /// What the page knows of its session.
    struct SessionInfo: ResponseEncodable {
        var username: String
        var name: String
        var role: Role
        var approvalRole: String?
        var region: RegionCode
        var regionName: String?
        var department: DepartmentInfo?
        /// Sent back as `X-CSRF-Token` with every change.
        var csrf: String
        var expiresAt: Timestamp?
        var node: String
        /// The node's zone, for times as people here read them (e.g. `Asia/Shanghai`).
        var timeZone: String
        var offsetSeconds: Int
    }

    struct DepartmentInfo: Codable {
        var id: String
        var name: String
        /// weather, water, natural-resources, forestry …
        var kind: String
        var senders: [String]
        /// The events it may issue, with their names.
        var events: [EventInfo]
    }

    struct EventInfo: Codable {
        var code: String
        var name: String
    }

    /// Signs in: 200 with the session and its cookie; 401 `bad_credentials` for an unknown
    /// user or a wrong password alike; 429 `too_many_attempts` after 5 failures for a user
    /// name from one address (an IPv6 /64) within 15 minutes, after 50 for the name from
    /// anywhere within 15 minutes (except from addresses it signed in from within 30 days),
    /// while too many names are being tried to count more, or while too many passwords are being
    /// checked at once; 415 for anything but JSON, and 403 for a request another site's page
    /// sent (a form cannot send JSON, and browsers say where a request comes from).
    @Sendable func signIn(_ request: Request, context: WarncastRequestContext) async throws -> Response {
        guard (request.headers[.contentType] ?? "").lowercased().hasPrefix("application/json") else {
            throw APIError(
                .unsupportedMediaType, code: "unsupported_media_type", detail: "send the user name and password as application/json")
        }
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], site == "cross-site" {
            throw APIError.forbidden("sign in from the console's own page")
        }
        let body = try await request.body.collect(upTo: 4096)
        let form = try JSONBody.decode(SignIn.self, from: body, expected: #"send {"username": "…", "password": "…"}"#)
        let at = now()
        // Behind nginx every sign-in comes from the proxy: the throttle would then lock a name
        // for everyone, and the audit could not say where a guess came from.
        let client =
            IPAddressText.client(
                peer: context.clientAddress, forwardedFor: request.headers[HTTPField.Name("X-Forwarded-For")!], trusted: trustedProxies)
            ?? "-"
        // Every refusal is audited with why and where from (within the anonymous budget).
        let audit = { (why: String) async throws in
            try await refusals.record(
                AuditEvent(
                    actor: .anonymous, action: .userSignInRefused, subject: String(form.username.prefix(64)),
                    detail: ["why": why, "client": client]))
        }
        let refuse = { (refusal: SignInThrottle.Refusal) async throws -> Never in
            try await audit(refusal.why)
            var error = APIError(.tooManyRequests, code: "too_many_attempts", detail: refusal.detail)
            error.headers[.retryAfter] = "\(Int(refusal.wait.rounded(.up)))"
            throw error
        }
        // Counted as a failure before the password is checked (and cleared when it matches),
        // so that attempts sent all at once are held to the limit too.
        if let refusal = throttle.attempt(form.username, from: client, at: at) { try await refuse(refusal) }
        let account = ConsoleUser.isValidUsername(form.username) ? try await store.consoleUser(username: form.username) : nil
        // A hash is checked even for an unknown user, so the answer takes as long. bcrypt is
        // slow on purpose: it runs on NIO's blocking pool, a few at a time, not on the threads
        // that serve everything else.
        guard let matches = try await hashing.verify(form.password, hash: account?.passwordHash ?? ConsolePassword.decoy) else {
            throttle.forget(form.username, from: client, at: at)
            try await refuse(.busy)
        }
        guard let user = account?.user, matches else {
            try await audit(account == nil ? "no such user" : "wrong password")
            throw APIError(.unauthorized, code: "bad_credentials", detail: "the user name or the password is wrong")
        }
        throttle.succeeded(form.username, from: client, at: at)
        // A browser signing in again gives up the session it had.
        if let previous = ConsoleSession.secret(of: request),
            let old = try await store.consoleSession(secretHash: AccessToken.hash(previous), at: at)
        {
            _ = try await store.revokeToken(
                id: old.grant.id,
                audit: AuditEvent(
                    actor: AuditActor(name: "console:\(old.username)"), action: .userSignedOut, subject: old.grant.id,
                    detail: ["user": old.username, "why": "signed in again"]))
        }
        let token = AccessToken.generate()
        // The token carries the account's name as it is: the two-person rule compares holders'
        // names, so the same person is the same whether signed in or holding a token. The
        // sign-in entry ties the session's token id to the account.
        let grant = user.sessionGrant(id: token.id, at: at, expiresAt: at.addingTimeInterval(ConsoleSession.lifetime))
        try await store.openSession(
            for: user.username, grant: grant, secretHash: AccessToken.hash(token.secret),
            audit: AuditEvent(
                actor: AuditActor(name: "console:\(user.username)"), action: .userSignedIn, subject: token.id,
                detail: ["user": user.username, "role": user.role.rawValue, "expires": grant.expiresAt?.text ?? "-", "client": client]))
        var response = try await info(username: user.username, grant: grant, secret: token.secret).response(from: request, context: context)
        response.headers[.setCookie] = ConsoleSession.setCookie(token.secret)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// The signed-in session: 200 with what the page needs, 401 when there is none.
    @Sendable func session(_ request: Request, context: WarncastRequestContext) async throws -> SessionInfo {
        guard let secret = ConsoleSession.secret(of: request),
            let found = try await store.consoleSession(secretHash: AccessToken.hash(secret), at: now())
        else { throw APIError.unauthenticated("not signed in, or the session has ended") }
        return try await info(username: found.username, grant: found.grant, secret: secret)
    }

    private func info(username: String, grant: TokenGrant, secret: String) async throws -> SessionInfo {
        var department: DepartmentInfo?
        // A department's region is the scope, as for a token (Principal.scope).
        var scope = grant.region
        if let id = grant.departmentID, let found = try await store.department(id: id) {
            let events = found.events.map { code in
                EventInfo(code: code, name: catalogue.events.first { $0.code == code }?.names.first ?? code)
            }
            department = DepartmentInfo(id: found.id, name: found.name, kind: found.kind, senders: found.senders, events: events)
            scope = found.region
        }
        return SessionInfo(
            username: username, name: grant.name, role: grant.role, approvalRole: grant.approvalRole, region: scope,
            regionName: try await store.region(scope)?.name, department: department, csrf: ConsoleSession.csrf(for: secret),
            expiresAt: grant.expiresAt, node: title, timeZone: timeZone.identifier, offsetSeconds: timeZone.secondsFromGMT(for: now()))
    }

    /// Signs out: the session's token is revoked and the cookie cleared (204). Needs the
    /// CSRF token like any change.
    @Sendable func signOut(_ request: Request, context: WarncastRequestContext) async throws -> Response {
        guard let secret = ConsoleSession.secret(of: request),
            let found = try await store.consoleSession(secretHash: AccessToken.hash(secret), at: now())
        else { throw APIError.unauthenticated("not signed in") }
        try ConsoleSession.requireCSRF(request, secret: secret)
        _ = try await store.revokeToken(
            id: found.grant.id,
            audit: AuditEvent(
                actor: AuditActor(name: "console:\(found.username)"), action: .userSignedOut, subject: found.grant.id,
                detail: ["user": found.username]))
        return Response(status: .noContent, headers: [.setCookie: ConsoleSession.clearCookie, .cacheControl: "no-store"])
    }

    struct RegionMatch: Codable {
        var code: RegionCode
        var name: String
        var tier: Tier
    }

    struct RegionMatches: ResponseEncodable {
        var regions: [RegionMatch]
    }

    /// Divisions within the signed-in person's scope (its own included) whose code starts
    /// with, or whose name contains, `q` (at least one character): the area picker's search.
    @Sendable func regions(_ request: Request, context: WarncastRequestContext) async throws -> RegionMatches {
        let principal = try await BearerAuthenticator.principal(of: request, store: store, now: now())
        guard let text = request.uri.queryParameters["q"].map(String.init)?.trimmingCharacters(in: .whitespaces),
            (1...40).contains(text.count)
        else { throw APIError.badQuery("q must be 1 to 40 characters: part of a name, or the first digits of a code") }
        // Only what lies within the scope: the intake refuses any other area.
        let found = try await store.regions(matching: text, within: principal.scope, limit: 30)
        return RegionMatches(regions: found.map { RegionMatch(code: $0.code, name: $0.name, tier: $0.code.tier) })
    }
}

extension ConsoleController {
    struct Place: Codable {
        var code: RegionCode
        var name: String
        var longitude: Double?
        var latitude: Double?
    }

    struct Places: ResponseEncodable {
        var places: [Place]
    }

    /// Where the divisions `codes` (comma-separated, at most 500) lie, for those within the
    /// signed-in person's scope or around it: the coverage picture places counties by them.
    @Sendable func places(_ request: Request, context: WarncastRequestContext) async throws -> Places {
        let principal = try await BearerAuthenticator.principal(of: request, store: store, now: now())
        let text = request.uri.queryParameters["codes"].map(String.init) ?? ""
        let parts = text.split(separator: ",").map(String.init)
        guard (1...500).contains(parts.count) else {
            throw APIError.badQuery("codes must list 1 to 500 division codes, separated by commas")
        }
        var codes: [RegionCode] = []
        for part in parts {
            guard let code = RegionCode(part) else { throw APIError.badQuery("'\(part.prefix(20))' is not a division code") }
            codes.append(code)
        }
        let visible = try await store.regions(codes: codes).filter { principal.maySee(areas: [$0.code]) }
        return Places(places: visible.map { Place(code: $0.code, name: $0.name, longitude: $0.longitude, latitude: $0.latitude) })
    }
}
