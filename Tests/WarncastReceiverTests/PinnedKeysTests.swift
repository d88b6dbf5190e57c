import Crypto
import Foundation
import Testing
import WarncastCore
import WarncastReceiver

@Suite("Pinning the node's keys")
struct PinnedKeysTests {
    @Test("the first start without keys.json fetches the node's keys and writes them")
    func pinOnFirstUse() async throws {
        let folder = ScratchFolder()
        defer { folder.remove() }
        let node = TestNode()
        let file = folder.file("state/keys.json")
        let keys = try PinnedKeys(file: file, logger: quietLogger) { node.keys }
        #expect(await keys.current.isEmpty)
        #expect(await keys.refresh())
        #expect(await keys.current == node.keys)
        #expect(try KeySet.decode(Data(contentsOf: file)) == node.keys)
        // Opened again, it needs no node.
        let reopened = try PinnedKeys(file: file, logger: quietLogger) { throw CancellationError() }
        #expect(await reopened.current == node.keys)
        #expect(await !reopened.refresh())
        #expect(await reopened.current == node.keys)
    }

    @Test("a refresh adds keys (rotation) and never drops or replaces a pinned one")
    func onlyAdds() {
        let old = TestNode()
        let new = TestNode()
        var keys = old.keys
        var retired = old.key
        retired.status = "retired"
        #expect(keys.add([new.key, retired]) == [new.signer.keyID])
        #expect(keys.keys.map(\.id) == [old.signer.keyID, new.signer.keyID])
        #expect(keys.keys.first?.status == "retired")
        // The node now claims another key under the old id: the pinned one stays.
        var impostor = TestNode().key
        impostor.id = old.signer.keyID
        #expect(keys.add([impostor]).isEmpty)
        #expect(keys.rawKey(id: old.signer.keyID) == old.signer.publicKey.rawRepresentation)
        // The node no longer lists the old key: it stays pinned.
        #expect(keys.add([new.key]).isEmpty)
        #expect(keys.keys.count == 2)
    }

