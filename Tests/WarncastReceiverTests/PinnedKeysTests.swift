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
        // A later list moves no retirement already taken.
        retired.retiredAt = "2026-06-01T00:00:00.000Z"
        served.update { $0 = KeySet(keys: [retired]) }
        clock.update { $0 = seen.addingTimeInterval(3600) }
        #expect(await keys.refresh())
        #expect(await keys.current.key(id: old.signer.keyID)?.retiredAt == "2026-07-02T00:00:00.000Z")
        #expect(await !keys.refresh(forUnknown: slipped.signer.keyID))
        #expect(try KeySet.decode(Data(contentsOf: file)).keys.map(\.id) == [old.signer.keyID])
        // The node (the attacker gone) lists the key active again: the retirement taken over
        // http is dropped, from keys.json too, and the station plays again.
        served.update { $0 = old.keys }
        #expect(await keys.refresh())
        #expect(await keys.current.key(id: old.signer.keyID)?.retiredAt == nil)
        #expect(try KeySet.decode(Data(contentsOf: file)).key(id: old.signer.keyID)?.retiredAt == nil)
        let later = seen.addingTimeInterval(7200)
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
