import Foundation
import Logging
import Synchronization
import Testing
import WarncastCore
import WarncastDispatch
import WarncastNet
import WarncastTestSupport

/// The keys each terminal was pushed.
final class Pushes: Sendable {
    let keys = Mutex<[String: [String]]>([:])
}

@Suite("Terminals that dial in")
struct DialInTests {
    static func terminals(_ count: Int) -> [Recipient] {
        (1...count).map { index in
            Recipient(
                id: "ls-\(index)", channel: "loudspeaker", region: RegionCode("430121001\(String(format: "%03d", index % 10 + 1))")!,
                name: "大喇叭 \(index)", address: LoudspeakerAdapter.dialIn)
        }
    }

    /// A terminal on the hub that acknowledges every push with its secret; counts what it got.
    static func answer(_ hub: DialInHub, terminal: String, got: Pushes) async -> Task<Void, Never> {
        let (_, pushes) = await hub.connect(terminal: terminal, secretHashes: ["hash-\(terminal)"])
        return Task {
            for await push in pushes {
                got.keys.withLock { $0[terminal, default: []].append(push.idempotencyKey) }
                #expect(push.headers["Warncast-Signature"] != nil && !push.body.isEmpty, "the signed request, body and all")
                // Someone else's secret is not taken.
                #expect(!hub.acknowledge(terminal: terminal, idempotencyKey: push.idempotencyKey, secretHashes: ["hash-other"]))
                #expect(hub.acknowledge(terminal: terminal, idempotencyKey: push.idempotencyKey, secretHashes: ["hash-\(terminal)"]))
            }
        }
    }

    @Test("connected terminals get their warning pushed and acknowledged; the others wait, unattempted, and get it on connecting")
    func pushAndReconnect() async throws {
        let outbox = MemoryOutbox()
        await outbox.plan(try TestSupport.countyWarning(), to: Self.terminals(10), at: Date(), expires: Date().addingTimeInterval(3600))
        let hub = DialInHub()
        let got = Pushes()
        var answering: [Task<Void, Never>] = []
        for index in 1...5 { answering.append(await Self.answer(hub, terminal: "ls-\(index)", got: got)) }
        let nobody = LoopbackTransport { _ in HTTPResult(status: 599, body: Data()) }

        var logger = Logger(label: "dial-in")
        logger.logLevel = .critical
        let keyring = SigningKeyring.generate()
        let service = try DispatchService(
            outbox: outbox, configuration: .init(channels: [InMemoryDispatchTests.channel]),
            transport: DialInTransport(hub: hub, fallback: nobody), signer: try keyring.signer(),
            callbacks: CallbackSettings(base: "http://127.0.0.1:9", tokens: try keyring.callbackTokens()), logger: logger)
        hub.tell(WakeOnConnect(dispatcher: service, outbox: outbox))
        let running = Task { try await service.run() }
        defer { running.cancel() }

        func wait(for delivered: Int) async throws {
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline, await outbox.states()[.delivered] ?? 0 < delivered {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        try await wait(for: 5)
        try await Task.sleep(for: .milliseconds(300))
        #expect(await outbox.states() == [.delivered: 5, .queued: 5])
        let waiting = await outbox.deliveries.values.filter { $0.record.state == .queued }
        #expect(waiting.allSatisfy { $0.record.attempts == 0 }, "not being connected is no attempt")
        #expect(nobody.requests.isEmpty, "nothing went to libcurl")

        for index in 6...10 { answering.append(await Self.answer(hub, terminal: "ls-\(index)", got: got)) }
        try await wait(for: 10)
        #expect(await outbox.states() == [.delivered: 10])
        let pushes = got.keys.withLock { $0 }
        #expect(pushes.count == 10 && pushes.values.allSatisfy { $0.count == 1 }, "each terminal got its warning once")
        for task in answering { task.cancel() }
    }

    @Test("a push nobody acknowledges gives up in time; a new connection replaces the old one")
    func silenceAndReplacement() async throws {
        let hub = DialInHub()
        let (first, oldPushes) = await hub.connect(terminal: "ls-1", secretHashes: ["h"])
        let push = DialInHub.Push(idempotencyKey: "w/ls-1", headers: [:], body: Data("{}".utf8))
        let started = ContinuousClock.now
        #expect(await hub.push(push, to: "ls-1", timeout: .milliseconds(200)) == .noAnswer)
        #expect(ContinuousClock.now - started < .seconds(10), "gave up: 200 ms asked, the whole suite's load may stretch it")
        #expect(await hub.push(push, to: "ls-2", timeout: .milliseconds(200)) == .notConnected)

        let (_, newPushes) = await hub.connect(terminal: "ls-1", secretHashes: ["h"])
        var old = oldPushes.makeAsyncIterator()
        _ = await old.next()  // the push above
        #expect(await old.next() == nil, "the replaced connection's stream ends")
        hub.disconnect(terminal: "ls-1", number: first)
        #expect(hub.isConnected("ls-1"), "the old connection's hang-up does not drop the new one")
        let answered = Task { await hub.push(push, to: "ls-1", timeout: .seconds(5)) }
        var new = newPushes.makeAsyncIterator()
        #expect(await new.next()?.idempotencyKey == "w/ls-1")
        #expect(hub.acknowledge(terminal: "ls-1", idempotencyKey: "w/ls-1", secretHashes: ["h"]))
        #expect(await answered.value == DialInHub.Answer.acknowledged)
    }
}
