import Foundation
import Hummingbird
import WarncastCore

/// The outermost layer of every route: refuses a URI carrying a control character
/// (`%00`, `%1B` …) before anything reads it, and turns every error the router or a body
/// limit raises on its own (no route, wrong method, body too large) into the documented
/// JSON `{error, detail}`; an answer to a body that was too large also closes the
/// connection, so a client still sending it is not left waiting. A path that exists with
/// other methods answers 405 with `Allow`, not 404.
struct InputGuardMiddleware: RouterMiddleware {
    typealias Context = WarncastRequestContext
    let routes: RouteTable

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if let control = ControlCharacters.firstEscaped(inURI: request.uri.string) {
            throw APIError.controlCharacterInURL(control)
        }
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            if error.status == .notFound {
                let allowed = routes.methods(matching: request.uri.path)
                if !allowed.isEmpty && !allowed.contains(request.method.rawValue) {
                    var refusal = APIError(routerError: HTTPError(.methodNotAllowed))
                    refusal.headers = [.allow: allowed.joined(separator: ", ")]
                    throw refusal
                }
            }
            throw APIError(routerError: error)
        }
    }
}

extension APIError {
    static func controlCharacter(_ value: UInt32) -> APIError {
        APIError(.badRequest, code: IntakeError.controlCharacter(value).code, detail: IntakeError.controlCharacter(value).detail)
    }

    static func controlCharacterInURL(_ value: UInt32) -> APIError {
        APIError(
            .badRequest, code: IntakeError.controlCharacter(value).code,
            detail: "the URL contains the control character U+\(String(format: "%04X", value)); a URL may carry none")
    }

    /// The JSON form of an error Hummingbird raised itself.
    init(routerError error: HTTPError) {
        let code: String =
            switch error.status {
            case .notFound: "not_found"
            case .methodNotAllowed: "method_not_allowed"
            case .contentTooLarge: "body_too_large"
            case .unsupportedMediaType: "unsupported_media_type"
            case .badRequest: "bad_request"
            default: "http_\(error.status.code)"
            }
        let detail: String =
            switch error.status {
            case .notFound: "no such route; see docs/api.md"
            case .methodNotAllowed: "this route does not take that method"
            case .contentTooLarge: "the body is larger than this route accepts (see docs/api.md)"
            default: error.body ?? error.status.reasonPhrase
            }
        self.init(error.status, code: code, detail: detail)
    }
}
