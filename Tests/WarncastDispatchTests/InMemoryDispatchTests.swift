import Foundation
import Logging
import Synchronization
import Testing
import WarncastCore
import WarncastDispatch
import WarncastNet
import WarncastTestSupport

/// The dispatcher against the in-memory outbox and a transport that answers in process:
/// its orchestration tested without SQLite or sockets.
@Suite("Dispatching without SQLite or sockets")
struct InMemoryDispatchTests {
    static let channel = ChannelSettings(
        name: "loudspeaker", adapter: .loudspeaker, concurrency: 8, connectTimeoutMilliseconds: 500, timeoutMilliseconds: 1000,
        retry: RetryPolicy(maxAttempts: 4, initialDelay: 0.02, maxDelay: 0.05), breakerFailures: 1000)

    static func speakers(_ count: Int) -> [Recipient] {
        (1...count).map { index in
            Recipient(
                id: "ls-\(index)", channel: "loudspeaker", region: RegionCode("430121001\(String(format: "%03d", index % 10 + 1))")!,
                name: "大喇叭 \(index)", address: "http://speaker-\(index).invalid/play")
        }
    }

    /// Runs a dispatcher over `outbox` until every delivery is final (at most 60 s: the whole
    /// suite starts at once on two cores, and this one may get little time at first).
    static func dispatch(_ outbox: MemoryOutbox, through transport: any Transport, channel: ChannelSettings = channel) async throws {
        var logger = Logger(label: "in-memory-dispatch")
        logger.logLevel = .critical
        let keyring = SigningKeyring.generate()
        let service = try DispatchService(
            outbox: outbox, configuration: .init(channels: [channel]), transport: transport, signer: try keyring.signer(),
            callbacks: CallbackSettings(base: "http://127.0.0.1:9", tokens: try keyring.callbackTokens()), logger: logger)
        let running = Task { try await service.run() }
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, await outbox.states().keys.contains(where: { !$0.isFinal }) {
            try await Task.sleep(for: .milliseconds(20))
        }
        running.cancel()
        _ = await running.result
    }

    @Test("every planned delivery is sent once, signed, and recorded delivered")
    func deliversOnce() async throws {
        let outbox = MemoryOutbox()
        await outbox.plan(try TestSupport.countyWarning(), to: Self.speakers(40), at: Date())
        let transport = LoopbackTransport { _ in HTTPResult(status: 200, body: Data(#"{"ack":true}"#.utf8)) }
        try await Self.dispatch(outbox, through: transport)

        #expect(await outbox.states() == [.delivered: 40])
        let keys = transport.requests.compactMap { request in
            request.headers.first { $0.hasPrefix("Idempotency-Key:") }
        }
        #expect(keys.count == 40 && Set(keys).count == 40, "one request per loudspeaker")
        #expect(transport.requests.allSatisfy { request in request.headers.contains { $0.hasPrefix("Warncast-Signature:") } })
        #expect(await outbox.attempts.allSatisfy { $0.attempt == 1 && $0.outcome == .delivered })
    }

    @Test("a 503 is retried after a backoff and counted as a second request; a 404 fails at once")
    func retriesAndRefusals() async throws {
        let outbox = MemoryOutbox()
        await outbox.plan(try TestSupport.countyWarning(), to: Self.speakers(10), at: Date())
        let seen = Mutex<Set<String>>([])
        let transport = LoopbackTransport { request in
            if request.url.contains("speaker-1.") { return HTTPResult(status: 404, body: Data()) }
            let first = seen.withLock { $0.insert(request.url).inserted }
            return first ? HTTPResult(status: 503, body: Data()) : HTTPResult(status: 200, body: Data(#"{"ack":true}"#.utf8))
        }
        try await Self.dispatch(outbox, through: transport)

        #expect(await outbox.states() == [.delivered: 9, .failed: 1])
        #expect(transport.requests.count == 1 + 9 * 2)
        let delivered = await outbox.deliveries.values.filter { $0.record.state == .delivered }
        #expect(delivered.allSatisfy { $0.record.attempts == 2 && $0.record.lastStatus == 200 })
        let refused = await outbox.deliveries.values.first { $0.record.state == .failed }
        #expect(refused?.record.attempts == 1 && refused?.record.lastError == "HTTP 404")
    }

    @Test("a warning that cannot be read just then is a retry, not a failure, and not the endpoint's failure either")
    func warningReadFails() async throws {
        let outbox = MemoryOutbox()
        await outbox.plan(try TestSupport.countyWarning(), to: Self.speakers(5), at: Date())
        await outbox.failWarningReads(1)
        let transport = LoopbackTransport { _ in HTTPResult(status: 200, body: Data(#"{"ack":true}"#.utf8)) }
        // One failure opens a breaker: none may open, as no request went out.
        var channel = Self.channel
        channel.breakerFailures = 1
        try await Self.dispatch(outbox, through: transport, channel: channel)
        let errors = await outbox.attempts.map(\.error)
        #expect(!errors.contains("circuit open"), "\(errors)")
        #expect(await outbox.states() == [.delivered: 5])
        #expect(transport.requests.count == 5)
        let unsent = await outbox.attempts.filter { $0.httpStatus == nil }
        #expect(!unsent.isEmpty && unsent.allSatisfy { $0.outcome == .retry("cannot read the warning: cannotRead") }, "\(unsent)")
    }

    @Test("while results cannot be written, nothing is leased: a lease running out meanwhile does not send a delivery twice")
    func writeOutage() async throws {
        let outbox = MemoryOutbox()
        await outbox.plan(try TestSupport.countyWarning(), to: Self.speakers(20), at: Date())
        await outbox.failRecording(true)
        let transport = LoopbackTransport { _ in HTTPResult(status: 200, body: Data(#"{"ack":true}"#.utf8)) }
        var logger = Logger(label: "in-memory-dispatch")
        logger.logLevel = .critical
        let keyring = SigningKeyring.generate()
        let clock = ShiftedClock()
        let service = try DispatchService(
            outbox: outbox, configuration: .init(channels: [Self.channel]), transport: transport, signer: try keyring.signer(),
            callbacks: CallbackSettings(base: "http://127.0.0.1:9", tokens: try keyring.callbackTokens()), logger: logger,
            now: clock.now)
        let running = Task { try await service.run() }
        defer { running.cancel() }
        for _ in 0..<600 where transport.requests.count < 20 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(transport.requests.count == 20, "every delivery sent once; its result waits to be written")
        // The outage outlasts the leases: in the store the deliveries are due again.
        clock.advance(by: 120)
        try await Task.sleep(for: .milliseconds(600))
        #expect(transport.requests.count == 20, "nothing leased again while results wait")
        await outbox.failRecording(false)
        for _ in 0..<600 where await outbox.states() != [.delivered: 20] { try await Task.sleep(for: .milliseconds(20)) }
        #expect(await outbox.states() == [.delivered: 20])
        #expect(transport.requests.count == 20)
    }
}
