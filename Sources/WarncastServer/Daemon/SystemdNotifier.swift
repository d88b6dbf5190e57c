import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Speaks systemd's notify protocol: datagrams such as `READY=1` or `WATCHDOG=1` sent to the
/// socket named in `$NOTIFY_SOCKET`. Does nothing when the variable is unset.
public struct SystemdNotifier: Sendable {
    public let socketPath: String?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Sends `state`; returns whether a datagram went out.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        #if os(Linux)
            guard let socketPath else { return false }
            let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            // A leading '@' names an abstract socket, whose address starts with a NUL byte.
            var path = Array(socketPath.utf8)
            if path.first == UInt8(ascii: "@") { path[0] = 0 }
            let capacity = MemoryLayout.size(ofValue: address.sun_path)
            guard path.count < capacity else { return false }
            withUnsafeMutableBytes(of: &address.sun_path) { buffer in
                buffer.copyBytes(from: path)
            }
            let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
            let message = Array(state.utf8)
            let sent = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddrPointer in
                    // Never wait: with the receiver's queue full (systemd busy, or nobody
                    // reading), a blocking send held the watchdog service, and with it the
                    // graceful shutdown, for good. A notification that does not fit is dropped.
                    sendto(fd, message, message.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT), sockaddrPointer, length)
                }
            }
            return sent == message.count
        #else
            return false
        #endif
    }

    /// Half the watchdog interval systemd asked for, or `nil` when it asked for none.
    public static func watchdogInterval(environment: [String: String] = ProcessInfo.processInfo.environment) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let usec = Int64(text), usec > 0 else { return nil }
        return .microseconds(usec / 2)
    }
}
