import Foundation
import Testing
import WarncastConfig
import WarncastCore
import WarncastDispatch
import WarncastNet
import WarncastStore
import WarncastTestSupport

@Suite("Delivery policy pieces")
struct PolicyTests {
    @Test("backoff doubles, is capped, and jitter keeps it between half and all of the step")
    func backoff() {
        let policy = RetryPolicy(maxAttempts: 5, initialDelay: 1, maxDelay: 10)
        #expect(policy.delay(afterAttempt: 1, jitter: 1) == 1)
        #expect(policy.delay(afterAttempt: 3, jitter: 1) == 4)
        #expect(policy.delay(afterAttempt: 8, jitter: 1) == 10)
        #expect(policy.delay(afterAttempt: 3, jitter: 0.5) == 2)
        #expect(policy.delay(afterAttempt: 3, jitter: 0.1) == 2)
        for _ in 0..<100 { #expect((2...4).contains(policy.delay(afterAttempt: 3))) }
        #expect(policy.shouldRetry(attempt: 4) && !policy.shouldRetry(attempt: 5))
    }

    @Test("a breaker opens after the threshold, stays open for the cooldown, and a success closes it")
    func breaker() {
        let breakers = CircuitBreakers(threshold: 3, cooldown: 30)
        let now = Date()
        #expect(!breakers.recordFailure("a", now: now))
        #expect(!breakers.recordFailure("a", now: now))
        #expect(breakers.recordFailure("a", now: now))
        #expect(breakers.blockedUntil("a", now: now.addingTimeInterval(29)) != nil)
        #expect(breakers.blockedUntil("a", now: now.addingTimeInterval(31)) == nil)
        #expect(breakers.blockedUntil("b", now: now) == nil)
        #expect(breakers.openCount(now: now) == 1 && breakers.openCount(now: now.addingTimeInterval(31)) == 0)
        breakers.recordFailure("c", now: now)
        breakers.recordSuccess("c")
        breakers.recordFailure("c", now: now)
        breakers.recordFailure("c", now: now)
        #expect(breakers.blockedUntil("c", now: now) == nil)
    }

    @Test("signatures verify with the public key, and fail for another body, key or timestamp")
    func signatures() throws {
        let keyring = SigningKeyring.generate()
        let signer = try keyring.signer()
        let body = Data(#"{"text":"暴雨红色预警"}"#.utf8)
        let headers = try signer.headers(body: body, idempotencyKey: "w/1", timestamp: "2026-07-01T00:00:00.000Z")
        let signature = try #require(headers.first { $0.hasPrefix("Warncast-Signature: ") }?.dropFirst(20)).description
        #expect(headers.contains("Warncast-Key-Id: \(keyring.active.id)"))
        let key = signer.publicKey
        #expect(
            MessageSigner.verify(
                body: body, idempotencyKey: "w/1", timestamp: "2026-07-01T00:00:00.000Z", signature: signature, publicKey: key))
        #expect(
            !MessageSigner.verify(
                body: Data("x".utf8), idempotencyKey: "w/1", timestamp: "2026-07-01T00:00:00.000Z", signature: signature, publicKey: key))
        #expect(
            !MessageSigner.verify(
                body: body, idempotencyKey: "w/2", timestamp: "2026-07-01T00:00:00.000Z", signature: signature, publicKey: key))
        #expect(
            !MessageSigner.verify(
                body: body, idempotencyKey: "w/1", timestamp: "2026-07-01T00:00:01.000Z", signature: signature, publicKey: key))
    }

    @Test("rotation keeps the old public key published as retired")
    func rotation() throws {
        var keyring = SigningKeyring.generate()
        let first = keyring.active.id
        try keyring.rotate()
        let published = try keyring.publishedKeys()
        #expect(published.map(\.status) == ["active", "retired"])
        #expect(published[1].id == first && published[0].id != first)
        let path = try TestSupport.temporaryDirectory().appendingPathComponent("keys.json").path
        try keyring.save(path: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try SigningKeyring.load(path: path).active.id == keyring.active.id)
    }

    @Test("the CAP XML written for a JSON submission reads back to the same alert")
    func capRoundTrip() throws {
        let alert = try CAPReader.readJSON(TestSupport.fixture("rainstorm-red-csx.json"))
        var tricky = alert
        tricky.note = "a < b & \"c\""
        #expect(try CAPReader.readXML(CAPWriter.xml(tricky)) == tricky)
    }
}

