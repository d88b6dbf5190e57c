import Foundation

/// A pushed request as the receiver sees it: the four signing headers (nil when absent)
/// and the body exactly as received.
public struct SignedRequest: Sendable {
    public var idempotencyKey: String?
    public var timestamp: String?
    public var keyID: String?
    public var signature: String?
    public var body: Data

    public init(idempotencyKey: String?, timestamp: String?, keyID: String?, signature: String?, body: Data) {
        self.idempotencyKey = idempotencyKey
        self.timestamp = timestamp
        self.keyID = keyID
        self.signature = signature
        self.body = body
    }
}
