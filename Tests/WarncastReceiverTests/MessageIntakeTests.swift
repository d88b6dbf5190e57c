import Foundation
import Testing
import WarncastReceiver

@Suite("Taking a pushed warning")
struct MessageIntakeTests {
    /// An intake over a scratch folder, whose node serves the keys in `served` and counts fetches.
    struct Fixture {
        let folder = ScratchFolder()
        let node = TestNode()
        let queue = PlayQueue()
        let fetches = Shared(0)
        let served = Shared(KeySet())
        let clock: Shared<Date>
        let intake: MessageIntake

        init(start: Date = Date()) throws {
            let clock = Shared(start)
            self.clock = clock
            let (folder, pinned) = (self.folder, self.node.keys)
            try pinned.encoded().write(to: folder.file("keys.json"))
            served.update { $0 = pinned }
            let (fetches, served) = (self.fetches, self.served)
            let fetch: @Sendable () async throws -> KeySet = {
                fetches.update { $0 += 1 }
                return served.value
            }
            let keys = try PinnedKeys(file: folder.file("keys.json"), logger: quietLogger, now: { clock.value }, fetch: fetch)
            intake = MessageIntake(
                verifier: MessageVerifier(freshness: 300), keys: keys, played: try PlayedLog(file: folder.file("played.log")),
                queue: queue, logger: quietLogger, now: { clock.value })
        }

        func advance(_ seconds: TimeInterval) { clock.update { $0 += seconds } }

        /// The keys queued for the player, in order. Closes the queue.
        func drained() async -> [String] {
            queue.close()
            var keys: [String] = []
            for await message in queue.messages { keys.append(message.idempotencyKey) }
            return keys
        }
    }

    @Test("a new warning is acknowledged, recorded and queued; its repeat is acknowledged and not queued again")
    func acceptOnce() async throws {
        let fixture = try Fixture()
        defer { fixture.folder.remove() }
        let now = fixture.clock.value
        let first = await fixture.intake.receive(fixture.node.request(key: "w-1/ls-1", at: now))
        #expect(first == .ack)
        #expect(first.body == #"{"ack":true}"#)
        // The node's retry: signed again, a moment later.
        #expect(await fixture.intake.receive(fixture.node.request(key: "w-1/ls-1", at: now + 5)) == .ack)
        #expect(await fixture.intake.receive(fixture.node.request(key: "w-2/ls-1", at: now)) == .ack)
        #expect(await fixture.drained() == ["w-1/ls-1", "w-2/ls-1"])
        #expect(try String(contentsOf: fixture.folder.file("played.log"), encoding: .utf8) == "w-1/ls-1\nw-2/ls-1\n")
    }

    @Test("refusals answer 401 or 400 with the error code, and nothing is recorded")
    func refusals() async throws {
        let fixture = try Fixture()
        defer { fixture.folder.remove() }
        let now = fixture.clock.value
        var unsigned = fixture.node.request(key: "w-1/ls-1", at: now)
        unsigned.signature = nil
        let answer = await fixture.intake.receive(unsigned)
        #expect(answer.status == 401)
        #expect(answer.body == #"{"error":"unsigned"}"#)
        let stale = await fixture.intake.receive(fixture.node.request(key: "w-1/ls-1", at: now - 600))
        #expect(stale.body == #"{"error":"stale"}"#)
        let mismatch = await fixture.intake.receive(
            fixture.node.request(key: "w-1/ls-1", body: TestNode.body(key: "w-9/ls-1"), at: now))
        #expect(mismatch == .init(status: 400, body: #"{"error":"bad_payload"}"#))
        #expect(await fixture.drained().isEmpty)
        #expect(try String(contentsOf: fixture.folder.file("played.log"), encoding: .utf8).isEmpty)
    }

    @Test("a key id not pinned makes the node be asked at most once a minute; a rotated key it serves is then pinned")
    func unknownKeyRefresh() async throws {
        let fixture = try Fixture()
        defer { fixture.folder.remove() }
        let now = fixture.clock.value
        let stranger = TestNode()
        #expect(await fixture.intake.receive(stranger.request(key: "w-1/ls-1", at: now)).body == #"{"error":"unknown_key"}"#)
        #expect(await fixture.intake.receive(stranger.request(key: "w-1/ls-1", at: now)).body == #"{"error":"unknown_key"}"#)
        #expect(fixture.fetches.value == 1)
        // The node rotates its key; within the minute, a message signed with the new one is
        // still refused without asking again.
        let rotated = TestNode()
        fixture.served.update { $0 = KeySet(keys: [rotated.key, fixture.node.key]) }
        #expect(await fixture.intake.receive(rotated.request(key: "w-2/ls-1", at: now)).status == 401)
        #expect(fixture.fetches.value == 1)
        fixture.advance(61)
        #expect(await fixture.intake.receive(rotated.request(key: "w-2/ls-1", at: now + 61)) == .ack)
        #expect(fixture.fetches.value == 2)
        // The first key stays pinned beside the new one, also once the node stops listing it.
        fixture.served.update { $0 = KeySet(keys: [rotated.key]) }
        fixture.advance(61)
        #expect(await fixture.intake.receive(stranger.request(key: "w-3/ls-1", at: now + 122)).status == 401)
        #expect(fixture.fetches.value == 3)
        #expect(await fixture.intake.receive(fixture.node.request(key: "w-4/ls-1", at: now + 122)) == .ack)
        #expect(await fixture.drained() == ["w-2/ls-1", "w-4/ls-1"])
    }
}
