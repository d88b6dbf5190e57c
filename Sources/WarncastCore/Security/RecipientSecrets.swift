import Crypto
import Foundation

/// How a recipient's secret (what a terminal acknowledges with) is kept: an HMAC-SHA256 of
/// it under a key only this node holds (the keyring's callback secret), written `k1:<hex>`.
/// Operators choose these secrets, often short; an unkeyed hash of one taken from a copy of
/// the database could be guessed offline, a keyed one cannot without the keyring. Secrets
/// stored before this (plain SHA-256) are still recognised.
public struct RecipientSecrets: Sendable {
    private let secret: Data
    private var key: SymmetricKey { SymmetricKey(data: secret) }

    public init(key: Data) {
        secret = key
    }

    static let prefix = "k1:"

    /// What is stored for `secret`.
    public func hash(_ secret: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data(("warncast-recipient-v1\n" + secret).utf8), using: key)
        return Self.prefix + Data(code).hexString
    }

    /// Every stored form `secret` may have: the keyed one, and the plain SHA-256 of
    /// recipients saved before secrets were keyed.
    public func candidates(_ secret: String) -> [String] {
        [hash(secret), AccessToken.hash(secret)]
    }
}
