import Foundation
import Testing
import WarncastNet
import WarncastTestSupport

/// TLS towards receivers, against `openssl s_server` on loopback with certificates made for
/// the test: verification is on unless switched off, a configured CA bundle is trusted, and
/// a receiver that demands a client certificate gets the configured one.
@Suite("CurlEngine over TLS", .serialized)
struct CurlEngineTLSTests {
    /// A self-signed certificate for 127.0.0.1 (it is its own CA) and its key, in `directory`.
    static func makeCertificate(_ name: String, in directory: URL) throws {
        try PeerProcess.run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "\(name)-key.pem", "-out", "\(name).pem", "-days", "2",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            ], in: directory)
    }

    /// `openssl s_server -www` answering 200 with a status page on a free port.
    static func server(in directory: URL, requireClientCertificate: Bool) throws -> (PeerProcess, Int) {
        let port = PeerProcess.freePort()
        var arguments = ["s_server", "-accept", "127.0.0.1:\(port)", "-www", "-cert", "server.pem", "-key", "server-key.pem", "-quiet"]
        if requireClientCertificate { arguments += ["-Verify", "1", "-CAfile", "client.pem"] }
        // s_server keeps nothing worth a graceful stop and is slow to act on SIGTERM.
        let peer = try PeerProcess(
            "s_server", executable: "/usr/bin/openssl", arguments: arguments, directory: directory, port: port, stopSignal: SIGKILL)
        return (peer, port)
    }

    static func get(_ engine: CurlEngine, port: Int) async throws -> HTTPResult {
        defer { engine.shutdown() }
        return try await engine.perform(
            HTTPRequestSpec(
                method: "GET", url: "https://127.0.0.1:\(port)/", connectTimeoutMilliseconds: 3000, totalTimeoutMilliseconds: 5000))
    }

    @Test("a receiver whose certificate no trusted CA signed is refused by default (curl error 60)")
    func unknownAuthorityRefused() async throws {
        let directory = try TestSupport.temporaryDirectory()
        try Self.makeCertificate("server", in: directory)
        let (peer, port) = try Self.server(in: directory, requireClientCertificate: false)
        defer { peer.stop() }
        await #expect {
            try await Self.get(CurlEngine(), port: port)
        } throws: { error in
            (error as? CurlError)?.code == 60
        }
    }

    @Test("with the receiver's CA in ca_bundle, the same request succeeds")
    func trustedThroughBundle() async throws {
        let directory = try TestSupport.temporaryDirectory()
        try Self.makeCertificate("server", in: directory)
        let (peer, port) = try Self.server(in: directory, requireClientCertificate: false)
        defer { peer.stop() }
        let engine = CurlEngine(options: .init(caBundle: directory.appendingPathComponent("server.pem").path))
        let result = try await Self.get(engine, port: port)
        #expect(result.status == 200)
        #expect(String(decoding: result.body, as: UTF8.self).contains("s_server"))
    }

    @Test("a receiver that demands a client certificate accepts the configured one and refuses none")
    func clientCertificate() async throws {
        let directory = try TestSupport.temporaryDirectory()
        try Self.makeCertificate("server", in: directory)
        try Self.makeCertificate("client", in: directory)
        let (peer, port) = try Self.server(in: directory, requireClientCertificate: true)
        defer { peer.stop() }
        let bundle = directory.appendingPathComponent("server.pem").path
        await #expect(throws: CurlError.self) {
            try await Self.get(CurlEngine(options: .init(caBundle: bundle)), port: port)
        }
        let withCertificate = CurlEngine(
            options: .init(
                caBundle: bundle, clientCertificate: directory.appendingPathComponent("client.pem").path,
                clientKey: directory.appendingPathComponent("client-key.pem").path))
        let result = try await Self.get(withCertificate, port: port)
        #expect(result.status == 200)
    }
}
