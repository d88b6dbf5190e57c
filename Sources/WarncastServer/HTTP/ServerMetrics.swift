import Hummingbird
import Logging
import Prometheus
import Synchronization
import WarncastCore
import WarncastDispatch

/// The daemon's Prometheus metrics, in a registry owned by the application (no global state).
public struct ServerMetrics: Sendable, DeliveryCounter {
    public let registry: PrometheusCollectorRegistry
    /// The attempt counters by channel and outcome: a fan-out counts hundreds of thousands
    /// of attempts, and looking a counter up in the registry each time showed in profiles.
    private let attemptCounters = CounterCache()
    /// The request counters by method, route pattern and status, for the same reason: every
    /// dial-in terminal's acknowledgement is a request.
    private let requestCounters = CounterCache()
    /// Work done just before each scrape: gauges read from the dispatcher and the store.
    private let scrapeHooks = ScrapeHooks()

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    /// Runs `hook` before every scrape of `/metrics`, to set gauges that are read rather
    /// than counted.
    public func beforeScrape(_ hook: @escaping @Sendable (ServerMetrics) async -> Void) {
        scrapeHooks.hooks.withLock { $0.append(hook) }
    }

    func runScrapeHooks() async {
        for hook in scrapeHooks.hooks.withLock({ $0 }) { await hook(self) }
    }

    /// Deliveries queued again by an operator's resend.
    func countResends(channel: String?, count: Int) {
        registry.makeCounter(
            descriptor: .init(
                namespace: "warncast", metricName: "deliveries_resent", unitName: "total",
                helpText: "Deliveries queued again by an operator (warncast warnings resend), by channel (all: every channel)."),
            labels: [("channel", channel ?? "all")]
        ).increment(by: Int64(count))
    }

    /// Endpoints (terminals, gateways) whose circuit breaker is open now, on `channel`.
    public func setOpenBreakers(channel: String, count: Int) {
        registry.makeGauge(
            descriptor: .init(
                namespace: "warncast", metricName: "circuit_breakers_open",
                helpText: "Endpoints whose circuit breaker is open (left alone for a cooldown after failing in a row), by channel."),
            labels: [("channel", channel)]
        ).set(Double(count))
    }

    /// Broadcast terminals in one county, online or offline (no heartbeat within the limit).
    public func setTerminals(county: String, online: Int, offline: Int) {
        for (state, count) in [("online", online), ("offline", offline)] {
            registry.makeGauge(
                descriptor: .init(
                    namespace: "warncast", metricName: "terminals",
                    helpText: "Broadcast terminals per county, online (heartbeat within the limit) or offline."),
                labels: [("county", county), ("state", state)]
            ).set(Double(count))
        }
    }

    /// Seconds since the oldest red warning in force with a delivery still waiting to go out
    /// was released; 0 when none is waiting.
    public func setOldestWaiting(level: Level, seconds: Double) {
        registry.makeGauge(
            descriptor: .init(
                namespace: "warncast", metricName: "oldest_undelivered", unitName: "seconds",
                helpText: "Age of the oldest warning in force with deliveries not yet sent, by level (0: none waiting)."),
            labels: [("level", level.rawValue)]
        ).set(seconds)
    }

    func countRequest(method: String, route: String, status: Int) {
        // Any token is a method to HTTP: a made-up one counts as `other`, or each would add
        // a counter (and a label value) for good.
        let method = Self.knownMethods.contains(method) ? method : "other"
        requestCounters.counter(method + "\u{1F}" + route + "\u{1F}" + String(status)) {
            registry.makeCounter(
                descriptor: .init(
                    namespace: "warncast", metricName: "http_requests", unitName: "total",
                    helpText: "HTTP requests served, by method, route and status."),
                labels: [("method", method), ("route", route), ("status", String(status))])
        }.increment()
    }

    private static let knownMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    /// Counts one delivery attempt by channel and outcome (the dispatcher calls this).
    public func countGiveUp(channel: String) {
        registry.makeCounter(
            descriptor: .init(
                namespace: "warncast", metricName: "delivery_give_ups", unitName: "total",
                helpText: "Deliveries given up (refused for good, or out of attempts), by channel."),
            labels: [("channel", channel)]
        ).increment()
    }

    public func countAttempt(channel: String, outcome: String) {
        attemptCounters.counter(channel + "\u{1F}" + outcome) {
            registry.makeCounter(
                descriptor: .init(
                    namespace: "warncast", metricName: "delivery_attempts", unitName: "total",
                    helpText: "Delivery attempts, by channel and outcome (delivered, accepted, retry, failed, deferred)."),
                labels: [("channel", channel), ("outcome", outcome)])
        }.increment()
    }

    /// Counts a submission as `accepted`, `duplicate` or `refused`, with the refusal's code.
    func countSubmission(result: String, reason: String = "") {
        registry.makeCounter(
            descriptor: .init(
                namespace: "warncast", metricName: "submissions", unitName: "total",
                helpText: "Warning submissions, by result and refusal reason."),
            labels: [("result", result), ("reason", reason)]
        ).increment()
    }
}

/// Counts every request by route pattern (not raw path, to keep label values bounded).
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = WarncastRequestContext
    let metrics: ServerMetrics

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            let response = try await next(request, context)
            metrics.countRequest(
                method: request.method.rawValue, route: context.endpointPath ?? "unmatched",
                status: response.status.code)
            return response
        } catch let error as any HTTPResponseError {
            metrics.countRequest(
                method: request.method.rawValue, route: context.endpointPath ?? "unmatched",
                status: error.status.code)
            throw error
        } catch {
            metrics.countRequest(
                method: request.method.rawValue, route: context.endpointPath ?? "unmatched", status: 500)
            // Not the caller's fault: on record for the operator, a plain reason for the caller.
            context.logger.error("request failed", metadata: ["route": "\(context.endpointPath ?? request.uri.path)", "error": "\(error)"])
            throw APIError(.internalServerError, code: "internal_error", detail: "the request could not be completed; see the daemon's log")
        }
    }
}

/// Hooks run before a scrape; shared by the copies of `ServerMetrics`.
final class ScrapeHooks: Sendable {
    let hooks = Mutex<[@Sendable (ServerMetrics) async -> Void]>([])
}

/// Counters already made, by key; shared by the copies of `ServerMetrics`.
final class CounterCache: Sendable {
    private let counters = Mutex<[String: Counter]>([:])

    /// The counter kept under `key`, made (and kept) by `make` the first time.
    func counter(_ key: String, make: () -> Counter) -> Counter {
        counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = make()
            counters[key] = counter
            return counter
        }
    }
}
