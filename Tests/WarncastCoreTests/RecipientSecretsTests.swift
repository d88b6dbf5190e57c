import Foundation
import Testing
import WarncastCore

@Suite("Recipients' secrets")
struct RecipientSecretsTests {
    @Test("a secret is kept as a keyed hash that differs by node, and the old plain form is still recognised")
    func keyed() {
        let node = RecipientSecrets(key: Data(repeating: 7, count: 32))
        let other = RecipientSecrets(key: Data(repeating: 8, count: 32))
        let stored = node.hash("s3cret")
        #expect(stored.hasPrefix("k1:") && stored.count == 3 + 64)
        #expect(stored != AccessToken.hash("s3cret"))
        #expect(stored != other.hash("s3cret"))
        #expect(node.hash("s3cret") == stored, "the same secret, the same form")
        #expect(node.candidates("s3cret") == [stored, AccessToken.hash("s3cret")])
    }
}
