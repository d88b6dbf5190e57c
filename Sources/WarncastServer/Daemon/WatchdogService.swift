import Logging
import ServiceLifecycle
import WarncastStore

/// Pings systemd's watchdog while the store can still read and write, so a wedged daemon
/// (or one that can no longer record anything) is restarted.
/// Says `STOPPING=1` when graceful shutdown begins.
public struct WatchdogService: Service {
    let notifier: SystemdNotifier
    let interval: Duration?
    let store: any Store
    let logger: Logger

    public init(notifier: SystemdNotifier, interval: Duration?, store: any Store, logger: Logger) {
        self.notifier = notifier
        self.interval = interval
        self.store = store
        self.logger = logger
    }

    public func run() async throws {
        guard let interval else {
            try? await gracefulShutdown()
            notifier.notify("STOPPING=1")
            return
        }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let health = await store.health(fresh: true)
            if let problem = health.problem {
                logger.error("store unhealthy; withholding the watchdog ping", metadata: ["reason": .string(problem)])
            } else {
                notifier.notify("WATCHDOG=1")
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
        notifier.notify("STOPPING=1")
    }
}
