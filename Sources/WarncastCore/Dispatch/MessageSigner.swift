import Crypto
import Foundation

/// Signs every outgoing message with Ed25519 so a receiver can tell it came from this node.
///
/// The signature covers `warncast-v1`, the timestamp, the idempotency key and the body, each
/// on its own line (the body last, as raw bytes). See docs/signing.md.
public struct MessageSigner: Sendable {
    public let keyID: String
    private let box: KeyBox

    /// Holds the private key. swift-crypto does not mark keys `Sendable` on Linux; this one is
    /// a `let` never mutated after `init`, and signing only reads it, so sharing it across
    /// tasks is safe. Hence unchecked.
    private final class KeyBox: @unchecked Sendable {
        let key: Curve25519.Signing.PrivateKey

        init(_ key: Curve25519.Signing.PrivateKey) {
            self.key = key
        }
    }

    private var key: Curve25519.Signing.PrivateKey { box.key }

    public init(key: Curve25519.Signing.PrivateKey) {
        box = KeyBox(key)
        keyID = Self.keyID(of: key.publicKey)
    }

    /// The headers to send with `body`.
    public func headers(body: Data, idempotencyKey: String, timestamp: String) throws -> [String] {
        let signature = try key.signature(for: Self.signedBytes(body: body, idempotencyKey: idempotencyKey, timestamp: timestamp))
        return [
            "Idempotency-Key: \(idempotencyKey)",
            "Warncast-Timestamp: \(timestamp)",
            "Warncast-Key-Id: \(keyID)",
            "Warncast-Signature: \(Data(signature).base64EncodedString())",
        ]
    }

    public var publicKey: Curve25519.Signing.PublicKey { key.publicKey }

    /// The bytes that are signed.
    public static func signedBytes(body: Data, idempotencyKey: String, timestamp: String) -> Data {
        var bytes = Data("warncast-v1\n\(timestamp)\n\(idempotencyKey)\n".utf8)
        bytes.append(body)
        return bytes
    }

    /// Whether `signature` (base64) is a valid signature by `publicKey`.
    public static func verify(
        body: Data, idempotencyKey: String, timestamp: String, signature: String, publicKey: Curve25519.Signing.PublicKey
    ) -> Bool {
        guard let raw = Data(base64Encoded: signature) else { return false }
        return publicKey.isValidSignature(raw, for: signedBytes(body: body, idempotencyKey: idempotencyKey, timestamp: timestamp))
    }

    /// First 16 hex digits of the SHA-256 of the raw public key.
    public static func keyID(of publicKey: Curve25519.Signing.PublicKey) -> String {
        String(SHA256.hash(data: publicKey.rawRepresentation).hexString.prefix(16))
    }
}
