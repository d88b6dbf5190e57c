import Logging
import ServiceLifecycle
import WarncastCore

/// Tells the node the terminal is alive: one heartbeat at start, then one every `interval`,
/// with the status `TerminalMonitor` decides; at a graceful shutdown, a last one saying
/// `off`. A heartbeat that fails is logged; the next one is due at the usual time.
public struct HeartbeatService: Service {
    /// What heartbeats name as the terminal's software.
    public static let version = "warncast-receiver 1"

    public var node: NodeClient
    public var monitor: TerminalMonitor
    public var interval: Duration
    public var logger: Logger

    public init(node: NodeClient, monitor: TerminalMonitor, interval: Duration, logger: Logger) {
        self.node = node
        self.monitor = monitor
        self.interval = interval
        self.logger = logger
    }

    public func run() async {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await beat()
            try? await cancelWhenGracefulShutdown { [interval] in try await Task.sleep(for: interval) }
        }
        guard !Task.isCancelled else { return }
        await send(TerminalHeartbeat(status: .off, lastPlayed: await monitor.lastPlayed, version: Self.version))
    }

    func beat() async {
        let heartbeat = await monitor.heartbeat(version: Self.version)
        if !(await send(heartbeat)) { await monitor.notSent(heartbeat) }
    }

    @discardableResult
    private func send(_ heartbeat: TerminalHeartbeat) async -> Bool {
        do {
            try await node.sendHeartbeat(heartbeat)
            logger.debug("heartbeat sent", metadata: ["status": "\(heartbeat.status.rawValue)"])
            return true
        } catch {
            logger.warning("heartbeat failed", metadata: ["status": "\(heartbeat.status.rawValue)", "error": "\(error)"])
            return false
        }
    }
}
