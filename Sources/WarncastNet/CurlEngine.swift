import CCurl
import Foundation
import Synchronization

/// Many HTTP transfers at once: libcurl multi handles, each driven by `curl_multi_poll` on a
/// thread of its own, bridged to async/await. Connections to a host that takes more than
/// one transfer are kept and reused (`ConnectionKeeping`).
///
/// Callers `await perform(_:)` from any task. A transfer goes to the thread its origin
/// (`scheme://host:port`) hashes to, so one host's transfers share that thread's kept
/// connections; with `threads` above one, the work of many hosts (TLS handshakes above all)
/// is spread over several cores.
public final class CurlEngine: Sendable {
    private let loops: [EngineLoop]

    /// Transport settings shared by every transfer.
    public struct Options: Sendable {
        /// Upper bound on open connections (`CURLMOPT_MAX_TOTAL_CONNECTIONS`) of each thread:
        /// one host's transfers all go to one thread, so each may need all of them.
        public var maxConnections: Int
        /// Verify the peer's certificate and host name (on unless explicitly switched off).
        public var verifyTLS: Bool
        /// A PEM bundle of trusted CAs instead of the system's.
        public var caBundle: String?
        /// PEM client certificate and key, for receivers that require one.
        public var clientCertificate: String?
        public var clientKey: String?
        /// Engine threads, each with its own multi handle.
        public var threads: Int
        /// How long a host that ended a transfer counts as taking more (its next connection
        /// is kept); see `ConnectionKeeping`.
        public var keepMemory: Duration = .seconds(2)

        public init(
            maxConnections: Int = 512, verifyTLS: Bool = true, caBundle: String? = nil,
            clientCertificate: String? = nil, clientKey: String? = nil, threads: Int = 1
        ) {
            self.maxConnections = maxConnections
            self.verifyTLS = verifyTLS
            self.caBundle = caBundle
            self.clientCertificate = clientCertificate
            self.clientKey = clientKey
            self.threads = threads
        }
    }

    public init(options: Options = Options()) {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
        let threads = max(1, options.threads)
        loops = (0..<threads).map { index in
            EngineLoop(options: options, maxConnections: options.maxConnections, name: "warncast-curl-\(index)")
        }
    }

    /// Sends `request`; returns the response, or throws `CurlError` when none arrived.
    public func perform(_ request: HTTPRequestSpec) async throws -> HTTPResult {
        let origin = ConnectionKeeping.origin(of: request.url)
        guard loops.count > 1 else { return try await loops[0].perform(request, origin: origin) }
        // FNV-1a over the origin: cheap, and one origin always lands on the same thread.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in origin.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return try await loops[Int(hash % UInt64(loops.count))].perform(request, origin: origin)
    }

    /// Stops taking transfers, lets those in flight finish, and ends the engine threads.
    public func shutdown() {
        for loop in loops { loop.shutdown() }
    }
}

/// One engine thread and its multi handle.
private final class EngineLoop: @unchecked Sendable {
    // `multi` is used only on the engine thread, except `curl_multi_wakeup`, which libcurl
    // documents as safe to call from any thread. Everything else shared sits in `state`,
    // behind a mutex; hence unchecked.
    private let multi: UnsafeMutableRawPointer
    private let state = Mutex(SharedState())
    private let options: CurlEngine.Options

    private struct SharedState: ~Copyable {
        var pending: [PendingTransfer] = []
        var stopping = false
    }

    private struct PendingTransfer: Sendable {
        var request: HTTPRequestSpec
        /// `scheme://host:port` of the request's URL.
        var origin: Substring
        var continuation: CheckedContinuation<HTTPResult, any Error>
    }

    init(options: CurlEngine.Options, maxConnections: Int, name: String) {
        multi = curl_multi_init()
        self.options = options
        _ = warncast_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, maxConnections)
        _ = warncast_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, maxConnections)
        let thread = Thread { [self] in self.runLoop() }
        thread.name = name
        thread.start()
    }

    func perform(_ request: HTTPRequestSpec, origin: Substring) async throws -> HTTPResult {
        try await withCheckedThrowingContinuation { continuation in
            // Only the first transfer queued since the engine last looked needs to wake it;
            // it takes every queued transfer when it wakes.
            let (accepted, wake) = state.withLock { state -> (Bool, Bool) in
                guard !state.stopping else { return (false, false) }
                state.pending.append(PendingTransfer(request: request, origin: origin, continuation: continuation))
                return (true, state.pending.count == 1)
            }
            if !accepted {
                continuation.resume(throwing: CurlError(code: -2, message: "the engine is shut down"))
            } else if wake {
                curl_multi_wakeup(multi)
            }
        }
    }

    func shutdown() {
        state.withLock { $0.stopping = true }
        curl_multi_wakeup(multi)
    }

    // MARK: The engine thread

    private func runLoop() {
        var active: [UnsafeMutableRawPointer: ActiveTransfer] = [:]
        var keeping = ConnectionKeeping(memory: options.keepMemory)
        while true {
            let (incoming, stopping) = state.withLock { state -> ([PendingTransfer], Bool) in
                defer { state.pending.removeAll() }
                return (state.pending, state.stopping)
            }
            let origins = incoming.map(\.origin)
            let keep = keeping.start(origins, now: .now)
            for (index, pending) in incoming.enumerated() {
                let transfer = ActiveTransfer(pending.request, continuation: pending.continuation, origin: origins[index])
                guard let easy = transfer.makeHandle(options: options, keepConnection: keep[index]) else {
                    keeping.end(origins[index], now: .now)
                    pending.continuation.resume(throwing: CurlError(code: -1, message: "curl_easy_init failed"))
                    continue
                }
                curl_multi_add_handle(multi, easy)
                active[easy] = transfer
            }
            if stopping && active.isEmpty { break }
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            collectFinished(&active, keeping: &keeping)
            curl_multi_poll(multi, nil, 0, 1000, nil)
        }
        curl_multi_cleanup(multi)
    }

    private func collectFinished(_ active: inout [UnsafeMutableRawPointer: ActiveTransfer], keeping: inout ConnectionKeeping) {
        var left: Int32 = 0
        let now = ContinuousClock.now
        while let message = curl_multi_info_read(multi, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                let transfer = active.removeValue(forKey: easy)
            else { continue }
            let code = warncast_message_result(message)
            curl_multi_remove_handle(multi, easy)
            keeping.end(transfer.origin, now: now)
            transfer.finish(easy: easy, code: code)
            curl_easy_cleanup(easy)
        }
    }
}
