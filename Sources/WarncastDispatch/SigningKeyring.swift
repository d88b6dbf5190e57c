import Crypto
import Foundation
import WarncastCore

/// The node's Ed25519 keys in one JSON file (mode 0600): the active private key, and the
/// public halves of retired keys, which stay published so receivers can still check
/// messages signed before a rotation.
public struct SigningKeyring: Sendable, Codable {
    public struct ActiveKey: Sendable, Codable {
        public var id: String
        /// Raw 32-byte private key, base64.
        public var privateKey: String
        public var createdAt: String
    }

    public struct PublishedKey: Sendable, Codable, Equatable {
        public var id: String
        public var algorithm: String
        /// Raw 32-byte public key, base64.
        public var publicKey: String
        /// `active` or `retired`.
        public var status: String
        public var createdAt: String
        public var retiredAt: String?
    }

    public var active: ActiveKey
    public var retired: [PublishedKey]
    /// The secret behind delivery-report tokens (base64, 32 bytes); kept across key
    /// rotations so reports for messages sent before one still verify. Keyrings written
    /// before it existed get one when next loaded by the daemon.
    public var callbackSecret: String?

    public enum Failure: Error, CustomStringConvertible {
        case exists(String)
        case unreadable(String, String)

        public var description: String {
            switch self {
            case .exists(let path): "\(path) already exists; use 'warncast keys rotate' to replace its key"
            case .unreadable(let path, let reason): "cannot read the signing keyring \(path): \(reason)"
            }
        }
    }

    /// A keyring with one new key.
    public static func generate(at date: Date = Date()) -> SigningKeyring {
        SigningKeyring(active: newKey(at: date), retired: [], callbackSecret: CallbackToken.newSecret().base64EncodedString())
    }

    private static func newKey(at date: Date) -> ActiveKey {
        let key = Curve25519.Signing.PrivateKey()
        return ActiveKey(
            id: MessageSigner.keyID(of: key.publicKey), privateKey: key.rawRepresentation.base64EncodedString(),
            createdAt: Timestamp.string(date))
    }

    /// Retires the active key (keeping its public half published) and makes a new one.
    public mutating func rotate(at date: Date = Date()) throws {
        var old = try publishedActiveKey()
        old.status = "retired"
        old.retiredAt = Timestamp.string(date)
        retired.insert(old, at: 0)
        active = Self.newKey(at: date)
    }

    /// The delivery-report tokens of this node.
    public func callbackTokens() throws -> CallbackToken {
        guard let text = callbackSecret, let secret = Data(base64Encoded: text), secret.count >= 16 else {
            throw Failure.unreadable("keyring", "callbackSecret is missing or not base64 of at least 16 bytes")
        }
        return CallbackToken(secret: secret)
    }

    /// How recipients' secrets are kept: keyed with the same node secret as callback tokens.
    public func recipientSecrets() throws -> RecipientSecrets {
        guard let text = callbackSecret, let secret = Data(base64Encoded: text), secret.count >= 16 else {
            throw Failure.unreadable("keyring", "callbackSecret is missing or not base64 of at least 16 bytes")
        }
        return RecipientSecrets(key: secret)
    }

    public func signer() throws -> MessageSigner {
        MessageSigner(key: try privateKey())
    }

    private func privateKey() throws -> Curve25519.Signing.PrivateKey {
        guard let raw = Data(base64Encoded: active.privateKey) else {
            throw Failure.unreadable("keyring", "the active private key is not base64")
        }
        return try Curve25519.Signing.PrivateKey(rawRepresentation: raw)
    }

    private func publishedActiveKey() throws -> PublishedKey {
        PublishedKey(
            id: active.id, algorithm: "Ed25519",
            publicKey: try privateKey().publicKey.rawRepresentation.base64EncodedString(),
            status: "active", createdAt: active.createdAt, retiredAt: nil)
    }

    /// Every public key, the active one first: what `/.well-known/warncast-keys` serves.
    public func publishedKeys() throws -> [PublishedKey] {
        [try publishedActiveKey()] + retired
    }

    // MARK: File

    public static func load(path: String) throws -> SigningKeyring {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure.unreadable(path, "no such file")
        }
        do {
            return try JSONDecoder().decode(SigningKeyring.self, from: data)
        } catch {
            throw Failure.unreadable(path, "\(error)")
        }
    }

    /// Loads the keyring at `path`, creating one with a new key if there is none.
    public static func loadOrCreate(path: String) throws -> (keyring: SigningKeyring, created: Bool) {
        if FileManager.default.fileExists(atPath: path) {
            var keyring = try load(path: path)
            if keyring.callbackSecret == nil {
                keyring.callbackSecret = CallbackToken.newSecret().base64EncodedString()
                try keyring.save(path: path)
            }
            return (keyring, false)
        }
        let keyring = generate()
        try keyring.save(path: path)
        return (keyring, true)
    }

    /// Writes the keyring readable by its owner only, replacing the file atomically; run as
    /// root, the file keeps the owner of the one it replaces (or of its folder).
    public func save(path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temporary = path + ".new"
        guard
            FileManager.default.createFile(
                atPath: temporary, contents: try encoder.encode(self), attributes: [.posixPermissions: 0o600])
        else {
            throw Failure.unreadable(path, "cannot write \(temporary) (a full disk, or a folder not writable)")
        }
        // `warncast keys rotate` run as root: the keyring stays the daemon's user's. The new
        // file is on the disk before it replaces the old one, and the folder after: a power
        // cut leaves the old keyring or the new one, never an empty file.
        do {
            try FileOwnership.matchReplaced(temporary, replacing: path)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw Failure.unreadable(path, "cannot write: \(error.reason)")
        }
        do {
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: temporary))
            try handle.synchronize()
            try handle.close()
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw Failure.unreadable(path, "cannot write: \(error)")
        }
        // rename(2) replaces the old file in one step, so a reader never sees half a keyring.
        guard rename(temporary, path) == 0 else {
            throw Failure.unreadable(path, "cannot write: \(String(cString: strerror(errno)))")
        }
        let folder = open(directory, O_RDONLY)
        if folder >= 0 {
            _ = fsync(folder)
            close(folder)
        }
    }
}
