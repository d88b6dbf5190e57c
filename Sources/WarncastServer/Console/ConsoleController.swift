import Foundation
import Hummingbird
import NIOCore
import NIOFoundationEssentialsCompat
import Synchronization
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
    let throttle = SignInThrottle()
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
    /// name within 15 minutes.
    @Sendable func signIn(_ request: Request, context: WarncastRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: 4096)
        let form = try JSONBody.decode(SignIn.self, from: body, expected: #"send {"username": "…", "password": "…"}"#)
        let at = now()
        if let wait = throttle.wait(for: form.username, at: at) {
            var error = APIError(
                .tooManyRequests, code: "too_many_attempts",
                detail: "too many wrong passwords for this user: try again in \(Int(wait.rounded(.up))) s, or ask an operator to reset it")
            error.headers[.retryAfter] = "\(Int(wait.rounded(.up)))"
            throw error
        }
        let account = ConsoleUser.isValidUsername(form.username) ? try await store.consoleUser(username: form.username) : nil
        // A hash is checked even for an unknown user, so the answer takes as long.
        let matches = ConsolePassword.verify(form.password, hash: account?.passwordHash ?? ConsolePassword.decoy)
        guard let user = account?.user, matches else {
            throttle.failed(form.username, at: at)
            try await refusals.record(
                AuditEvent(
                    actor: .anonymous, action: .userSignInRefused, subject: String(form.username.prefix(64)),
                    detail: ["why": account == nil ? "no such user" : "wrong password"]))
            throw APIError(.unauthorized, code: "bad_credentials", detail: "the user name or the password is wrong")
        }
        throttle.succeeded(form.username)
        let token = AccessToken.generate()
        // The token carries the account's name as it is: the two-person rule compares holders'
        // names, so the same person is the same whether signed in or holding a token. The
        // sign-in entry ties the session's token id to the account.
        let grant = user.sessionGrant(id: token.id, at: at, expiresAt: at.addingTimeInterval(ConsoleSession.lifetime))
        try await store.openSession(
            for: user.username, grant: grant, secretHash: AccessToken.hash(token.secret),
            audit: AuditEvent(
                actor: AuditActor(name: "console:\(user.username)"), action: .userSignedIn, subject: token.id,
                detail: ["user": user.username, "role": user.role.rawValue, "expires": grant.expiresAt?.text ?? "-"]))
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
        if let id = grant.departmentID, let found = try await store.department(id: id) {
            let events = found.events.map { code in
                EventInfo(code: code, name: catalogue.events.first { $0.code == code }?.names.first ?? code)
            }
            department = DepartmentInfo(id: found.id, name: found.name, kind: found.kind, senders: found.senders, events: events)
        }
        let scope = department != nil ? (try await store.department(id: grant.departmentID!)?.region ?? grant.region) : grant.region
        return SessionInfo(
            username: username, name: grant.name, role: grant.role, approvalRole: grant.approvalRole, region: scope,
            regionName: try await store.region(scope)?.name, department: department, csrf: ConsoleSession.csrf(for: secret),
            expiresAt: grant.expiresAt, node: title, timeZone: timeZone.identifier, offsetSeconds: timeZone.secondsFromGMT(for: now()))
    }

    /// Signs out: the session's token is revoked and the cookie cleared (204). Needs the
    /// CSRF token like any change.
    @Sendable func signOut(_ request: Request, context: WarncastRequestContext) async throws -> Response {
        let principal = try await BearerAuthenticator.principal(of: request, store: store, now: now())
        guard let secret = ConsoleSession.secret(of: request),
            let found = try await store.consoleSession(secretHash: AccessToken.hash(secret), at: now())
        else { throw APIError.unauthenticated("not signed in") }
        _ = try await store.revokeToken(
            id: principal.tokenID,
            audit: AuditEvent(
                actor: .principal(principal), action: .userSignedOut, subject: principal.tokenID, detail: ["user": found.username]))
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

    /// Divisions within the signed-in person's scope whose code starts with, or whose name
    /// contains, `q` (at least one character): the area picker's search.
    @Sendable func regions(_ request: Request, context: WarncastRequestContext) async throws -> RegionMatches {
        let principal = try await BearerAuthenticator.principal(of: request, store: store, now: now())
        guard let text = request.uri.queryParameters["q"].map(String.init)?.trimmingCharacters(in: .whitespaces),
            (1...40).contains(text.count)
        else { throw APIError.badQuery("q must be 1 to 40 characters: part of a name, or the first digits of a code") }
        let found = try await store.regions(matching: text, limit: 400)
        let visible = found.filter { $0.code.isWithin(principal.scope) || principal.scope.isWithin($0.code) }
        return RegionMatches(regions: visible.prefix(30).map { RegionMatch(code: $0.code, name: $0.name, tier: $0.code.tier) })
    }
}

/// Wrong passwords per user name: after `limit` within `window`, sign-ins for that name
/// wait until the oldest of them is `window` old. In memory: a restart forgets them.
final class SignInThrottle: Sendable {
    let limit = 5
    let window: TimeInterval = 15 * 60
    private let failures = Mutex<[String: [Date]]>([:])

    /// Seconds to wait before `username` may try again, or nil.
    func wait(for username: String, at now: Date) -> TimeInterval? {
        let username = Self.key(username)
        return failures.withLock { failures in
            let recent = (failures[username] ?? []).filter { now.timeIntervalSince($0) < window }
            failures[username] = recent.isEmpty ? nil : recent
            guard recent.count >= limit, let oldest = recent.first else { return nil }
            return window - now.timeIntervalSince(oldest)
        }
    }

    func failed(_ username: String, at now: Date) {
        failures.withLock { failures in
            // Bounded: a flood of made-up names cannot grow this without end.
            if failures.count > 10_000 { failures.removeAll() }
            failures[Self.key(username), default: []].append(now)
        }
    }

    func succeeded(_ username: String) {
        _ = failures.withLock { $0.removeValue(forKey: Self.key(username)) }
    }

    private static func key(_ username: String) -> String { String(username.prefix(64)) }
}