@Suite("The loudspeaker adapter")
struct LoudspeakerAdapterTests {
    @Test("the body is the documented JSON, with the CAP inside, repeats by level unless the recipient says")
    func body() throws {
        let warning = try TestSupport.countyWarning()
        let adapter = LoudspeakerAdapter()
        let message = OutgoingMessage(warning: warning, preparedBy: adapter)
        let recipient = Recipient(
            id: "ls-1", channel: "loudspeaker", region: RegionCode("430121001001")!, name: "大喇叭", address: "http://127.0.0.1:1/x",
            options: ["language": "zh-CN"])
        let request = try adapter.request(
            for: DeliveryJob(id: 1, warningID: "w1", recipient: recipient, idempotencyKey: "w1/ls-1", attempt: 1), message: message)
        let payload = try JSONDecoder().decode(LoudspeakerAdapter.Payload.self, from: try #require(request.body))
        #expect(payload.repeat == 3)
        #expect(payload.idempotencyKey == "w1/ls-1")
        #expect(payload.text == "长沙县气象局发布暴雨红色预警信号。停止集会、停课、停业；转移危险地带人员。")
        #expect(try CAPReader.readXML(Data(payload.cap.utf8)) == warning.alert)
        var quiet = recipient
        quiet.options["repeat"] = "1"
        let second = try adapter.request(
            for: DeliveryJob(id: 2, warningID: "w1", recipient: quiet, idempotencyKey: "w1/ls-2", attempt: 1), message: message)
        #expect(try JSONDecoder().decode(LoudspeakerAdapter.Payload.self, from: try #require(second.body)).repeat == 1)
        #expect(JSONText.quote("a\"b\\c\n\u{1}") == #""a\"b\\c\n\u0001""#)
    }
}

@Suite("Rate limiting")
struct RateLimiterTests {
    @Test("a limit of 20 per second spaces 11 requests over at least half a second; 0 means no limit")
    func spacing() async {
        let limited = RateLimiter(perSecond: 20)
        let start = ContinuousClock.now
        for _ in 0..<11 { await limited.acquire() }
        #expect(ContinuousClock.now - start >= .milliseconds(480))
        let free = RateLimiter(perSecond: 0)
        let quick = ContinuousClock.now
        for _ in 0..<1000 { await free.acquire() }
        #expect(ContinuousClock.now - quick < .seconds(1))
    }
}

@Suite("A gateway shared by channels")
struct SharedGatewayTests {
    @Test("two channels through one gateway of 10 messages a second share it: 12 messages take over a second")
    func sharedRate() async throws {
        // Each channel alone may send as fast as it likes; only the gateway limits them.
        let second = WarncastConfiguration.Channel(
            name: "sms-informants", adapter: "loudspeaker", concurrency: 8, gateway: "kannel")
        let harness = try await DispatchHarness(extraChannels: [second], gateways: ["kannel": 10]) { channel in
            channel.gateway = "kannel"
        }
        try await harness.addSpeakers(6, in: "430121001")
        try await harness.addSpeakers(6, in: "430121002", channel: "sms-informants")
        let warning = try await harness.release("rainstorm-red-csx.xml")
        #expect(try await harness.summary(warning)[.queued] == 12)
        let started = Date()
        #expect(try await harness.dispatch { try await harness.summary(warning)[.delivered] == 12 })
        // 12 slots 0.1 s apart: the last starts 1.1 s after the first. Lower bound only.
        #expect(Date().timeIntervalSince(started) >= 1.05)
        #expect(harness.fleet.uniqueDeliveries == 12)
        // The report counts each channel on its own as well as together.
        let rollup = try await harness.store.rollup(warningID: warning, depth: .township)
        #expect(rollup.total.first?.delivered == 12)
        #expect(rollup.byChannel["loudspeaker"]?.first?.delivered == 6)
        #expect(rollup.byChannel["sms-informants"]?.first?.delivered == 6)
        #expect(rollup.byChannel["sms-informants"]?.map(\.region.rawValue) == ["430000", "430100", "430121", "430121002"])
        #expect(rollup.byChannel["sms-informants"]?.last?.p50Seconds != nil)
    }
}
