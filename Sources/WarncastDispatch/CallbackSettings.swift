import Foundation
import Synchronization
import WarncastCore

/// How gateways report back: this node's base URL and the tokens that authenticate reports.
/// The base may only be known once the listener is bound (port 0), hence settable.
public final class CallbackSettings: Sendable {
    private let address: Mutex<String>
    public let tokens: CallbackToken
    /// This node's `node.name`, for the cascade path.
    public let node: String

    public init(base: String, tokens: CallbackToken, node: String = "") {
        address = Mutex(base)
        self.tokens = tokens
        self.node = node
    }

    public var base: String {
        get { address.withLock { $0 } }
        set { address.withLock { $0 = newValue } }
    }
}
