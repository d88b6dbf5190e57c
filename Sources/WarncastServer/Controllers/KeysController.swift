import Hummingbird
import WarncastDispatch

/// `/.well-known/warncast-keys`: the public keys that verify this node's messages.
struct KeysController {
    let keys: [SigningKeyring.PublishedKey]

    func register<Methods: RouterMethods>(on registrar: RouteRegistrar<Methods>)
    where Methods.Context == WarncastRequestContext {
        registrar.on(.get, "/.well-known/warncast-keys", use: list)
    }

    struct KeyList: ResponseEncodable {
        var keys: [SigningKeyring.PublishedKey]
    }

    @Sendable func list(_ request: Request, context: WarncastRequestContext) async throws -> KeyList {
        KeyList(keys: keys)
    }
}

extension SigningKeyring.PublishedKey: ResponseEncodable {}
