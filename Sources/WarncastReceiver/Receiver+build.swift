import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import WarncastNet

/// The receiver assembled from its configuration.
public enum Receiver {
    /// Opens the state folder, pins the node's keys if none are pinned yet, and builds the
    /// services, in the order a `ServiceGroup` should start them (it stops them in reverse:
    /// the HTTP server first, the heartbeats, with their last `off`, at the very end).
    ///
    /// `output` overrides the configured output (tests); `onListening` is called with the
    /// host and the port taken once the server listens (push mode only).
    public static func services(
        _ config: ReceiverConfig, transport: any Transport, logger: Logger, output: (any AudioOutput)? = nil,
        onListening: @escaping @Sendable (_ host: String, _ port: Int) -> Void
    ) async throws -> [any Service] {
        try FileManager.default.createDirectory(at: config.wavDirectory, withIntermediateDirectories: true)
        let played = try PlayedLog(file: config.playedLogFile)
        let node = NodeClient(config, transport: transport)
        let keys = try PinnedKeys(file: config.keysFile, logger: logger, updates: keyUpdates(config)) { try await node.fetchKeys() }
        if config.keyUpdates == .none, await keys.current.isEmpty {
            throw ReceiverConfigError(
                file: config.file, key: "key_updates",
                reason:
                    "is none, so the node is never asked, but \(config.keysFile.path) does not exist: copy the node's keys there (curl \(config.node)/.well-known/warncast-keys)"
            )
        }
        if await keys.current.isEmpty {
            if !config.node.lowercased().hasPrefix("https://") {
                logger.warning(
                    "pinning the node's keys over plain http: whoever answers this first fetch is trusted; use https, or copy keys.json onto the station",
                    metadata: ["node": "\(config.node)"])
            }
            logger.notice("no keys pinned yet: fetching the node's", metadata: ["node": "\(config.node)"])
            await keys.refresh()
            if await keys.current.isEmpty {
                logger.error("no signing keys pinned: every message is refused until the node's keys are fetched")
            }
        }
        let chosen: any AudioOutput
        if let output { chosen = output } else { chosen = await config.output.resolved() }
        logger.info("audio output", metadata: ["setting": "\(config.output.rawValue)", "output": "\(chosen.name)"])
        let queue = PlayQueue()
        let spool = try PlaySpool(directory: config.queueDirectory)
        // Warnings accepted before a stop and not played yet: first in line, unless they
        // have expired or are older than replay_within_seconds.
        let (waiting, unreadable) = spool.waiting()
        var seen: Set<String> = []
        var replayed = 0
        for entry in waiting where seen.insert(entry.message.idempotencyKey).inserted {
            let key = entry.message.idempotencyKey
            let age = Date().timeIntervalSince(entry.acceptedAt)
            let expired = entry.message.hasExpired(at: Date())
            if expired || age > TimeInterval(config.replayWithinSeconds) {
                logger.warning(
                    "a warning accepted before the stop is no longer played",
                    metadata: ["key": "\(key)", "why": "\(expired ? "expired" : "accepted \(Int(age)) s ago")"])
                spool.remove(key: key)
                continue
            }
            _ = try? await played.record(key)
            queue.add(entry.message)
            replayed += 1
        }
        if replayed > 0 { logger.notice("warnings accepted before the stop, to play now", metadata: ["count": "\(replayed)"]) }
        if !unreadable.isEmpty { logger.error("queued warnings that cannot be read, set aside", metadata: ["files": "\(unreadable)"]) }
        let monitor = TerminalMonitor()
        let reporter = PlaybackReporter(node: node, logger: logger)
        let speaker = Speaker(
            voices: config.voices, synthesizer: EspeakSynthesizer(), output: chosen, wavDirectory: config.wavDirectory,
            logger: logger)
        let intake = MessageIntake(
            verifier: MessageVerifier(freshness: TimeInterval(config.freshnessSeconds), terminal: config.terminal), keys: keys,
            played: played, queue: queue, spool: spool,
            logger: logger)
        var player = PlayerService(queue: queue, speaker: speaker, monitor: monitor, reporter: reporter, spool: spool)
        player.logger = logger
        var services: [any Service] = [
            HeartbeatService(node: node, monitor: monitor, interval: .seconds(config.heartbeatSeconds), logger: logger), reporter,
            player,
        ]
        if config.keyUpdates != .none {
            services.insert(KeyRefreshService(keys: keys, interval: .seconds(config.keyRefreshSeconds)), at: 1)
        }
        switch config.mode {
        case .push:
            let router = Router()
            PushController(intake: intake).register(on: router)
            let host = config.listenHost
            services.append(
                Application(
                    router: router,
                    server: .http1(configuration: .init(idleTimeout: .seconds(Int64(config.idleTimeoutSeconds)))),
                    configuration: .init(
                        address: .hostname(host, port: config.listenPort),
                        availableConnectionsDelegate: .maximum(config.maxConnections, logger: logger)),
                    onServerRunning: { channel in onListening(host, channel.localAddress?.port ?? config.listenPort) }, logger: logger))
        case .dialIn:
            var dialIn = DialInService(node: node, intake: intake, secret: config.secret, logger: logger)
            dialIn.caBundle = config.caBundle
            dialIn.clientCertificate = config.clientCertificate
            dialIn.clientKey = config.clientKey
            services.append(dialIn)
        }
        return services
    }

    /// What a key refresh may pin: new keys only over https, unless `key_updates: any`.
    public static func keyUpdates(_ config: ReceiverConfig) -> PinnedKeys.Updates {
        switch config.keyUpdates {
        case .any: .all
        case .https: config.node.lowercased().hasPrefix("https://") ? .all : .retirementsOnly
        case .none: .never
        }
    }

    /// `http://HOST:PORT`, with an IPv6 host in brackets.
    public static func url(host: String, port: Int) -> String {
        host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)"
    }
}