    @Test(
        "once keys are pinned, a refresh over plain http pins no new key and takes a retirement only from when it is seen, until the key is listed active again; never asks nothing"
    )
    func updatesOverHTTP() async throws {
        let folder = ScratchFolder()
        defer { folder.remove() }
        let old = TestNode()
        let slipped = TestNode()
        let served = Shared(old.keys)
        let asked = Shared(0)
        let file = folder.file("keys.json")
        let seen = Timestamp.parse("2026-07-02T00:00:00.000Z")!
        let clock = Shared(seen)
        let keys = try PinnedKeys(
            file: file, logger: quietLogger, updates: .retirementsOnly, now: { clock.value },
            fetch: {
                asked.update { $0 += 1 }
                return served.value
            })
        #expect(await keys.refresh())
        #expect(await keys.current == old.keys, "the first pin takes what the node serves")
        // Somebody on the way (or the node) says the pinned key was retired a day before the
        // list was read: over http it counts from the moment it is seen, not before.
        var retired = old.key
        retired.status = "retired"
        retired.retiredAt = "2026-07-01T00:00:00.000Z"
        served.update { $0 = KeySet(keys: [retired, slipped.key]) }
        #expect(await keys.refresh())
        #expect(await keys.current.keys.map(\.id) == [old.signer.keyID], "a key served over http is not pinned")
        #expect(await keys.current.key(id: old.signer.keyID)?.retiredAt == "2026-07-02T00:00:00.000Z", "taken from when it was seen")
        let verifier = MessageVerifier(freshness: 300, terminal: "ls-1")
        #expect(
            (try? verifier.check(old.request(key: "w-1/ls-1", at: seen.addingTimeInterval(-60)), keys: await keys.current, now: seen).get())
                != nil, "what was signed before it was seen still plays")
        #expect(
            verifier.check(old.request(key: "w-1/ls-1", at: seen.addingTimeInterval(60)), keys: await keys.current, now: seen)
                == .failure(.retiredKey))
        // A later list dates it no earlier than when that list is read.
        retired.retiredAt = "2026-06-01T00:00:00.000Z"
        served.update { $0 = KeySet(keys: [retired]) }
        clock.update { $0 = seen.addingTimeInterval(3600) }
        #expect(await keys.refresh())
        #expect(await keys.current.key(id: old.signer.keyID)?.retiredAt == "2026-07-02T00:00:00.000Z")
        #expect(await !keys.refresh(forUnknown: slipped.signer.keyID))
        #expect(try KeySet.decode(Data(contentsOf: file)).keys.map(\.id) == [old.signer.keyID])
        // The node lists the key active again: the retirement taken over http holds while
        // the lists have shown it active for less than a day, from keys.json too, and is
        // dropped after; the station plays the key's messages again.
        served.update { $0 = old.keys }
        #expect(await keys.refresh())
        clock.update { $0 = seen.addingTimeInterval(3600 + 86_000) }
        #expect(await keys.refresh())
        #expect(await keys.current.key(id: old.signer.keyID)?.retiredAt == "2026-07-02T00:00:00.000Z", "not yet a day")
        #expect(try KeySet.decode(Data(contentsOf: file)).key(id: old.signer.keyID)?.activeSince != nil)
        clock.update { $0 = seen.addingTimeInterval(3600 + 86_400) }
        #expect(await keys.refresh())
        #expect(await keys.current.key(id: old.signer.keyID)?.retiredAt == nil)
        #expect(try KeySet.decode(Data(contentsOf: file)).key(id: old.signer.keyID)?.retiredAt == nil)
        let later = seen.addingTimeInterval(3600 + 86_500)
        #expect((try? verifier.check(old.request(key: "w-1/ls-1", at: later), keys: await keys.current, now: later).get()) != nil)

        let fixed = try PinnedKeys(file: file, logger: quietLogger, updates: .never) {
            asked.update { $0 += 1 }
            return served.value
        }
        let before = asked.value
        #expect(await !fixed.refresh())
        #expect(await !fixed.refresh(forUnknown: slipped.signer.keyID))
        #expect(asked.value == before, "key_updates: none never asks the node")
    }

    @Test(
        "over plain http a forged far-off retirement does not hold off the real one, and a break in the key's active listing starts its day again"
    )
    func unverifiedRetirementDates() {
        let node = TestNode()
        let now = Timestamp.parse("2026-07-02T00:00:00.000Z")!
        var keys = node.keys
        var forged = node.key
        forged.retiredAt = "9999-01-01T00:00:00.000Z"
        #expect(keys.takeUnverifiedRetirements([forged], now: now).retired == [node.signer.keyID])
        // The node really retires it an hour later: the earlier date wins, not before now.
        var real = node.key
        real.retiredAt = "2026-07-01T12:00:00.000Z"
        _ = keys.takeUnverifiedRetirements([real], now: now.addingTimeInterval(3600))
        #expect(keys.key(id: node.signer.keyID)?.retiredAt == "2026-07-02T01:00:00.000Z")
        // Listed active for 20 hours, retired once more, then active for another 20: still retired.
        _ = keys.takeUnverifiedRetirements([node.key], now: now.addingTimeInterval(7200))
        _ = keys.takeUnverifiedRetirements([real], now: now.addingTimeInterval(72_000))
        _ = keys.takeUnverifiedRetirements([node.key], now: now.addingTimeInterval(80_000))
        #expect(keys.takeUnverifiedRetirements([node.key], now: now.addingTimeInterval(150_000)).restored.isEmpty)
        #expect(keys.key(id: node.signer.keyID)?.retiredAt == "2026-07-02T01:00:00.000Z")
        // A retirement read over verified https is not taken back by lists over http.
        var verified = TestNode().keys
        var retiredThere = verified.keys[0]
        retiredThere.retiredAt = "2026-07-01T00:00:00.000Z"
        verified.add([retiredThere])
        var active = retiredThere
        active.retiredAt = nil
        _ = verified.takeUnverifiedRetirements([active], now: now)
        #expect(verified.takeUnverifiedRetirements([active], now: now.addingTimeInterval(200_000)).restored.isEmpty)
        #expect(verified.keys[0].retiredAt == "2026-07-01T00:00:00.000Z")
    }

    @Test("the receiver picks the policy from key_updates and the node's scheme, and will not start with none and no keys")
    func policy() async throws {
        let folder = ScratchFolder()
        defer { folder.remove() }
        func config(_ node: String, _ updates: ReceiverConfig.KeyUpdates) -> ReceiverConfig {
            ReceiverConfig(
                file: "r.yaml", mode: .dialIn, node: node, terminal: "ls-1", secret: "s", listenPort: 0, stateDirectory: folder.url.path,
                keyUpdates: updates)
        }
        #expect(Receiver.keyUpdates(config("http://10.0.0.1", .https)) == .retirementsOnly)
        #expect(Receiver.keyUpdates(config("https://node.example", .https)) == .all)
        #expect(Receiver.keyUpdates(config("http://10.0.0.1", .any)) == .all)
        #expect(Receiver.keyUpdates(config("https://node.example", .none)) == .never)
        await #expect(throws: ReceiverConfigError.self) {
            _ = try await Receiver.services(config("https://node.example", .none), transport: FakeNode(), logger: quietLogger) { _, _ in }
        }
    }

    @Test("a key whose id is not its hash, or not Ed25519, is not pinned")
    func unusable() throws {
        var wrongID = TestNode().key
        wrongID.id = "0000000000000000"
        var wrongAlgorithm = TestNode().key
        wrongAlgorithm.algorithm = "RSA"
        var short = TestNode().key
        short.publicKey = Data(count: 16).base64EncodedString()
        #expect(KeySet(keys: [wrongID, wrongAlgorithm, short]).isEmpty)
        let answer = Data(#"{"keys":[{"id":"x","algorithm":"Ed25519","publicKey":"AAAA","status":"active","created":"2026-01-01"}]}"#.utf8)
        #expect(try KeySet.decode(answer).isEmpty)
    }
}
