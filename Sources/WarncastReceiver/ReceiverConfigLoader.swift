import Foundation
import Yams

/// Reads the receiver's YAML file into a `ReceiverConfig`. Relative paths (`state_dir`,
/// `secret_file`, `ca_bundle`) are taken from the configuration file's folder. Every error names the key.
public enum ReceiverConfigLoader {
    public static func load(path: String) throws(ReceiverConfigError) -> ReceiverConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ReceiverConfigError(file: path, key: "", reason: "cannot read the file: \(error.localizedDescription)")
        }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws(ReceiverConfigError) -> ReceiverConfig {
        let node: Yams.Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw ReceiverConfigError(file: file, key: "", reason: "not valid YAML: \(error)")
        }
        guard let node else { throw ReceiverConfigError(file: file, key: "", reason: "the file is empty") }
        var root = try YAMLMapping(node, path: "", file: file)
        let folder = URL(fileURLWithPath: file).deletingLastPathComponent()
        let mode = try self.mode(&root)
        var config = ReceiverConfig(
            file: file, mode: mode, node: try nodeURL(&root), terminal: try terminal(&root), secret: try secret(&root, folder: folder),
            listenPort: 0)
        try listen(&root, into: &config)
        if let directory = try root.optionalString("state_dir") { config.stateDirectory = resolve(directory, in: folder) }
        if let output = try root.optionalString("output") {
            guard let value = ReceiverConfig.Output(rawValue: output) else {
                throw root.error("output", "'\(output)' is not one of auto, alsa, wav")
            }
            config.output = value
        }
        if let voices = try root.optionalTextMap("voices") {
            config.voices = VoiceTable(Dictionary(voices, uniquingKeysWith: { first, _ in first }))
        }
        config.freshnessSeconds = try root.optionalInt("freshness_seconds", range: 1...86_400) ?? config.freshnessSeconds
        config.heartbeatSeconds = try root.optionalInt("heartbeat_seconds", range: 1...3600) ?? config.heartbeatSeconds
        config.keyRefreshSeconds = try root.optionalInt("key_refresh_seconds", range: 60...604_800) ?? config.keyRefreshSeconds
        if let updates = try root.optionalString("key_updates") {
            guard let value = ReceiverConfig.KeyUpdates(rawValue: updates) else {
                throw root.error("key_updates", "'\(updates)' is not one of https, any, none")
            }
            config.keyUpdates = value
        }
        config.replayWithinSeconds = try root.optionalInt("replay_within_seconds", range: 0...604_800) ?? config.replayWithinSeconds
        config.caBundle = try pemFile(&root, "ca_bundle", in: folder, node: config.node, holding: certificates, "certificates")
        config.clientCertificate = try pemFile(
            &root, "client_certificate", in: folder, node: config.node, holding: certificates, "a certificate")
        if config.clientCertificate == nil, root.has("client_key") {
            throw root.error("client_key", "is the key of client_certificate, which is not set")
        }
        config.clientKey = try pemFile(&root, "client_key", in: folder, node: config.node, holding: privateKey, "a private key")
        if let certificate = config.clientCertificate, config.clientKey == nil, !Self.file(certificate, holds: privateKey) {
            throw root.error("client_certificate", "\(certificate) holds no private key: name its key file as client_key")
        }
        try root.rejectUnknownKeys()
        return config
    }

    private static let certificates = "-----BEGIN CERTIFICATE-----"
    private static let privateKey = "PRIVATE KEY-----"

    private static func file(_ path: String, holds marker: String) -> Bool {
        (try? String(contentsOfFile: path, encoding: .utf8))?.contains(marker) ?? false
    }

    /// The PEM file `key` names (relative to `folder`), for an https:// node only, holding
    /// `marker` (`what` in the error); nil when the key is absent.
    private static func pemFile(
        _ root: inout YAMLMapping, _ key: String, in folder: URL, node: String, holding marker: String, _ what: String
    ) throws(ReceiverConfigError) -> String? {
        guard let name = try root.optionalString(key) else { return nil }
        let path = resolve(name, in: folder)
        guard node.lowercased().hasPrefix("https://") else {
            throw root.error(key, "applies to an https:// node only; node is \(node)")
        }
        guard file(path, holds: marker) else { throw root.error(key, "cannot read \(what) (PEM) from \(path)") }
        return path
    }

    private static func mode(_ root: inout YAMLMapping) throws(ReceiverConfigError) -> ReceiverConfig.Mode {
        guard let text = try root.optionalString("mode") else { return .push }
        guard let mode = ReceiverConfig.Mode(rawValue: text) else {
            throw root.error("mode", "'\(text)' is not push or dial-in")
        }
        return mode
    }

    private static func nodeURL(_ root: inout YAMLMapping) throws(ReceiverConfigError) -> String {
        let text = try root.string("node")
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty, url.query == nil, url.fragment == nil
        else {
            throw root.error("node", "'\(text)' is not an http:// or https:// base URL, e.g. http://127.0.0.1:8080")
        }
        var base = text
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }

    private static func terminal(_ root: inout YAMLMapping) throws(ReceiverConfigError) -> String {
        let id = try root.string("terminal")
        guard !id.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) || $0 == " " }) else {
            throw root.error("terminal", "a recipient id has no spaces or control characters")
        }
        return id
    }

    private static func secret(_ root: inout YAMLMapping, folder: URL) throws(ReceiverConfigError) -> String {
        let inline = try root.optionalString("secret")
        let file = try root.optionalString("secret_file")
        switch (inline, file) {
        case (let secret?, nil):
            return secret
        case (nil, let path?):
            let resolved = resolve(path, in: folder)
            guard let text = try? String(contentsOfFile: resolved, encoding: .utf8) else {
                throw root.error("secret_file", "cannot read \(resolved)")
            }
            let secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !secret.isEmpty else { throw root.error("secret_file", "\(resolved) is empty") }
            return secret
        case (.some, .some):
            throw root.error("secret", "give secret or secret_file, not both")
        case (nil, nil):
            throw root.error("secret", "is required (or secret_file)")
        }
    }

    private static func listen(_ root: inout YAMLMapping, into config: inout ReceiverConfig) throws(ReceiverConfigError) {
        // Push mode needs a port to be pushed to; dial-in mode listens on nothing.
        guard var listen = try root.optionalMapping("listen") else {
            if config.mode == .dialIn { return }
            throw root.error("listen.port", "is required in push mode")
        }
        if config.mode == .dialIn { throw root.error("listen", "is for push mode; a dial-in receiver listens on nothing") }
        config.listenHost = try listen.optionalString("host") ?? config.listenHost
        guard let port = try listen.optionalInt("port", range: 0...65_535) else { throw listen.error("port", "is required in push mode") }
        config.listenPort = port
        config.idleTimeoutSeconds = try listen.optionalInt("idle_timeout_seconds", range: 1...3600) ?? config.idleTimeoutSeconds
        config.maxConnections = try listen.optionalInt("max_connections", range: 1...10_000) ?? config.maxConnections
        try listen.rejectUnknownKeys()
    }

    private static func resolve(_ path: String, in folder: URL) -> String {
        path.hasPrefix("/") ? path : folder.appendingPathComponent(path).standardizedFileURL.path
    }
}
