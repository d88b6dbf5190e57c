import Crypto
import Foundation
import WarncastCore

/// Decides whether a pushed message came from the node, recently, and says what its
/// headers say (docs/signing.md): signed by a pinned key, over `warncast-v1`, the
/// timestamp, the idempotency key and the body; signed within `freshness` of our clock; and
/// a body for the same idempotency key. Pure: the keys and the time are passed in.
public struct MessageVerifier: Sendable {
    public var freshness: TimeInterval
    /// This terminal's recipient id: a message's idempotency key must be its warning's id,
    /// a slash and this id, or a message captured on its way to one village could be played
    /// in another. Nil checks nothing (tests of the signature alone).
    public var terminal: String?

    public init(freshness: TimeInterval, terminal: String? = nil) {
        self.freshness = freshness
        self.terminal = terminal
    }

    /// What the headers alone can tell, before the body is read: all four are there and
    /// the timestamp is within `freshness`. Nil when the message may go on to `check`.
    public func precheck(_ request: SignedRequest, now: Date) -> Refusal? {
        guard let key = request.idempotencyKey, let timestamp = request.timestamp, let keyID = request.keyID,
            let signature = request.signature, !key.isEmpty, !timestamp.isEmpty, !keyID.isEmpty, !signature.isEmpty
        else { return .unsigned }
        guard let signed = Timestamp.parse(timestamp), abs(signed.timeIntervalSince(now)) <= freshness else { return .stale }
        return nil
    }

    public func check(_ request: SignedRequest, keys: KeySet, now: Date) -> Result<BroadcastMessage, Refusal> {
        guard let key = request.idempotencyKey, let timestamp = request.timestamp, let keyID = request.keyID,
            let signature = request.signature, !key.isEmpty, !timestamp.isEmpty, !keyID.isEmpty, !signature.isEmpty
        else { return .failure(.unsigned) }
        guard let raw = keys.rawKey(id: keyID), let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
            return .failure(.unknownKey)
        }
        guard
            MessageSigner.verify(
                body: request.body, idempotencyKey: key, timestamp: timestamp, signature: signature, publicKey: publicKey)
        else { return .failure(.badSignature) }
        guard let signed = Timestamp.parse(timestamp), abs(signed.timeIntervalSince(now)) <= freshness else {
            return .failure(.stale)
        }
        // A retired key still verifies what it signed before it was retired, nothing after.
        if let retired = keys.key(id: keyID)?.retiredAt.flatMap(Timestamp.parse), signed > retired {
            return .failure(.retiredKey)
        }
        guard let message = try? JSONDecoder().decode(BroadcastMessage.self, from: request.body),
            message.idempotencyKey == key
        else { return .failure(.badPayload) }
        // The key is `<warning>/<terminal id>`, whole: a suffix would let a message for a
        // recipient whose id ends in `/<this id>` (ids are free text) play here too.
        if let terminal, message.warning.map({ key != $0 + "/" + terminal }) ?? true {
            return .failure(.otherTerminal)
        }
        return .success(message)
    }
}
