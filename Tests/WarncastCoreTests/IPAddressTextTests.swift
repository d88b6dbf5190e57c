import Testing
import WarncastCore

@Suite("Client addresses behind a reverse proxy")
struct IPAddressTextTests {
    @Test("addresses are written one way; names and garbage are not addresses")
    func canonical() {
        #expect(IPAddressText.canonical("127.0.0.1") == "127.0.0.1")
        #expect(IPAddressText.canonical(" 10.0.0.7 ") == "10.0.0.7")
        #expect(IPAddressText.canonical("0:0:0:0:0:0:0:1") == "::1")
        #expect(IPAddressText.canonical("2001:DB8::A") == "2001:db8::a")
        #expect(IPAddressText.canonical("nginx.local") == nil)
        #expect(IPAddressText.canonical("127.0.0.1:8080") == nil)
        #expect(IPAddressText.canonical("") == nil)
        // An IPv4 peer of a dual-stack socket is the IPv4 address.
        #expect(IPAddressText.canonical("::ffff:127.0.0.1") == "127.0.0.1")
        #expect(IPAddressText.canonical("::FFFF:7f00:5") == "127.0.0.5")
        #expect(IPAddressText.canonical("::1:7f00:5") == "::1:7f00:5")
    }

    @Test("attempts are counted per IPv4 address and per IPv6 /64")
    func neighbourhood() {
        #expect(IPAddressText.neighbourhood("203.0.113.9") == "203.0.113.9")
        #expect(IPAddressText.neighbourhood("2001:db8:0:7::1") == "2001:db8:0:7::/64")
        #expect(IPAddressText.neighbourhood("2001:db8:0:7:ffff:1:2:3") == "2001:db8:0:7::/64")
        #expect(IPAddressText.neighbourhood("2001:db8:0:8::1") == "2001:db8:0:8::/64")
        #expect(IPAddressText.neighbourhood("-") == "-")
    }

    @Test("a trusted proxy's X-Forwarded-For names the client; from anyone else the header is ignored")
    func client() {
        let proxies: Set = ["127.0.0.1", "10.0.0.2"]
        // Straight from a client: whatever it claims is ignored.
        #expect(IPAddressText.client(peer: "203.0.113.9", forwardedFor: "198.51.100.1", trusted: proxies) == "203.0.113.9")
        // Through nginx: the address nginx was reached from.
        #expect(IPAddressText.client(peer: "127.0.0.1", forwardedFor: "203.0.113.9", trusted: proxies) == "203.0.113.9")
        // A client that wrote its own header first: only the last, untrusted entry counts.
        #expect(IPAddressText.client(peer: "127.0.0.1", forwardedFor: "198.51.100.1, 203.0.113.9", trusted: proxies) == "203.0.113.9")
        // Two proxies in a row: the one before the last is skipped too.
        #expect(IPAddressText.client(peer: "127.0.0.1", forwardedFor: "203.0.113.9, 10.0.0.2", trusted: proxies) == "203.0.113.9")
        // No header, or one that is not an address: the proxy's own.
        #expect(IPAddressText.client(peer: "127.0.0.1", forwardedFor: nil, trusted: proxies) == "127.0.0.1")
        #expect(IPAddressText.client(peer: "127.0.0.1", forwardedFor: "unknown", trusted: proxies) == "127.0.0.1")
        #expect(IPAddressText.client(peer: nil, forwardedFor: "203.0.113.9", trusted: proxies) == nil)
        // The peer as a dual-stack listener reports it is still the trusted proxy.
        #expect(IPAddressText.client(peer: "::ffff:127.0.0.1", forwardedFor: "203.0.113.9", trusted: proxies) == "203.0.113.9")
        #expect(IPAddressText.client(peer: "::ffff:203.0.113.9", forwardedFor: "198.51.100.1", trusted: proxies) == "203.0.113.9")
    }
}
