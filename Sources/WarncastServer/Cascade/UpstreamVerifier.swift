import Crypto
import Foundation
import WarncastConfig
import WarncastCore

/// Recognises an upper-tier node by the Ed25519 signature on its request: the key id names
/// one of the configured upstream keys, the signature over the body (as docs/signing.md
/// describes) verifies with it, and the timestamp is within five minutes of now. A node's
/// own key is refused: that is its own message come back round.
public struct UpstreamVerifier: Sendable {
    public struct Known: Sendable {
        var upstream: WarncastConfiguration.Upstream
        /// The raw public key.
        var key: Data
    }

    let known: [String: Known]
    let ownKeyIDs: Set<String>
    /// How far a signature's timestamp may be from now.
    let window: TimeInterval = 300

    public enum Failure: Error, Equatable {
        case unsigned
        case unknownKey(String)
        case badSignature
        case stale(String)
        case ownKey
    }

    /// Keys that are not 32 bytes of base64 are skipped (the configuration loader refuses them).
    public init(upstream: [WarncastConfiguration.Upstream], ownKeyIDs: Set<String>) {
        var known: [String: Known] = [:]
        for node in upstream {
            for text in node.publicKeys {
                guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: Data(base64Encoded: text) ?? Data()) else { continue }
                known[MessageSigner.keyID(of: key)] = Known(upstream: node, key: key.rawRepresentation)
            }
        }
        self.known = known
        self.ownKeyIDs = ownKeyIDs
    }

    public var isEmpty: Bool { known.isEmpty }

    /// What the headers alone can tell, before the body is read: they are all there, the
    /// key is an upstream node's, the timestamp is fresh. A stranger is refused without
    /// the node reading (and holding) a body of up to `server.max_body_bytes`.
    public func admit(
        idempotencyKey: String?, timestamp: String?, keyID: String?, signature: String?, now: Date
    ) throws(Failure) -> Known {
        guard idempotencyKey != nil, let timestamp, let keyID, let signature, Data(base64Encoded: signature) != nil else {
            throw .unsigned
        }
        if ownKeyIDs.contains(keyID) { throw .ownKey }
        guard let node = known[keyID] else { throw .unknownKey(keyID) }
        guard let at = CAPTime.parse(timestamp) ?? Timestamp.parse(timestamp), abs(at.timeIntervalSince(now)) <= window else {
            throw .stale(timestamp)
        }
        return node
    }

    /// The upstream node that signed `body` with these headers, or why not.
    public func verify(
        body: Data, idempotencyKey: String?, timestamp: String?, keyID: String?, signature: String?, now: Date
    ) throws(Failure) -> WarncastConfiguration.Upstream {
        let node = try admit(idempotencyKey: idempotencyKey, timestamp: timestamp, keyID: keyID, signature: signature, now: now)
        guard let idempotencyKey, let timestamp, let bytes = signature.flatMap({ Data(base64Encoded: $0) }),
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: node.key),
            key.isValidSignature(bytes, for: MessageSigner.signedBytes(body: body, idempotencyKey: idempotencyKey, timestamp: timestamp))
        else { throw .badSignature }
        return node.upstream
    }
}
