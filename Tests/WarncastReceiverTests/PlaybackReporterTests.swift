import Foundation
import Testing
import WarncastCore
import WarncastNet

@testable import WarncastReceiver

@Suite("Reporting to the node")
struct PlaybackReporterTests {
    let playback = TerminalPlayback(
        idempotencyKey: "w-1/ls-430121001001-1", started: Timestamp(stored: "2026-07-01T00:00:01.000Z"),
        ended: Timestamp(stored: "2026-07-01T00:00:31.500Z"), timesPlayed: 3, result: "played")

    func client(_ node: FakeNode) -> NodeClient {
        NodeClient(node: "http://127.0.0.1:8080", terminal: "ls-430121001001-1", secret: "s3cret", transport: node)
    }

    func json(_ request: HTTPRequestSpec) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: request.body ?? Data()) as? [String: Any])
    }

    @Test("a playback report goes to the terminal's playback URL with its secret as bearer token")
    func report() async throws {
        let node = FakeNode()
        let reporter = PlaybackReporter(node: client(node), logger: quietLogger, sleep: { _ in })
        #expect(await reporter.deliver(playback))
        let request = try #require(node.received.first)
        #expect(request.method == "POST")
        #expect(request.url == "http://127.0.0.1:8080/v1/terminals/ls-430121001001-1/playback")
        #expect(request.headers.contains("Authorization: Bearer s3cret"))
        #expect(request.headers.contains("Content-Type: application/json"))
        let body = try json(request)
        #expect(body["idempotencyKey"] as? String == "w-1/ls-430121001001-1")
        #expect(body["started"] as? String == "2026-07-01T00:00:01.000Z")
        #expect(body["ended"] as? String == "2026-07-01T00:00:31.500Z")
        #expect(body["timesPlayed"] as? Int == 3)
        #expect(body["result"] as? String == "played")
        #expect(body["detail"] == nil)
    }

    @Test("a node that is busy or down is tried again with backoff; a refusal is not; the tries are bounded")
    func retries() async {
        let pauses = Shared<[TimeInterval]>([])
        let busy = FakeNode { _, count in HTTPResult(status: count < 2 ? 503 : 200, body: Data()) }
        let policy = RetryPolicy(maxAttempts: 4, initialDelay: 2, maxDelay: 300)
        let reporter = PlaybackReporter(node: client(busy), logger: quietLogger, policy: policy) { pause in
            pauses.update { $0.append(pause) }
        }
        #expect(await reporter.deliver(playback))
        #expect(busy.received.count == 3)
        #expect(pauses.value.count == 2)
        #expect(pauses.value[1] >= 2)  // the second pause is the doubled step, with jitter

        let refusing = FakeNode { _, _ in HTTPResult(status: 403, body: Data(#"{"error":"forbidden"}"#.utf8)) }
        #expect(await !PlaybackReporter(node: client(refusing), logger: quietLogger, sleep: { _ in }).deliver(playback))
        #expect(refusing.received.count == 1)

        let down = FakeNode { _, _ in HTTPResult(status: 502, body: Data()) }
        #expect(await !PlaybackReporter(node: client(down), logger: quietLogger, policy: policy, sleep: { _ in }).deliver(playback))
        #expect(down.received.count == 4)
    }

    @Test("a heartbeat leaves out what the terminal does not know")
    func heartbeat() async throws {
        let node = FakeNode()
        try await client(node).sendHeartbeat(TerminalHeartbeat(status: .normal, version: "warncast-receiver 1"))
        let request = try #require(node.received.first)
        #expect(request.url == "http://127.0.0.1:8080/v1/terminals/ls-430121001001-1/heartbeat")
        #expect(request.headers.contains("Authorization: Bearer s3cret"))
        let body = try json(request)
        #expect(body.keys.sorted() == ["status", "version"])
        #expect(body["status"] as? String == "normal")
    }

    @Test("the terminal id is one path segment, whatever it holds")
    func escapedID() async throws {
        let node = FakeNode()
        let odd = NodeClient(node: "http://n", terminal: "ls/1?x", secret: "s", transport: node)
        try await odd.sendHeartbeat(TerminalHeartbeat(status: .off))
        #expect(node.received.first?.url == "http://n/v1/terminals/ls%2F1%3Fx/heartbeat")
    }
}
