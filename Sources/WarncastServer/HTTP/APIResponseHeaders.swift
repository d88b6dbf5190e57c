import Hummingbird

/// Headers every `/v1` answer carries, so that none can run as a page in a browser: the
/// API serves data (JSON, CSV, CAP as received), and a message's own bytes are whatever an
/// issuer sent. A browser that opens one does not guess another type (`nosniff`), and the
/// policy forbids scripts, styles, frames and requests from it (`sandbox` on top). A route's
/// errors get them too (an `HTTPError` becomes the documented JSON here rather than in
/// `InputGuardMiddleware`); a path that is no route of `/v1` gets its fixed JSON without.
struct APIResponseHeaders<Context: RequestContext>: RouterMiddleware {
    static var policy: String { "default-src 'none'; frame-ancestors 'none'; sandbox" }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            var response = try await next(request, context)
            Self.mark(&response.headers)
            return response
        } catch var error as APIError {
            Self.mark(&error.headers)
            throw error
        } catch let error as HTTPError {
            var refusal = APIError(routerError: error)
            Self.mark(&refusal.headers)
            throw refusal
        }
    }

    private static func mark(_ headers: inout HTTPFields) {
        if headers[.xContentTypeOptions] == nil { headers[.xContentTypeOptions] = "nosniff" }
        if headers[.contentSecurityPolicy] == nil { headers[.contentSecurityPolicy] = policy }
    }
}
