import Foundation
import Hummingbird
import Logging
import WarncastCore
import WarncastStore

/// Resolves `Authorization: Bearer <token>`, or else a console session's cookie, to a
/// principal, or answers 401. A request that changes something with the cookie needs the
/// session's CSRF token in `X-CSRF-Token` (else 403 `csrf_failed`).
struct BearerAuthenticator: RouterMiddleware {
    typealias Context = WarncastRequestContext
    let store: any Store
    let now: @Sendable () -> Date

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let principal = try await Self.principal(of: request, store: store, now: now())
        var context = context
        context.principal = principal
        context.logger[metadataKey: "principal"] = .string(principal.tokenID)
        return try await next(request, context)
    }

    static func principal(of request: Request, store: any Store, now: Date) async throws -> Principal {
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else {
                throw APIError.unauthenticated("the Authorization header must use the Bearer scheme")
            }
            let secret = String(parts[1].trimmingASCIISpaces)
            guard let principal = try await store.principal(secretHash: AccessToken.hash(secret), at: now) else {
                throw APIError.unauthenticated("the token is unknown, revoked or expired")
            }
            return principal
        }
        guard let secret = ConsoleSession.secret(of: request) else {
            throw APIError.unauthenticated("send the token as 'Authorization: Bearer <token>', or sign in at /console")
        }
        guard let principal = try await store.principal(secretHash: AccessToken.hash(secret), at: now) else {
            throw APIError.unauthenticated("the console session has ended: sign in again")
        }
        if ConsoleSession.changes(request.method) { try ConsoleSession.requireCSRF(request, secret: secret) }
        return principal
    }
}
