import Foundation
import Hummingbird
import NIOCore
import WarncastCore
import WarncastStore

/// The per-request context: Hummingbird's core storage plus the authenticated principal.
public struct WarncastRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `BearerAuthenticator` on routes that require a token.
    public var principal: Principal?
    /// The peer of the connection the request came on, taken as the request arrives (a
    /// channel forgets it once closed).
    private let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.principal = nil
        self.remoteAddress = source.channel.remoteAddress
    }

    /// The address the request came from (the proxy's, behind a reverse proxy), as text.
    /// Written out only when asked: a console login wants it, and every terminal's
    /// acknowledgement builds a context.
    public var clientAddress: String? { remoteAddress?.ipAddress }

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

    /// The principal, if its role may read warnings and what hangs off them.
    func requireReader() throws -> Principal {
        let principal = try requirePrincipal()
        guard principal.role.mayReadWarnings else {
            throw APIError.forbidden("a \(principal.role.rawValue) token may not read warnings")
        }
        return principal
    }
}

extension Store {
    /// The warning `id`, if `principal` may see it; otherwise 404, as if it did not exist.
    func warning(id: Warning.ID, visibleTo principal: Principal) async throws -> Warning {
        guard let warning = try await warning(id: id), principal.maySee(areas: warning.areas) else {
            throw APIError.notFound("no warning '\(id)' visible to this token")
        }
        return warning
    }
}
