import Foundation
import ServiceLifecycle
import Testing
import WarncastCore
import WarncastNet
import WarncastReceiver

@Suite("Playing the queue: nothing accepted is dropped unplayed")
struct PlayerServiceTests {
    /// The player and the reporter against `node`, with `output`, playing `message` kept in
    /// `spool`; returns once `done` holds (or 10 s), after stopping both.
    func play(
        _ message: BroadcastMessage, output: SpeakerTests.FakeOutput, attempts: Int, spool: PlaySpool, node: FakeNode,
        until done: @escaping () -> Bool
    ) async throws {
        let reporter = PlaybackReporter(
            node: NodeClient(node: "http://node.invalid", terminal: "ls-1", secret: "s", transport: node), logger: quietLogger)
        var speaker = Speaker(
            voices: .standard, synthesizer: SpeakerTests.FakeSynthesizer(), output: output,
            wavDirectory: spool.directory.deletingLastPathComponent().appendingPathComponent("wav"),
            logger: quietLogger)
        speaker.pause = 0.1
        let queue = PlayQueue()
        var player = PlayerService(queue: queue, speaker: speaker, monitor: TerminalMonitor(), reporter: reporter, spool: spool)
        player.attempts = attempts
        player.retryPause = .milliseconds(50)
        try spool.keep(
            Data(#"{"idempotencyKey":"\#(message.idempotencyKey)","text":"暴雨","repeat":1,"language":"zh-CN"}"#.utf8),
            key: message.idempotencyKey)
        queue.add(message)
        let group = ServiceGroup(services: [reporter, player], logger: quietLogger)
        let running = Task { try await group.run() }
        for _ in 0..<400 where !done() { try await Task.sleep(for: .milliseconds(25)) }
        await group.triggerGracefulShutdown()
        try await running.value
    }

    func results(_ node: FakeNode) -> [String] {
        node.received.filter { $0.url.hasSuffix("/playback") }.compactMap {
            try? JSONDecoder().decode(TerminalPlayback.self, from: $0.body ?? Data()).result
        }
    }

    @Test("a broadcast that fails is reported, played again, and leaves the spool only once played")
    func playedAgain() async throws {
        let folder = ScratchFolder()
        defer { folder.remove() }
        let spool = try PlaySpool(directory: folder.file("queue"))
        let node = FakeNode()
        let output = SpeakerTests.FakeOutput(failure: .playback("aplay: device busy"), failing: 1)
        let message = BroadcastMessage(idempotencyKey: "w-1/ls-1", text: "暴雨", repeat: 1)
        try await play(message, output: output, attempts: 3, spool: spool, node: node) { self.results(node) == ["failed", "played"] }
        #expect(results(node) == ["failed", "played"])
        #expect(output.played.value.count == 2)
        #expect(spool.waiting().messages.isEmpty, "played: its file is gone")
    }

    @Test("a broadcast that keeps failing stays in the spool for the next start")
    func keptForNextStart() async throws {
        let folder = ScratchFolder()
        defer { folder.remove() }
        let spool = try PlaySpool(directory: folder.file("queue"))
        let node = FakeNode()
        let output = SpeakerTests.FakeOutput(failure: .playback("aplay: no such device"))
        let message = BroadcastMessage(idempotencyKey: "w-1/ls-1", text: "暴雨", repeat: 1)
        try await play(message, output: output, attempts: 2, spool: spool, node: node) { self.results(node).count == 2 }
        try await Task.sleep(for: .milliseconds(200))
        #expect(results(node) == ["failed", "failed"], "each attempt reported, and no more than asked")
        #expect(output.played.value.count == 2)
        #expect(spool.waiting().messages.map(\.message.idempotencyKey) == ["w-1/ls-1"], "still queued on disk")
    }

    @Test("at a start, a queued warning that expired or was accepted too long ago is dropped; a fresh one plays")
    func staleNotReplayed() async throws {
        let folder = ScratchFolder()
        defer { folder.remove() }
        let signing = TestNode()
        let node = FakeNode { request, _ in
            request.url.hasSuffix("/.well-known/warncast-keys")
                ? HTTPResult(status: 200, body: try! signing.keys.encoded()) : HTTPResult(status: 200, body: Data("{}".utf8))
        }
        var config = ReceiverConfig(
            file: "test.yaml", mode: .dialIn, node: "http://node.invalid", terminal: "ls-1", secret: "s", listenPort: 0,
            stateDirectory: folder.url.path, voices: VoiceTable([:]), heartbeatSeconds: 3600)
        config.replayWithinSeconds = 3600
        let spool = try PlaySpool(directory: config.queueDirectory)
        func body(_ key: String, expires: String?) -> Data {
            let expiry = expires.map { #","expires":"\#($0)""# } ?? ""
            return Data(#"{"idempotencyKey":"\#(key)","text":"暴雨","repeat":1,"language":"zh-CN"\#(expiry)}"#.utf8)
        }
        let now = Date()
        try spool.keep(body("w-old/ls-1", expires: nil), key: "w-old/ls-1", at: now.addingTimeInterval(-7200))
        try spool.keep(
            body("w-expired/ls-1", expires: Timestamp.string(now.addingTimeInterval(-60))), key: "w-expired/ls-1",
            at: now.addingTimeInterval(-600))
        try spool.keep(
            body("w-fresh/ls-1", expires: Timestamp.string(now.addingTimeInterval(3600))), key: "w-fresh/ls-1",
            at: now.addingTimeInterval(-60))
        let output = SpeakerTests.FakeOutput()
        let services = try await Receiver.services(config, transport: node, logger: quietLogger, output: output) { _, _ in }
        // Only the player: the dial-in service would dial a node that is not there.
        let player = try #require(services.first { $0 is PlayerService })
        let reporter = try #require(services.first { $0 is PlaybackReporter })
        let group = ServiceGroup(services: [reporter, player], logger: quietLogger)
        let running = Task { try await group.run() }
        for _ in 0..<400 where spool.waiting().messages.count > 0 { try await Task.sleep(for: .milliseconds(25)) }
        try await Task.sleep(for: .milliseconds(200))
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(output.played.value.map { $0.file.lastPathComponent } == [Speaker.fileName(for: "w-fresh/ls-1")])
        #expect(spool.waiting().messages.isEmpty, "the stale ones are dropped from the queue too")
    }
}
