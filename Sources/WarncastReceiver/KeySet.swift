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
        /// where anybody on the way could have written it: lists that show the key active
        /// for a day (`KeySet.unverifiedRetirementHold`) take it back.
        public var retirementUnverified: Bool?
        /// Since when the lists read over plain HTTP have shown this key, retired over plain
        /// HTTP, active without a break.
        public var activeSince: String?

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
                // Over verified HTTPS the node's word stands: a retirement taken over plain HTTP
                // is confirmed, or dropped when the node lists the key active.
                if key.retiredAt == nil, keys[index].retirementUnverified == true { keys[index].retiredAt = nil }
                keys[index].retirementUnverified = nil
                keys[index].activeSince = nil
                keys[index].status = key.status ?? keys[index].status
                keys[index].retiredAt = key.retiredAt ?? keys[index].retiredAt
            } else {
                keys.append(key)
                added.append(key.id)
            }
        }
        return added
    }

    /// How long lists read over plain HTTP must show a key active, without a break, before
    /// a retirement read the same way is taken back: someone on the way who holds a retired
    /// key must answer every fetch for a day before messages it signs play again.
    public static let unverifiedRetirementHold: TimeInterval = 86_400

    /// Takes what `fetched`, read over plain HTTP, says of the pinned keys' retirements, so
    /// that nobody on the way can silence the station for good, nor bring a retired key back
    /// at once: a retirement counts from `now` at the earliest (a forged date in the past
    /// would refuse what was signed before it was seen), a later list may bring it earlier
    /// but not before `now` (so a forged far-off date cannot hold off the real one), and one
    /// taken this way is dropped only once the lists have shown the key active for
    /// `unverifiedRetirementHold`. A retirement read over verified HTTPS or written by hand
    /// stays. Keys not pinned are left out. Returns the ids retired and those taken back.
    public mutating func takeUnverifiedRetirements(_ fetched: [Key], now: Date) -> (retired: [String], restored: [String]) {
        var retired: [String] = []
        var restored: [String] = []
        for key in fetched {
            guard let index = keys.firstIndex(where: { $0.id == key.id }) else { continue }
            if let announced = key.retiredAt.flatMap(Timestamp.parse) {
                let earliest = max(announced, now)
                if keys[index].retiredAt == nil {
                    keys[index].retiredAt = Timestamp.string(earliest)
                    keys[index].status = "retired"
                    keys[index].retirementUnverified = true
                    retired.append(key.id)
                } else if keys[index].retirementUnverified == true {
                    if let taken = keys[index].retiredAt.flatMap(Timestamp.parse), earliest < taken {
                        keys[index].retiredAt = Timestamp.string(earliest)
                    }
                }
                keys[index].activeSince = nil
            } else if keys[index].retirementUnverified == true {
                guard let since = keys[index].activeSince.flatMap(Timestamp.parse) else {
                    keys[index].activeSince = Timestamp.string(now)
                    continue
                }
                guard now.timeIntervalSince(since) >= Self.unverifiedRetirementHold else { continue }
                keys[index].retiredAt = nil
                keys[index].retirementUnverified = nil
                keys[index].activeSince = nil
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
