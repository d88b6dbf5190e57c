import Foundation
import Hummingbird
import Logging
import WarncastCore
import WarncastStore

/// Resolves `Authorization: Bearer <token>` to a principal, or answers 401.
struct BearerAuthenticator: RouterMiddleware {
    typealias Context = WarncastRequestContext
    let store: any Store
    let now: @Sendable () -> Date

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            throw APIError.unauthenticated("send the token as 'Authorization: Bearer <token>'")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw APIError.unauthenticated("the Authorization header must use the Bearer scheme")
        }
        let secret = parts[1].trimmingCharacters(in: .whitespaces)
        guard let principal = try await store.principal(secretHash: AccessToken.hash(secret), at: now()) else {
            throw APIError.unauthenticated("the token is unknown, revoked or expired")
        }
        var context = context
        context.principal = principal
        context.logger[metadataKey: "principal"] = .string(principal.tokenID)
        return try await next(request, context)
    }
}
