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

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    func countRequest(method: String, route: String, status: Int) {
        registry.makeCounter(
            descriptor: .init(
                namespace: "warncast", metricName: "http_requests", unitName: "total",
                helpText: "HTTP requests served, by method, route and status."),
            labels: [("method", method), ("route", route), ("status", String(status))]
        ).increment()
    }

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
        let key = channel + "\u{1F}" + outcome
        let counter = attemptCounters.counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = registry.makeCounter(
                descriptor: .init(
                    namespace: "warncast", metricName: "delivery_attempts", unitName: "total",
                    helpText: "Delivery attempts, by channel and outcome (delivered, accepted, retry, failed, deferred)."),
                labels: [("channel", channel), ("outcome", outcome)])
            counters[key] = counter
            return counter
        }
        counter.increment()
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

/// Counters already made, by key; shared by the copies of `ServerMetrics`.
final class CounterCache: Sendable {
    let counters = Mutex<[String: Counter]>([:])
}
