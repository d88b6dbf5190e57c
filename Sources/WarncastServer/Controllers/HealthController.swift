import Foundation
import Hummingbird
import Logging
import Prometheus
import WarncastCore
import WarncastStore

/// `/healthz` and `/metrics`, public and unauthenticated.
struct HealthController {
    let store: any Store
    let metrics: ServerMetrics
    let now: @Sendable () -> Date

    func register<Methods: RouterMethods>(on registrar: RouteRegistrar<Methods>)
    where Methods.Context == WarncastRequestContext {
        registrar.on(.get, "/healthz", use: health)
        registrar.on(.get, "/metrics", use: exposition)
    }

    struct Health: ResponseEncodable {
        var status: String
        var store: String
        /// Why the store is not ok.
        var reason: String?
    }

    @Sendable func health(_ request: Request, context: WarncastRequestContext) async throws -> Response {
        let health = await store.health()
        var response = try context.responseEncoder.encode(
            Health(status: health.isHealthy ? "ok" : "degraded", store: health.isHealthy ? "ok" : "unavailable", reason: health.problem),
            from: request, context: context)
        response.status = health.isHealthy ? .ok : .serviceUnavailable
        return response
    }

    @Sendable func exposition(_ request: Request, context: WarncastRequestContext) async throws -> Response {
        await metrics.runScrapeHooks()
        // A store that cannot be read leaves the gauge as it was; /healthz says why.
        for level in [Level.red, .orange] {
            do {
                let released = try await store.oldestWaitingRelease(level: level)
                metrics.setOldestWaiting(level: level, seconds: max(0, now().timeIntervalSince(released ?? now())))
            } catch {
                context.logger.warning("cannot read waiting deliveries for /metrics", metadata: ["error": "\(error)"])
            }
        }
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer())))
    }
}
