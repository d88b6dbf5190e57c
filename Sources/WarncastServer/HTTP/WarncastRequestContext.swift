import Foundation
import Hummingbird
import WarncastCore

/// The per-request context: Hummingbird's core storage plus the authenticated principal.
public struct WarncastRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `BearerAuthenticator` on routes that require a token.
    public var principal: Principal?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.principal = nil
    }

    /// JSON with sorted keys and unescaped slashes, so responses read well and diff cleanly.
    public var responseEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// The authenticated principal; routes behind the authenticator always have one.
    public func requirePrincipal() throws -> Principal {
        guard let principal else { throw APIError.unauthenticated("a bearer token is required") }
        return principal
    }
}
