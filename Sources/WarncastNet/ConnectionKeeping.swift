import Foundation

/// Whether a transfer's connection is worth keeping open after it, decided per origin
/// (`scheme://host:port`) from what the engine is doing and has just done.
///
/// libcurl keeps every finished connection in its cache for reuse, and its cache costs grow
/// with its size: each new connection past the limit, and each finished transfer, walks all
/// kept connections (7.88's `Curl_conncache_extract_oldest` and friends). A fan-out to
/// 100,000 village terminals, each its own host, fills the cache with connections nobody
/// will use again, and those walks took most of the daemon's CPU. So a connection is kept
/// only when another transfer to the same origin is queued or running, or one finished
/// within `memory`: a gateway or a platform that takes many deliveries keeps its
/// connections; a terminal seen once does not.
struct ConnectionKeeping {
    /// How long an origin counts as recently used after its last transfer ended.
    let memory: Duration
    private var running: [Substring: Int] = [:]
    private var lastUsed: [Substring: ContinuousClock.Instant] = [:]
    private var lastSweep: ContinuousClock.Instant

    init(memory: Duration = .seconds(2), now: ContinuousClock.Instant = .now) {
        self.memory = memory
        lastSweep = now
    }

    /// The part of `url` that names the connection: scheme, host and port.
    static func origin(of url: String) -> Substring {
        guard let separator = url.range(of: "://") else { return Substring(url) }
        let rest = url[separator.upperBound...]
        let end = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        return url[..<end]
    }

    /// Decides for each of `origins` (transfers about to start, in order) whether to keep
    /// its connection, and counts them as running. A mail server's connection is always
    /// kept: closing one makes libcurl (7.88) send QUIT and wait for the answer without
    /// returning, which would hold the engine thread for as long as the server takes.
    mutating func start(_ origins: [Substring], now: ContinuousClock.Instant) -> [Bool] {
        var inBatch: [Substring: Int] = [:]
        for origin in origins { inBatch[origin, default: 0] += 1 }
        return origins.map { origin in
            let keep =
                origin.hasPrefix("smtp") || inBatch[origin, default: 0] > 1 || running[origin, default: 0] > 0
                || lastUsed[origin].map { now - $0 < memory } == true
            running[origin, default: 0] += 1
            return keep
        }
    }

    /// A transfer to `origin` has ended.
    mutating func end(_ origin: Substring, now: ContinuousClock.Instant) {
        if let count = running[origin], count > 1 {
            running[origin] = count - 1
        } else {
            running[origin] = nil
        }
        lastUsed[origin] = now
        // Forget origins not used within `memory`, at most once per `memory`: the map holds
        // the origins of the last few seconds, not every terminal ever reached.
        if now - lastSweep >= memory {
            lastUsed = lastUsed.filter { now - $0.value < memory }
            lastSweep = now
        }
    }

    /// Origins remembered as recently used (for tests).
    var remembered: Int { lastUsed.count }
}
