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
    /// As the in-memory dispatch tests' channel, with time for an acknowledgement while the
    /// whole suite runs (a push left unanswered drops its connection).
    static let channel = ChannelSettings(
        name: "loudspeaker", adapter: .loudspeaker, concurrency: 8, connectTimeoutMilliseconds: 500, timeoutMilliseconds: 20_000,
        retry: RetryPolicy(maxAttempts: 4, initialDelay: 0.02, maxDelay: 0.05), breakerFailures: 1000)

    static func terminals(_ count: Int) -> [Recipient] {
        (1...count).map { index in
            Recipient(
                id: "ls-\(index)", channel: "loudspeaker", region: RegionCode("430121001\(String(format: "%03d", index % 10 + 1))")!,
                name: "大喇叭 \(index)", address: LoudspeakerAdapter.dialIn)
        }
    }

    /// A dispatcher over `outbox` whose channel (`channel`, else `Self.channel`) pushes
    /// through `hub`; anything not dial-in goes to `fallback` (599 by default).
    static func dispatcher(
        _ outbox: MemoryOutbox, hub: DialInHub, channel: ChannelSettings = channel,
        fallback: LoopbackTransport = LoopbackTransport { _ in HTTPResult(status: 599, body: Data()) }
    ) throws -> DispatchService {
        var logger = Logger(label: "dial-in")
        logger.logLevel = .critical
        let keyring = SigningKeyring.generate()
        return try DispatchService(
            outbox: outbox, configuration: .init(channels: [channel]),
            transport: DialInTransport(hub: hub, fallback: fallback),
            signer: try keyring.signer(), callbacks: CallbackSettings(base: "http://127.0.0.1:9", tokens: try keyring.callbackTokens()),
            logger: logger)
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

        let service = try Self.dispatcher(outbox, hub: hub, fallback: nobody)
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
        // The pushes to terminals not connected go back to the queue as soon as the hub says
        // they are away; on a loaded machine that can take a moment after the five deliveries.
        var states = await outbox.states()
        let settled = Date().addingTimeInterval(10)
        while Date() < settled, states[.sending] != nil {
            try await Task.sleep(for: .milliseconds(50))
            states = await outbox.states()
        }
        try await Task.sleep(for: .milliseconds(300))
        states = await outbox.states()
        #expect(states == [.delivered: 5, .queued: 5], "\(states)")
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

    @Test("a push nobody acknowledges gives up in time and drops its connection; a terminal not there is told at once")
    func silence() async throws {
        let hub = DialInHub()
        let (_, pushes) = await hub.connect(terminal: "ls-1", secretHashes: ["h"])
        let push = DialInHub.Push(idempotencyKey: "w/ls-1", headers: [:], body: Data("{}".utf8))
        let started = ContinuousClock.now
        #expect(await hub.push(push, to: "ls-1", timeout: .milliseconds(200)) == .noAnswer)
        #expect(ContinuousClock.now - started < .seconds(20), "gave up: 200 ms asked, the whole suite's load may stretch it")
        #expect(!hub.isConnected("ls-1"), "a connection that swallows pushes is dropped")
        var stream = pushes.makeAsyncIterator()
        _ = await stream.next()  // the push above
        #expect(await stream.next() == nil, "its stream ends, so its answer ends and the terminal dials again")
        #expect(await hub.push(push, to: "ls-2", timeout: .milliseconds(200)) == .notConnected)
    }

    @Test("a push with a short timeout gives up in its own time while one with a long timeout waits")
    func mixedTimeouts() async throws {
        let hub = DialInHub()
        // The streams are kept: a connection whose stream is gone takes no pushes.
        let (_, first) = await hub.connect(terminal: "ls-1", secretHashes: ["h"])
        let (_, second) = await hub.connect(terminal: "ls-2", secretHashes: ["h"])
        let long = Task {
            await hub.push(DialInHub.Push(idempotencyKey: "w/ls-1", headers: [:], body: Data()), to: "ls-1", timeout: .seconds(30))
        }
        // Let the long push start the deadline watcher, asleep until its 30 s are up.
        try await Task.sleep(for: .milliseconds(100))
        let started = ContinuousClock.now
        let short = await hub.push(
            DialInHub.Push(idempotencyKey: "w/ls-2", headers: [:], body: Data()), to: "ls-2", timeout: .milliseconds(200))
        #expect(short == .noAnswer)
        #expect(ContinuousClock.now - started < .seconds(20), "200 ms asked; not the other push's 30 s")
        #expect(hub.isConnected("ls-1") && !hub.isConnected("ls-2"))
        #expect(hub.acknowledge(terminal: "ls-1", idempotencyKey: "w/ls-1", secretHashes: ["h"]))
        #expect(await long.value == .acknowledged)
        withExtendedLifetime((first, second)) {}
    }

    @Test(
        "3,000 terminals let their pushes go unanswered at once: each late push gives up, each terminal is dropped, its push still in time waits for the next connection, the acknowledged ones stay"
    )
    func massTimeout() async throws {
        let hub = DialInHub()
        let count = 3000
        var streams: [AsyncStream<DialInHub.Push>] = []
        for index in 0..<count { streams.append(await hub.connect(terminal: "ls-\(index)", secretHashes: ["h"]).pushes) }
        func push(_ kind: String, _ index: Int, _ timeout: Duration) async -> DialInHub.Answer {
            await hub.push(
                DialInHub.Push(idempotencyKey: "\(kind)/ls-\(index)", headers: [:], body: Data()), to: "ls-\(index)", timeout: timeout)
        }
        typealias Answers = (short: DialInHub.Answer, again: DialInHub.Answer?, long: DialInHub.Answer)
        let answers = await withTaskGroup(of: (Int, Answers).self) { group in
            for index in 0..<count {
                let silent = index % 3 != 0
                group.addTask {
                    // A silent terminal has a push that gives up after 1 s, one after 20 s and
                    // one that could wait long; an answering one a short and a long one, both
                    // acknowledged.
                    async let long = push("long", index, .seconds(120))
                    async let again = silent ? push("again", index, .seconds(1)) : nil
                    let short = await push("short", index, silent ? .seconds(20) : .seconds(120))
                    return (index, (short, await again, await long))
                }
            }
            for index in stride(from: 0, to: count, by: 3) {
                for kind in ["short", "long"] {
                    while !hub.acknowledge(terminal: "ls-\(index)", idempotencyKey: "\(kind)/ls-\(index)", secretHashes: ["h"]) {
                        try? await Task.sleep(for: .milliseconds(5))
                    }
                }
            }
            var answers: [Int: Answers] = [:]
            for await (index, answer) in group { answers[index] = answer }
            return answers
        }
        #expect(answers.count == count)
        let silent = (0..<count).filter { $0 % 3 != 0 }
        #expect(
            silent.allSatisfy { answers[$0]! == (.notConnected, .noAnswer, .notConnected) },
            "the first push to run out gave up; the two still in time wait for the next connection, unattempted")
        #expect(stride(from: 0, to: count, by: 3).allSatisfy { answers[$0]! == (.acknowledged, nil, .acknowledged) })
        #expect(hub.connectedCount == count / 3, "the silent terminals are dropped, the answering ones stay")
        #expect(silent.allSatisfy { !hub.isConnected("ls-\($0)") })
        withExtendedLifetime(streams) {}
    }

    /// What the dispatcher tells the duty officers.
    final class Heard: DispatchTroubleListener {
        let troubles = Mutex<[DispatchTrouble]>([])
        func heard(_ trouble: DispatchTrouble) { troubles.withLock { $0.append(trouble) } }
    }

    @Test("a dial-in terminal's breaker opening is one village's trouble, not a gateway down for the duty officers")
    func noGatewayNotice() async throws {
        let outbox = MemoryOutbox()
        await outbox.plan(try TestSupport.countyWarning(), to: Self.terminals(1), at: Date(), expires: Date().addingTimeInterval(3600))
        let hub = DialInHub()
        let (_, pushes) = await hub.connect(terminal: "ls-1", secretHashes: ["h"])
        let busy = Task {
            for await push in pushes {
                _ = hub.acknowledge(
                    terminal: "ls-1", idempotencyKey: push.idempotencyKey, secretHashes: ["h"],
                    answer: .refused(status: 503, reason: "busy"))
            }
        }
        defer { busy.cancel() }
        var channel = Self.channel
        channel.breakerFailures = 1
        let service = try Self.dispatcher(outbox, hub: hub, channel: channel)
        let heard = Heard()
        service.tellTrouble(to: heard)
        let running = Task { try await service.run() }
        defer { running.cancel() }
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, await outbox.attempts.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        #expect(await outbox.attempts.first?.httpStatus == 503)
        #expect(service.openBreakers()["loudspeaker"] == 1, "the terminal's breaker opened")
        #expect(heard.troubles.withLock { $0 }.isEmpty, "\(heard.troubles.withLock { $0 })")
    }

    @Test("a terminal that refuses a push says so at once: the delivery ends as a pushed terminal's 401 would, and the connection stays")
    func refusal() async throws {
        let outbox = MemoryOutbox()
        await outbox.plan(try TestSupport.countyWarning(), to: Self.terminals(1), at: Date(), expires: Date().addingTimeInterval(3600))
        let hub = DialInHub()
        let (_, pushes) = await hub.connect(terminal: "ls-1", secretHashes: ["h"])
        let refusing = Task {
            for await push in pushes {
                #expect(
                    hub.acknowledge(
                        terminal: "ls-1", idempotencyKey: push.idempotencyKey, secretHashes: ["h"],
                        answer: .refused(status: 401, reason: "stale")))
            }
        }
        defer { refusing.cancel() }
        let service = try Self.dispatcher(outbox, hub: hub)
        let started = ContinuousClock.now
        let running = Task { try await service.run() }
        defer { running.cancel() }
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, await outbox.states()[.failed] == nil { try await Task.sleep(for: .milliseconds(20)) }
        let delivery = try #require(await outbox.deliveries.values.first)
        #expect(delivery.record.state == .failed && delivery.record.attempts == 1, "refused once, not tried again: \(delivery.record)")
        #expect(delivery.record.lastStatus == 401, "\(delivery.record.lastError ?? "-")")
        #expect(ContinuousClock.now - started < .seconds(15), "without waiting out the 20 s push time")
        #expect(hub.isConnected("ls-1"), "a refusal is an answer: the connection is not taken for dead")
    }

    @Test(
        "a connection that goes with a push waiting on it leaves the push deferred, and the terminal's next connection is told it missed pushes"
    )
    func droppedWithPushWaiting() async throws {
        final class Heard: DialInListener, @unchecked Sendable {
            let told = Mutex<[Bool]>([])
            func terminalConnected(_ terminal: String, missedPushes: Bool) async { told.withLock { $0.append(missedPushes) } }
        }
        let hub = DialInHub()
        let heard = Heard()
        hub.tell(heard)
        let (first, pushes) = await hub.connect(terminal: "ls-1", secretHashes: ["h"])
        let answered = Task {
            await hub.push(DialInHub.Push(idempotencyKey: "w/ls-1", headers: [:], body: Data()), to: "ls-1", timeout: .seconds(30))
        }
        var stream = pushes.makeAsyncIterator()
        #expect(await stream.next()?.idempotencyKey == "w/ls-1")
        // The station restarted: the old connection is found gone with the push unanswered.
        hub.disconnect(terminal: "ls-1", number: first)
        #expect(await answered.value == .notConnected)
        _ = await hub.connect(terminal: "ls-1", secretHashes: ["h"])
        #expect(heard.told.withLock { $0 } == [false, true], "the reconnection looks again for what was deferred")
        // Without a push waiting, a connection that goes leaves nothing missed.
        let (second, _) = await hub.connect(terminal: "ls-2", secretHashes: ["h"])
        hub.disconnect(terminal: "ls-2", number: second)
        _ = await hub.connect(terminal: "ls-2", secretHashes: ["h"])
        #expect(heard.told.withLock { $0 } == [false, true, false, false])
    }

    @Test("a new connection replaces the old one and takes over the push waiting on it")
    func replacement() async throws {
        let hub = DialInHub()
        let (first, oldPushes) = await hub.connect(terminal: "ls-1", secretHashes: ["h"])
        let push = DialInHub.Push(idempotencyKey: "w/ls-1", headers: [:], body: Data("{}".utf8))
        let answered = Task { await hub.push(push, to: "ls-1", timeout: .seconds(30)) }
        var old = oldPushes.makeAsyncIterator()
        #expect(await old.next()?.idempotencyKey == "w/ls-1", "pushed down the first connection, never acknowledged")

        let (_, newPushes) = await hub.connect(terminal: "ls-1", secretHashes: ["h"])
        #expect(await old.next() == nil, "the replaced connection's stream ends")
        hub.disconnect(terminal: "ls-1", number: first)
        #expect(hub.isConnected("ls-1"), "the old connection's hang-up does not drop the new one")
        var new = newPushes.makeAsyncIterator()
        #expect(await new.next()?.idempotencyKey == "w/ls-1", "the waiting push comes again down the new connection")
        #expect(hub.acknowledge(terminal: "ls-1", idempotencyKey: "w/ls-1", secretHashes: ["h"]))
        #expect(await answered.value == DialInHub.Answer.acknowledged)
    }

    @Test("stopping hangs up every connection, answers waiting pushes, and takes no new connection")
    func hangUp() async throws {
        let hub = DialInHub()
        let (_, pushes) = await hub.connect(terminal: "ls-1", secretHashes: ["h"])
        let answered = Task {
            await hub.push(DialInHub.Push(idempotencyKey: "w/ls-1", headers: [:], body: Data()), to: "ls-1", timeout: .seconds(30))
        }
        var stream = pushes.makeAsyncIterator()
        _ = await stream.next()
        hub.hangUpAll()
        #expect(await answered.value == DialInHub.Answer.notConnected, "it waits for the next connection, unattempted")
        #expect(await stream.next() == nil)
        let (_, late) = await hub.connect(terminal: "ls-1", secretHashes: ["h"])
        var lateStream = late.makeAsyncIterator()
        #expect(await lateStream.next() == nil && !hub.isConnected("ls-1"))
    }
}
