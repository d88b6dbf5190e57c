import Foundation
import Testing
import WarncastCore
import WarncastReceiver

@Suite("Checking a pushed message's signature")
struct MessageVerifierTests {
    let node = TestNode()
    let verifier = MessageVerifier(freshness: 300)
    let now = Date()

    @Test("a message signed just now by a pinned key is accepted, with its fields")
    func accepted() throws {
        let result = verifier.check(node.request(key: "w-1/ls-1", at: now), keys: node.keys, now: now)
        let message = try result.get()
        #expect(message.idempotencyKey == "w-1/ls-1")
        #expect(message.text == "暴雨红色预警")
        #expect(message.language == "zh-CN")
        #expect(message.repeat == 3)
        #expect(message.level == "red")
    }

    @Test("a message for another terminal is refused: its key must be its warning's id, a slash and this terminal's id")
    func otherTerminal() {
        let own = MessageVerifier(freshness: 300, terminal: "ls-1")
        #expect((try? own.check(node.request(key: "w-1/ls-1", at: now), keys: node.keys, now: now).get()) != nil)
        #expect(own.check(node.request(key: "w-1/ls-2", at: now), keys: node.keys, now: now) == .failure(.otherTerminal))
        #expect(own.check(node.request(key: "w-1/xls-1", at: now), keys: node.keys, now: now) == .failure(.otherTerminal))
        // Another recipient whose id ends in "/ls-1" (ids are free text) is another terminal.
        let nested = "w-1/430102/ls-1"
        #expect(
            own.check(node.request(key: nested, body: TestNode.body(key: nested), at: now), keys: node.keys, now: now)
                == .failure(.otherTerminal))
        // A body without its warning's id cannot show the key is this terminal's.
        let anonymous = try! JSONSerialization.data(withJSONObject: [
            "idempotencyKey": "w-1/ls-1", "language": "zh-CN", "repeat": 1, "text": "x",
        ])
        #expect(
            own.check(node.request(key: "w-1/ls-1", body: anonymous, at: now), keys: node.keys, now: now) == .failure(.otherTerminal))
    }

    @Test("a retired key verifies what it signed before its retirement, and nothing signed after")
    func retiredKey() {
        var retired = node.key
        retired.status = "retired"
        retired.retiredAt = Timestamp.string(now.addingTimeInterval(-60))
        let keys = KeySet(keys: [retired])
        #expect((try? verifier.check(node.request(key: "w-1/ls-1", at: now.addingTimeInterval(-120)), keys: keys, now: now).get()) != nil)
        #expect(verifier.check(node.request(key: "w-1/ls-1", at: now), keys: keys, now: now) == .failure(.retiredKey))
    }

    @Test("a message missing any of the four signing headers is refused as unsigned", arguments: 0..<4)
    func unsigned(missing: Int) {
        var request = node.request(key: "w-1/ls-1", at: now)
        switch missing {
        case 0: request.idempotencyKey = nil
        case 1: request.timestamp = nil
        case 2: request.keyID = nil
        default: request.signature = ""
        }
        #expect(verifier.check(request, keys: node.keys, now: now) == .failure(.unsigned))
    }

    @Test("a message signed by a key that is not pinned is refused as unknown_key")
    func unknownKey() {
        let stranger = TestNode()
        #expect(verifier.check(stranger.request(key: "w-1/ls-1", at: now), keys: node.keys, now: now) == .failure(.unknownKey))
        #expect(verifier.check(node.request(key: "w-1/ls-1", at: now), keys: KeySet(), now: now) == .failure(.unknownKey))
    }

    @Test("a body changed after signing, or a signature from another key under a pinned id, is refused as bad_signature")
    func tampered() {
        var request = node.request(key: "w-1/ls-1", at: now)
        request.body = TestNode.body(key: "w-1/ls-1", text: "解除预警")
        #expect(verifier.check(request, keys: node.keys, now: now) == .failure(.badSignature))

        var forged = TestNode().request(key: "w-1/ls-1", at: now)
        forged.keyID = node.signer.keyID
        #expect(verifier.check(forged, keys: node.keys, now: now) == .failure(.badSignature))

        var garbled = node.request(key: "w-1/ls-1", at: now)
        garbled.signature = "not base64!"
        #expect(verifier.check(garbled, keys: node.keys, now: now) == .failure(.badSignature))

        // The idempotency key and the timestamp are signed too.
        var renamed = node.request(key: "w-1/ls-1", at: now)
        renamed.idempotencyKey = "w-2/ls-1"
        #expect(verifier.check(renamed, keys: node.keys, now: now) == .failure(.badSignature))
    }

    @Test("a timestamp further than the freshness window from our clock, either way, is refused as stale")
    func stale() {
        for offset in [-301.0, 301, -86_400] {
            let request = node.request(key: "w-1/ls-1", at: now.addingTimeInterval(offset))
            #expect(verifier.check(request, keys: node.keys, now: now) == .failure(.stale))
        }
        for offset in [-299.0, 299] {
            let request = node.request(key: "w-1/ls-1", at: now.addingTimeInterval(offset))
            #expect((try? verifier.check(request, keys: node.keys, now: now).get()) != nil)
        }
    }

    @Test("a signed body for another idempotency key, or one that is not the payload, is bad_payload with status 400")
    func badPayload() {
        let other = node.request(key: "w-1/ls-1", body: TestNode.body(key: "w-1/ls-2"), at: now)
        #expect(verifier.check(other, keys: node.keys, now: now) == .failure(.badPayload))
        let junk = node.request(key: "w-1/ls-1", body: Data("{\"hello\":1}".utf8), at: now)
        #expect(verifier.check(junk, keys: node.keys, now: now) == .failure(.badPayload))
        #expect(Refusal.badPayload.status == 400)
        #expect([Refusal.unsigned, .unknownKey, .badSignature, .stale].allSatisfy { $0.status == 401 })
    }
}
