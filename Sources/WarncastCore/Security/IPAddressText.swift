import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// IP addresses written as text: one spelling for each address, and the client an address
/// a trusted reverse proxy forwarded for.
public enum IPAddressText {
    /// The address in its usual spelling (`127.0.0.1`, `::1`, lower-case and shortest for
    /// IPv6), or nil when `text` is not an IPv4 or IPv6 address. An IPv4 address written as
    /// IPv6 (`::ffff:127.0.0.1`, how a dual-stack socket sees an IPv4 peer) is the IPv4 one.
    public static func canonical(_ text: String) -> String? {
        let text = text.trimmingCharacters(in: .whitespaces)
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return write(AF_INET, &v4, length: INET_ADDRSTRLEN) }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
            return bytes[12...].map(String.init).joined(separator: ".")
        }
        return write(AF_INET6, &v6, length: INET6_ADDRSTRLEN)
    }

    /// Where attempts from `address` are counted together: an IPv4 address alone, an IPv6
    /// address with the rest of its /64 (one subscriber line usually holds a whole /64, so
    /// counting its addresses apart would give one guesser billions of budgets).
    public static func neighbourhood(_ address: String) -> String {
        var v6 = in6_addr()
        guard address.contains(":"), inet_pton(AF_INET6, address, &v6) == 1 else { return address }
        withUnsafeMutableBytes(of: &v6) { bytes in
            for index in 8..<16 { bytes[index] = 0 }
        }
        return (write(AF_INET6, &v6, length: INET6_ADDRSTRLEN) ?? address) + "/64"
    }

    private static func write(_ family: Int32, _ address: UnsafeRawPointer, length: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(length))
        guard inet_ntop(family, address, &buffer, socklen_t(length)) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Who sent a request that reached us from `peer`. When `peer` is one of `trusted` (a
    /// reverse proxy), the client is the last address of `forwardedFor` (X-Forwarded-For,
    /// each proxy adds the address it was reached from at the end) that is not itself a
    /// trusted proxy; anything before that was written by whoever sent the request and
    /// proves nothing. Otherwise, or when the header is missing or not an address, `peer`.
    /// The answer is canonical (see `canonical`) when `peer` is an address.
    public static func client(peer: String?, forwardedFor: String?, trusted: Set<String>) -> String? {
        let peer = peer.map { canonical($0) ?? $0 }
        guard let peer, trusted.contains(peer), let forwardedFor else { return peer }
        for entry in forwardedFor.split(separator: ",").reversed() {
            guard let address = canonical(String(entry)) else { return peer }
            if !trusted.contains(address) { return address }
        }
        return peer
    }
}
