import Crypto
import Foundation

/// A bearer token. The secret is shown once at creation; the store keeps only its SHA-256.
public struct AccessToken: Sendable {
    /// Public identifier, safe to log and to name in `token revoke`.
    public let id: String
    /// The secret the caller presents as `Authorization: Bearer …`.
    public let secret: String

    /// A new token with 32 random bytes of secret.
    public static func generate() -> AccessToken {
        let id = "tok_" + randomBytes(6).hexString
        let secret = "wct_" + base64URL(randomBytes(32))
        return AccessToken(id: id, secret: secret)
    }

    /// The digest stored for a secret.
    public static func hash(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).hexString
    }

    private static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    private static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
