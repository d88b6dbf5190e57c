import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// IP addresses written as text: one spelling for each address, and the client an address
/// a trusted reverse proxy forwarded for.
public enum IPAddressText {
    /// The address in its usual spelling (`127.0.0.1`, `::1`, lower-case and shortest for
    /// IPv6), or nil when `text` is not an IPv4 or IPv6 address.
    public static func canonical(_ text: String) -> String? {
        let text = text.trimmingCharacters(in: .whitespaces)
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return write(AF_INET, &v4, length: INET_ADDRSTRLEN) }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return write(AF_INET6, &v6, length: INET6_ADDRSTRLEN) }
        return nil
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
    public static func client(peer: String?, forwardedFor: String?, trusted: Set<String>) -> String? {
        guard let peer, trusted.contains(peer), let forwardedFor else { return peer }
        for entry in forwardedFor.split(separator: ",").reversed() {
            guard let address = canonical(String(entry)) else { return peer }
            if !trusted.contains(address) { return address }
        }
        return peer
    }
}
