import Testing
import WarncastNet

@Suite("libcurl through the CCurl system library")
struct CurlTransferTests {
    @Test("the linked libcurl speaks HTTP, HTTPS and SMTP")
    func protocols() {
        #expect(CurlTransfer.version.hasPrefix("libcurl/"))
        #expect(Set(["http", "https", "smtp", "smtps"]).isSubset(of: Set(CurlTransfer.protocols)))
    }

    @Test("a refused connection is a curl error, not a response")
    func refused() {
        // Port 9 (discard) has no listener on the loopback of a test machine.
        #expect(throws: CurlError.self) {
            try CurlTransfer.perform(
                HTTPRequestSpec(url: "http://127.0.0.1:9/", connectTimeoutMilliseconds: 2000, totalTimeoutMilliseconds: 3000))
        }
    }
}
