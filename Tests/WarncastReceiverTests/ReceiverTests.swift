import Foundation
import ServiceLifecycle
import Testing
import WarncastCore
import WarncastNet
import WarncastReceiver

@Suite("The assembled receiver, over HTTP on loopback")
struct ReceiverTests {
    /// Serves the keys of `signing`; takes heartbeats and playback reports.
    func node(_ signing: TestNode) -> FakeNode {
        FakeNode { request, _ in
            if request.url.hasSuffix("/.well-known/warncast-keys") {
                return HTTPResult(status: 200, body: try! signing.keys.encoded())
            }
            return HTTPResult(status: 200, body: Data(#"{"state":"played"}"#.utf8))
        }
    }

    /// Pushes `request` as the node would, through the async engine: a blocking transfer
    /// would hold one of the cooperative pool's threads that the receiver needs to answer.
    func push(_ url: String, _ request: SignedRequest) async throws -> HTTPResult {
        var headers = ["Content-Type: application/json"]
        for (name, value) in [
            ("Idempotency-Key", request.idempotencyKey), ("Warncast-Timestamp", request.timestamp),
            ("Warncast-Key-Id", request.keyID), ("Warncast-Signature", request.signature),
        ] {
            if let value { headers.append("\(name): \(value)") }
        }
        let engine = CurlEngine()
        defer { engine.shutdown() }
        return try await engine.perform(HTTPRequestSpec(method: "POST", url: url, headers: headers, body: request.body))
    }

    /// Waits up to 20 s for `condition`; a test that goes on without it says so here.
    func waitFor(_ condition: () -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        for _ in 0..<800 where !condition() { try await Task.sleep(for: .milliseconds(25)) }
        if !condition() { Issue.record("waited 20 s in vain", sourceLocation: sourceLocation) }
    }

    @Test("pins the keys, takes a signed warning once, plays it, reports it, and says off when it stops")
    func wholeReceiver() async throws {
        let folder = ScratchFolder()
        defer { folder.remove() }
        let signing = TestNode()
        let node = node(signing)
        let output = SpeakerTests.FakeOutput()
        let config = ReceiverConfig(
            file: "test.yaml", node: "http://node.invalid", terminal: "ls-1", secret: "s3cret", listenPort: 0,
            stateDirectory: folder.url.path, voices: VoiceTable([:]), heartbeatSeconds: 3600)
        let listening = Shared<String?>(nil)
        let services = try await Receiver.services(config, transport: node, logger: quietLogger, output: output) { host, port in
            listening.update { $0 = Receiver.url(host: host, port: port) }
        }
        let group = ServiceGroup(services: services, logger: quietLogger)
        let running = Task { try await group.run() }
        try await waitFor { listening.value != nil }
        let url = try #require(listening.value) + "/"

        let message = signing.request(key: "w-1/ls-1", body: TestNode.body(key: "w-1/ls-1", language: "mn-Mong", repeat: 2))
        let first = try await push(url, message)
        #expect(first.status == 200)
        #expect(String(decoding: first.body, as: UTF8.self) == #"{"ack":true}"#)
        #expect(try await push(url + "any/path", message).status == 200)
        var unsigned = message
        unsigned.signature = nil
        let refused = try await push(url, unsigned)
        #expect(refused.status == 401)
        #expect(String(decoding: refused.body, as: UTF8.self) == #"{"error":"unsigned"}"#)

        try await waitFor { node.received.contains { $0.url.hasSuffix("/playback") } }
        await group.triggerGracefulShutdown()
        try await running.value

        #expect(output.played.value.count == 1)  // played once, not for the repeat
        #expect(try KeySet.decode(Data(contentsOf: config.keysFile)) == signing.keys)
        let paths = node.received.map { $0.url.replacingOccurrences(of: "http://node.invalid", with: "") }
        #expect(paths.first == "/.well-known/warncast-keys")
        #expect(paths.filter { $0 == "/v1/terminals/ls-1/playback" }.count == 1)
        let heartbeats = node.received.filter { $0.url.hasSuffix("/heartbeat") }.compactMap {
            try? JSONDecoder().decode(TerminalHeartbeat.self, from: $0.body ?? Data())
        }
        #expect(heartbeats.first?.status == .normal)
        #expect(heartbeats.last == TerminalHeartbeat(status: .off, lastPlayed: "w-1/ls-1", version: "warncast-receiver 1"))
    }
}
