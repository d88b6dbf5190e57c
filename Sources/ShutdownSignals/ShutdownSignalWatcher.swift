import CShutdownSignals
import Foundation
import Logging
import ServiceLifecycle

/// How warncastd and warncast-receiver stop on SIGTERM (systemd) and SIGINT (Ctrl-C): one
/// thread of their own waits for the signals that CShutdownSignals takes over.
public enum ShutdownSignalWatcher {
    /// A signal this soon after the first is the same request to stop delivered twice (make
    /// passes a process group's SIGTERM on to its children, which had it already).
    public static let quietMilliseconds: Int64 = 1000

    /// Starts the watcher: the first signal begins `group`'s graceful shutdown; another one
    /// at least `quietMilliseconds` later stops `program` at once (exit status 1); repeats
    /// within that time are logged and change nothing. Stopping at once loses nothing
    /// accepted: warncastd sends what was in flight again after the restart, with the same
    /// keys, and a receiver plays each key once. `beforeExit` runs just before that exit
    /// (the receiver ends the programs it started, so the sound stops with it).
    public static func start(
        _ group: ServiceGroup, program: String, logger: Logger, beforeExit: @escaping @Sendable () -> Void = {}
    ) {
        let watcher = Thread {
            let name = { (number: Int32) in number == SIGINT ? "SIGINT" : "SIGTERM" }
            var first: Int64 = 0
            let number = warncast_wait_shutdown_signal(&first)
            if number > 0 {
                logger.notice("shutting down", metadata: ["signal": .string(name(number))])
                Task { await group.triggerGracefulShutdown() }
                var arrived: Int64 = 0
                var again = warncast_wait_shutdown_signal(&arrived)
                while again > 0, arrived - first < quietMilliseconds {
                    logger.notice(
                        "the same signal again within a second: still stopping gracefully (send another later to stop at once)",
                        metadata: ["signal": .string(name(again))])
                    again = warncast_wait_shutdown_signal(&arrived)
                }
                if again > 0 {
                    logger.warning("second signal while shutting down: stopping now", metadata: ["signal": .string(name(again))])
                    beforeExit()
                    Foundation.exit(1)
                }
            }
            logger.error("the shutdown signal pipe failed; stop \(program) with SIGKILL")
        }
        watcher.name = "\(program)-signals"
        watcher.start()
    }
}
