import Foundation
import Testing
import WarncastReceiver

@Suite("The receiver's configuration file")
struct ReceiverConfigLoaderTests {
    let file = "/etc/warncast-receiver/receiver.yaml"
    let minimal = """
        node: http://127.0.0.1:8080/
        terminal: ls-430121001001-1
        secret: s3cret
        listen:
          port: 9101

        """

    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("config/warncast-receiver.example.yaml").path

    @Test("the shipped example loads")
    func example() throws {
        let config = try ReceiverConfigLoader.load(path: Self.example)
        #expect(config.node == "http://127.0.0.1:8080")
        #expect(config.terminal == "ls-430121001001-1")
        #expect(config.mode == .dialIn)
        #expect(config.stateDirectory.hasSuffix("/data/receiver"))
        #expect(config.stateDirectory.hasPrefix("/"))
    }

    @Test("a minimal file takes the defaults")
    func defaults() throws {
        let config = try ReceiverConfigLoader.parse(minimal, file: file)
        #expect(config.mode == .push)
        #expect(config.node == "http://127.0.0.1:8080")
        #expect(config.listenHost == "127.0.0.1")
        #expect(config.stateDirectory == "/var/lib/warncast-receiver")
        #expect(config.playedLogFile.path == "/var/lib/warncast-receiver/played.log")
        #expect(config.output == .auto)
        #expect(config.voices == .standard)
        #expect(config.freshnessSeconds == 300)
        #expect(config.heartbeatSeconds == 20)
        #expect(config.keyRefreshSeconds == 3600)
        #expect(config.keyUpdates == .https)
        #expect(config.replayWithinSeconds == 21_600)
        #expect(config.idleTimeoutSeconds == 30 && config.maxConnections == 256)
    }

    @Test("listen.idle_timeout_seconds and listen.max_connections are read")
    func listenLimits() throws {
        let config = try ReceiverConfigLoader.parse(
            minimal.replacingOccurrences(of: "port: 9101", with: "port: 9101\n  idle_timeout_seconds: 5\n  max_connections: 4"), file: file)
        #expect(config.idleTimeoutSeconds == 5 && config.maxConnections == 4)
    }

    @Test("key_updates and replay_within_seconds are read")
    func keyUpdates() throws {
        let config = try ReceiverConfigLoader.parse(minimal + "key_updates: none\nreplay_within_seconds: 600\n", file: file)
        #expect(config.keyUpdates == ReceiverConfig.KeyUpdates.none && config.replayWithinSeconds == 600)
    }

    @Test("a dial-in receiver needs no port")
    func dialIn() throws {
        let config = try ReceiverConfigLoader.parse(
            "mode: dial-in\n" + minimal.replacingOccurrences(of: "listen:\n  port: 9101\n", with: ""), file: file)
        #expect(config.mode == .dialIn && config.terminal == "ls-430121001001-1")
    }

    @Test(
        "errors name the key and say what is wrong",
        arguments: [
            ("listen:\n  port: 9101\n", "", "listen.port", "is required in push mode"),
            ("port: 9101", "port: 70000", "listen.port", "whole number from 0 to 65535"),
            ("port: 9101", "port: 9101\n  hots: 0.0.0.0", "listen.hots", "unknown key"),
            ("port: 9101", "port: 9101\n  max_connections: 0", "listen.max_connections", "whole number from 1 to 10000"),
            ("secret: s3cret\n", "", "secret", "is required (or secret_file)"),
            ("secret: s3cret\n", "secret: a\nsecret_file: b\n", "secret", "not both"),
            ("secret: s3cret\n", "secret_file: /nonexistent/secret\n", "secret_file", "cannot read"),
            ("terminal: ls-430121001001-1\n", "", "terminal", "is required"),
            ("node: http://127.0.0.1:8080/", "node: ftp://node", "node", "not an http:// or https:// base URL"),
            ("node: http://127.0.0.1:8080/", "node: http://127.0.0.1:8080/\nmode: pull", "mode", "is not push or dial-in"),
            ("node: http://127.0.0.1:8080/", "node: http://127.0.0.1:8080/\nmode: dial-in", "listen", "is for push mode"),
            ("node: http://127.0.0.1:8080/", "node: http://127.0.0.1:8080/\noutput: speaker", "output", "not one of auto, alsa, wav"),
            ("node: http://127.0.0.1:8080/", "node: http://127.0.0.1:8080/\nvoices: [cmn]", "voices", "mapping of text to text"),
            ("node: http://127.0.0.1:8080/", "node: http://127.0.0.1:8080/\nfreshness_seconds: 0", "freshness_seconds", "whole number"),
            ("node: http://127.0.0.1:8080/", "node: http://127.0.0.1:8080/\nheartbeat_seconds: often", "heartbeat_seconds", "whole number"),
            ("node: http://127.0.0.1:8080/", "node: http://127.0.0.1:8080/\nstate-dir: /tmp", "state-dir", "unknown key"),
            (
                "node: http://127.0.0.1:8080/", "node: http://127.0.0.1:8080/\nkey_updates: always", "key_updates",
                "not one of https, any, none"
            ),
            (
                "node: http://127.0.0.1:8080/", "node: http://127.0.0.1:8080/\nreplay_within_seconds: -1", "replay_within_seconds",
                "whole number"
            ),
        ])
    func namedErrors(old: String, new: String, key: String, reason: String) {
        #expect(minimal.contains(old))
        do {
            _ = try ReceiverConfigLoader.parse(minimal.replacingOccurrences(of: old, with: new), file: file)
            Issue.record("no error for \(new)")
        } catch {
            #expect(error.file == file)
            #expect(error.key == key)
            #expect(error.reason.contains(reason))
            #expect(error.description.hasPrefix("\(file): \(key): "))
        }
    }

