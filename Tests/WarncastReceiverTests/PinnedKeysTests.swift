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
