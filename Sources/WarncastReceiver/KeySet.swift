import Crypto
import Foundation
import WarncastCore

/// The node's public signing keys this terminal trusts, as `/.well-known/warncast-keys`
/// lists them and `keys.json` keeps them. Keys are only ever added: a key retired at the
/// node still verifies the messages it signed, and a pinned key is never replaced.
public struct KeySet: Sendable, Equatable, Codable {
    /// One public key as the node publishes it.
    public struct Key: Sendable, Equatable, Codable {
        /// First 16 hex digits of the SHA-256 of the raw key.
        public var id: String
        public var algorithm: String
        /// The raw 32-byte Ed25519 key, base64.
        public var publicKey: String
        /// `active` or `retired` at the node when last fetched.
        public var status: String?
        /// When the node retired it: messages signed after that are refused.
        public var retiredAt: String?
        /// The retirement came over plain HTTP (`PinnedKeys.Updates.retirementsOnly`),
        /// where anybody on the way could have written it: a later list that shows the key
        /// active takes it back.
        public var retirementUnverified: Bool?

        public init(id: String, algorithm: String = "Ed25519", publicKey: String, status: String? = nil, retiredAt: String? = nil) {
            self.retiredAt = retiredAt
            self.id = id
            self.algorithm = algorithm
            self.publicKey = publicKey
            self.status = status
        }

        /// The raw key, if it is an Ed25519 key whose id matches it.
        var rawKey: Data? {
            guard algorithm == "Ed25519", let raw = Data(base64Encoded: publicKey), raw.count == 32,
                let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw), MessageSigner.keyID(of: key) == id
            else { return nil }
            return raw
        }
    }

    public private(set) var keys: [Key]

    public init(keys: [Key] = []) {
        self.keys = []
        add(keys)
    }

    public var isEmpty: Bool { keys.isEmpty }

    /// The raw public key with this id.
    public func rawKey(id: String) -> Data? {
        keys.first { $0.id == id }?.rawKey
    }

    public func key(id: String) -> Key? {
        keys.first { $0.id == id }
    }

    /// Adds the usable keys of `fetched` not yet known; a known id keeps its pinned key and
    /// takes only the new status. Returns the ids added.
    @discardableResult
    public mutating func add(_ fetched: [Key]) -> [String] {
        var added: [String] = []
        for key in fetched where key.rawKey != nil {
            if let index = keys.firstIndex(where: { $0.id == key.id }) {
                if key.retiredAt == nil, keys[index].retirementUnverified == true {
                    keys[index].retiredAt = nil
                    keys[index].retirementUnverified = nil
                }
                if key.retiredAt != nil { keys[index].retirementUnverified = nil }
                keys[index].status = key.status ?? keys[index].status
                keys[index].retiredAt = key.retiredAt ?? keys[index].retiredAt
            } else {
                keys.append(key)
                added.append(key.id)
            }
        }
        return added
    }

    /// Takes what `fetched`, read over plain HTTP, says of the pinned keys' retirements, so
    /// that nobody on the way can silence the station for good: a retirement is dated no
    /// earlier than `now` (a forged date in the past would refuse what was signed before
    /// it was seen), a retirement already taken is never moved, and one taken this way is
    /// dropped when a later list shows the key active. Keys not pinned are left out.
    /// Returns the ids retired and those taken back.
    public mutating func takeUnverifiedRetirements(_ fetched: [Key], now: Date) -> (retired: [String], restored: [String]) {
        var retired: [String] = []
        var restored: [String] = []
        for key in fetched {
            guard let index = keys.firstIndex(where: { $0.id == key.id }) else { continue }
            if let announced = key.retiredAt.flatMap(Timestamp.parse) {
                guard keys[index].retiredAt == nil else { continue }
                keys[index].retiredAt = Timestamp.string(max(announced, now))
                keys[index].status = "retired"
                keys[index].retirementUnverified = true
                retired.append(key.id)
            } else if keys[index].retirementUnverified == true {
                keys[index].retiredAt = nil
                keys[index].retirementUnverified = nil
                keys[index].status = key.status
                restored.append(key.id)
            }
        }
        return (retired, restored)
    }

    /// Reads `{"keys": [...]}`, the node's answer or `keys.json`.
    public static func decode(_ data: Data) throws -> KeySet {
        KeySet(keys: try JSONDecoder().decode(KeySet.self, from: data).keys)
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