    @Test("an empty file and one that is not YAML are reported for the file as a whole")
    func wholeFile() {
        #expect(throws: ReceiverConfigError(file: file, key: "", reason: "the file is empty")) {
            try ReceiverConfigLoader.parse("", file: file)
        }
        #expect(throws: ReceiverConfigError.self) { try ReceiverConfigLoader.parse("node: [", file: file) }
        #expect(throws: ReceiverConfigError.self) { try ReceiverConfigLoader.load(path: "/nonexistent/receiver.yaml") }
    }

    @Test("secret_file and state_dir are taken from the configuration's folder; the secret is trimmed")
    func relativePaths() throws {
        let folder = ScratchFolder()
        defer { folder.remove() }
        try Data("  t0ps3cret\n".utf8).write(to: folder.file("secret"))
        let text = minimal.replacingOccurrences(of: "secret: s3cret\n", with: "secret_file: secret\nstate_dir: state\n")
        let config = try ReceiverConfigLoader.parse(text, file: folder.file("receiver.yaml").path)
        #expect(config.secret == "t0ps3cret")
        #expect(config.stateDirectory == folder.file("state").standardizedFileURL.path)
    }

    @Test("ca_bundle: a PEM file beside the configuration for an https:// node; none for http://, nor a file without certificates")
    func caBundle() throws {
        let folder = ScratchFolder()
        defer { folder.remove() }
        try Data("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".utf8).write(to: folder.file("ca.pem"))
        try Data("not a certificate\n".utf8).write(to: folder.file("junk.pem"))
        let https = minimal.replacingOccurrences(of: "http://127.0.0.1:8080/", with: "https://warncast.example.cn/")
        let config = try ReceiverConfigLoader.parse(https + "ca_bundle: ca.pem\n", file: folder.file("receiver.yaml").path)
        #expect(config.caBundle == folder.file("ca.pem").standardizedFileURL.path)
        #expect(try ReceiverConfigLoader.parse(https, file: file).caBundle == nil)
        for (text, reason) in [
            (minimal + "ca_bundle: ca.pem\n", "https:// node only"), (https + "ca_bundle: junk.pem\n", "cannot read certificates"),
            (https + "ca_bundle: missing.pem\n", "cannot read certificates"),
        ] {
            let error = #expect(throws: ReceiverConfigError.self) {
                try ReceiverConfigLoader.parse(text, file: folder.file("receiver.yaml").path)
            }
            #expect(error?.key == "ca_bundle" && error?.reason.contains(reason) == true, "\(String(describing: error))")
        }
    }

    @Test(
        "client_certificate and client_key: PEM files beside the configuration, for an https:// node; the key may share the certificate's file"
    )
    func clientCertificate() throws {
        let folder = ScratchFolder()
        defer { folder.remove() }
        let certificate = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
        let key = "-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n"
        try Data(certificate.utf8).write(to: folder.file("rx.pem"))
        try Data(key.utf8).write(to: folder.file("rx-key.pem"))
        try Data((certificate + key).utf8).write(to: folder.file("both.pem"))
        let https = minimal.replacingOccurrences(of: "http://127.0.0.1:8080/", with: "https://warncast.example.cn/")
        let receiver = folder.file("receiver.yaml").path
        let separate = try ReceiverConfigLoader.parse(https + "client_certificate: rx.pem\nclient_key: rx-key.pem\n", file: receiver)
        #expect(separate.clientCertificate == folder.file("rx.pem").standardizedFileURL.path)
        #expect(separate.clientKey == folder.file("rx-key.pem").standardizedFileURL.path)
        let together = try ReceiverConfigLoader.parse(https + "client_certificate: both.pem\n", file: receiver)
        #expect(together.clientCertificate == folder.file("both.pem").standardizedFileURL.path && together.clientKey == nil)
        #expect(try ReceiverConfigLoader.parse(https, file: file).clientCertificate == nil)
        for (text, wrongKey, reason) in [
            (minimal + "client_certificate: both.pem\n", "client_certificate", "https:// node only"),
            (https + "client_certificate: rx-key.pem\n", "client_certificate", "cannot read a certificate"),
            (https + "client_certificate: rx.pem\n", "client_certificate", "holds no private key"),
            (https + "client_certificate: rx.pem\nclient_key: rx.pem\n", "client_key", "cannot read a private key"),
            (https + "client_key: rx-key.pem\n", "client_key", "client_certificate, which is not set"),
        ] {
            let error = #expect(throws: ReceiverConfigError.self) { try ReceiverConfigLoader.parse(text, file: receiver) }
            #expect(error?.key == wrongKey && error?.reason.contains(reason) == true, "\(String(describing: error))")
        }
    }

    @Test("voices replace the standard table; listen.port 0 is allowed")
    func voicesAndPort() throws {
        let text = minimal.replacingOccurrences(of: "port: 9101", with: "port: 0\n  host: 0.0.0.0") + "voices:\n  zh: cmn\n  bo: bo\n"
        let config = try ReceiverConfigLoader.parse(text, file: file)
        #expect(config.listenPort == 0)
        #expect(config.listenHost == "0.0.0.0")
        #expect(config.voices.voice(for: "bo-CN") == "bo")
        #expect(config.voices.voice(for: "en") == nil)
    }
}
