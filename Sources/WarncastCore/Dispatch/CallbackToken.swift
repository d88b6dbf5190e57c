import Crypto
import Foundation

/// Proves that a delivery report (an SMS gateway's DLR, a carrier's status callback) is
/// about a delivery this node sent: the callback URL handed to the gateway carries the
/// delivery's id and an HMAC-SHA256 of it under a secret only this node knows. Anybody can
/// call the URL; only a gateway that was given it can name a delivery and a matching token.
public struct CallbackToken: Sendable {
    private let secret: Data
    private var key: SymmetricKey { SymmetricKey(data: secret) }

    public init(secret: Data) {
        self.secret = secret
    }

    /// A new random 32-byte secret.
    public static func newSecret() -> Data {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
    }

    /// The token for delivery `id` (64 hex digits).
    public func token(forDelivery id: Int64) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data(Self.message(id).utf8), using: key)).hexString
    }

    /// Whether `token` is the one for delivery `id`, compared in constant time.
    public func verify(_ token: String, forDelivery id: Int64) -> Bool {
        guard let bytes = Self.bytes(hex: token) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(bytes, authenticating: Data(Self.message(id).utf8), using: key)
    }

    private static func message(_ id: Int64) -> String { "warncast-receipt-v1\n\(id)" }

    private static func bytes(hex: String) -> Data? {
        guard hex.utf8.count == 64 else { return nil }
        var data = Data(capacity: 32)
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            data.append(byte)
            index = next
        }
        return data
    }
}
