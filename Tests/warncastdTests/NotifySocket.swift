import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A unix datagram socket standing in for systemd's `$NOTIFY_SOCKET`. Like systemd, it reads
/// what arrives as it arrives (on a thread of its own), unless told not to (`reading: false`,
/// a receiver that has stalled: the kernel then queues ten datagrams and refuses more).
final class NotifySocket {
    let path: String
    private let inbox: Inbox
    private let reading: Bool

    init(directory: URL, reading: Bool = true) throws {
        path = directory.appendingPathComponent("notify.sock").path
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard fd >= 0, result == 0 else { throw POSIXError(.EADDRINUSE) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        inbox = Inbox(fd: fd, reader: reading)
        self.reading = reading
        if reading { Thread.detachNewThread { [inbox] in inbox.read() } }
    }

    /// Every datagram received since the last call, waiting `seconds` for more first.
    func messages(within seconds: TimeInterval) -> [String] {
        Thread.sleep(forTimeInterval: seconds)
        if !reading { inbox.drain() }
        return inbox.take()
    }

    deinit {
        // The reading thread closes the socket when it sees this; otherwise it is closed here.
        if !inbox.close() { Glibc.close(inbox.fd) }
        unlink(path)
    }

    /// The socket and what has arrived on it, shared with the reading thread.
    private final class Inbox: @unchecked Sendable {
        let fd: Int32
        private let lock = NSLock()
        private var received: [String] = []
        private var closed = false
        /// Whether a reading thread owns the socket (and closes it).
        private let readerRunning: Bool

        init(fd: Int32, reader: Bool) {
            self.fd = fd
            readerRunning = reader
        }

        func read() {
            while !lock.withLock({ closed }) {
                if !drain() { Thread.sleep(forTimeInterval: 0.01) }
            }
            Glibc.close(fd)
        }

        /// Reads what is queued; whether there was anything.
        @discardableResult
        func drain() -> Bool {
            var buffer = [UInt8](repeating: 0, count: 512)
            var any = false
            while true {
                let count = recv(fd, &buffer, buffer.count, 0)
                guard count > 0 else { return any }
                any = true
                let message = String(decoding: buffer[0..<count], as: UTF8.self)
                lock.withLock { received.append(message) }
            }
        }

        func take() -> [String] {
            lock.withLock {
                defer { received = [] }
                return received
            }
        }

        /// Asks the reading thread to stop; false when there is none (the caller closes).
        func close() -> Bool {
            lock.withLock {
                closed = true
                return readerRunning
            }
        }
    }
}
