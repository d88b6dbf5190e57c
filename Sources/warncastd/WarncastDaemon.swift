import ArgumentParser
import CShutdownSignals
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import ShutdownSignals
import WarncastConfig
import WarncastCore
import WarncastDispatch
import WarncastNet
import WarncastServer
import WarncastStore

/// `warncastd`: reads the configuration, opens the store, loads the registries and serves
/// the API until SIGTERM or SIGINT.
@main
struct WarncastDaemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warncastd",
        abstract: "The Warncast warning dissemination daemon.")

    @Option(name: .shortAndLong, help: "Configuration file (YAML).")
    var config: String = ProcessInfo.processInfo.environment["WARNCAST_CONFIG"] ?? "/etc/warncast/warncast.yaml"

    @Flag(name: .long, help: "Check the configuration and registries, then exit.")
    var checkConfig = false

    func run() async throws {
        // SIGTERM and SIGINT were blocked before main() (CShutdownSignals): one arriving
        // now waits for the handler and its watcher thread (`ShutdownSignalWatcher`).
        guard warncast_shutdown_signals_blocked() == 1, warncast_shutdown_signals_install() == 0 else {
            FileHandle.standardError.write(Data("warncastd: could not take over SIGTERM and SIGINT\n".utf8))
            throw ExitCode(71)  // EX_OSERR
        }
        let configuration: WarncastConfiguration
        do {
            configuration = try ConfigLoader.load(path: config)
        } catch {
            FileHandle.standardError.write(Data("warncastd: bad configuration: \(error)\n".utf8))
            throw ExitCode(78)  // EX_CONFIG
        }
        LoggingSystem.bootstrap { label in
            var handler = LogfmtHandler(label: label)
            handler.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
            return handler
        }
        let logger = Logger(label: "warncastd")
        // --check-config works on a scratch store and leaves the data directory, the store and
        // the key file as they are (it reads the key file if there is one).
        let scratch = checkConfig ? FileManager.default.temporaryDirectory.appendingPathComponent("warncastd-check-\(UUID())") : nil
        defer { if let scratch { try? FileManager.default.removeItem(at: scratch) } }
        let store: SQLiteStore
        var checked = configuration
        if let scratch {
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            checked.store.dataDirectory = scratch.path
            if !FileManager.default.fileExists(atPath: configuration.dispatch.signingKeyFile) {
                checked.dispatch.signingKeyFile = scratch.appendingPathComponent("signing-keys.json").path
            }
        }
        do {
            store = try Bootstrap.openStore(
                checked,
                migrating: { pending in
                    // A migration may rebuild an index of every delivery kept, minutes on a large
                    // store: said in the log, and systemd is asked to wait up to an hour for it
                    // instead of its usual start timeout (a start killed midway begins again).
                    logger.notice(
                        "migrating the store before start; this may take minutes on a large store",
                        metadata: ["migrations": .string(pending.joined(separator: ","))])
                    SystemdNotifier().notify("EXTEND_TIMEOUT_USEC=\(Self.migrationAllowance)\nSTATUS=migrating the store")
                })
        } catch {
            logger.critical("cannot open the store; refusing to start", metadata: ["error": "\(error)"])
            throw ExitCode(73)  // EX_CANTCREAT
        }
        // The keyring first: recipients' secrets in the registries are kept keyed with it.
        let keyring: SigningKeyring
        do {
            keyring = try await Bootstrap.loadKeyring(checked, store: store, actor: .daemon)
        } catch {
            logger.critical("cannot load the signing keyring; refusing to start", metadata: ["error": "\(error)"])
            throw ExitCode(78)
        }
        do {
            try await Bootstrap.loadRegistries(
                checked, into: store, actor: .daemon, logger: logger, secrets: try keyring.recipientSecrets())
        } catch {
            logger.critical("cannot load the registries; refusing to start", metadata: ["error": "\(error)"])
            throw ExitCode(78)
        }
        do {
            _ = try AdapterRegistry.standard.adapters(
                for: Array(configuration.dispatch.channels.values),
                callbacks: CallbackSettings(
                    base: configuration.server.callbackBase(), tokens: try keyring.callbackTokens(), node: configuration.node.name),
                signer: try keyring.signer())
        } catch {
            logger.critical("bad channel configuration; refusing to start", metadata: ["error": "\(error)"])
            throw ExitCode(78)
        }
        if checkConfig {
            print("configuration OK: \(configuration.file)")
            return
        }
        try await serve(configuration, store: store, keyring: keyring, logger: logger)
    }

    private func serve(
        _ configuration: WarncastConfiguration, store: SQLiteStore, keyring: SigningKeyring, logger: Logger
    ) async throws {
        let tls = configuration.dispatch.tls
        // Each channel's slots, and four times as many slow requests beside them (a hanging
        // terminal keeps its connection until its timeout, not a slot): see ChannelRunner.
        let connections = configuration.dispatch.channels.values.reduce(0) { $0 + $1.concurrency * 5 }
        let engine = CurlEngine(
            options: .init(
                maxConnections: min(16_384, max(512, connections)), verifyTLS: tls.verify, caBundle: tls.caBundle,
                clientCertificate: tls.clientCertificate, clientKey: tls.clientKey,
                // A thread per core, up to four: TLS handshakes to many hosts are CPU work.
                threads: min(4, ProcessInfo.processInfo.activeProcessorCount)))
        let metrics = ServerMetrics()
        // Terminals that dial in get their warnings down their own connection.
        let dialIn = DialInHub()
        let dispatcher: DispatchService
        let callbacks: CallbackSettings
        do {
            callbacks = CallbackSettings(
                base: configuration.server.callbackBase(), tokens: try keyring.callbackTokens(), node: configuration.node.name)
            dispatcher = try DispatchService(
                outbox: store, configuration: Bootstrap.dispatch(configuration),
                transport: DialInTransport(hub: dialIn, fallback: engine), signer: try keyring.signer(),
                callbacks: callbacks, logger: logger, counter: metrics)
        } catch {
            logger.critical("cannot start the dispatcher", metadata: ["error": "\(error)"])
            throw ExitCode(78)
        }
        dialIn.tell(WakeOnConnect(dispatcher: dispatcher, outbox: store))
        let notifier = SystemdNotifier()
        let watchdog = WatchdogService(
            notifier: notifier, interval: SystemdNotifier.watchdogInterval(), store: store, logger: logger)
        // Duty contacts hear of gateways down, give-ups and overdue approvals through their channels.
        let duty = DutyNotifier(
            store: store, adapters: dispatcher.adapters, transport: engine, contacts: configuration.notify.contacts,
            minInterval: configuration.notify.minInterval, node: configuration.node.name, logger: logger)
        dispatcher.tellTrouble(to: duty)
        let scheduler = ApprovalScheduler(
            store: store, approval: configuration.approval,
            notifier: EscalationNotifiers([LogEscalationNotifier(logger: logger), duty]), logger: logger)
        let terminals = AdapterRegistry.standard.routing(
            configuration.dispatch.routing, channels: Array(configuration.dispatch.channels.values)
        ).terminals
        metrics.beforeScrape { [dispatcher] metrics in
            for (channel, open) in dispatcher.openBreakers() { metrics.setOpenBreakers(channel: channel, count: open) }
            // Per county of the node's region; a county whose terminals are all gone keeps its
            // row at zero online rather than vanishing.
            guard !terminals.channels.isEmpty,
                let counts = try? await store.terminalCounts(terminals, within: configuration.node.region, depth: .county, at: Date())
            else { return }
            for count in counts where RegionCode(count.region)?.tier == .county {
                metrics.setTerminals(county: count.region, online: count.online, offline: count.offline)
            }
        }
        let server = configuration.server
        let covering = AdapterRegistry.standard.routing(
            configuration.dispatch.routing, channels: Array(configuration.dispatch.channels.values)
        ).covering
        let app = buildApplication(
            ApplicationParts(
                configuration: configuration, store: store, metrics: metrics, logger: logger,
                releaseSubscribers: [LogReleaseSubscriber(logger: logger), dispatcher],
                publishedKeys: try keyring.publishedKeys(), callbackTokens: callbacks.tokens,
                downstream: covering.isEmpty
                    ? nil
                    : DownstreamReports(
                        transport: engine, signer: try keyring.signer(), channels: covering),
                recipientSecrets: try keyring.recipientSecrets(), dialIn: dialIn),
            onServerRunning: { channel in
                callbacks.base = server.callbackBase(boundPort: channel.localAddress?.port)
                logger.info(
                    "listening",
                    metadata: [
                        "address": "\(server.host):\(channel.localAddress?.port ?? server.port)",
                        "node": "\(configuration.node.name)",
                    ])
                notifier.notify("READY=1")
            })
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: app), .init(service: scheduler), .init(service: dispatcher),
                    .init(service: watchdog), .init(service: dialIn),
                    .init(service: RetentionService(store: store, days: configuration.store.retentionDays, logger: logger)),
                ],
                // Signals are read by this daemon's own watcher, not by ServiceLifecycle.
                gracefulShutdownSignals: [],
                logger: logger))
        ShutdownSignalWatcher.start(group, program: "warncastd", logger: logger)
        // The engine is shared by the dispatcher and the downstream reports: it stops only
        // once every service has.
        defer { engine.shutdown() }
        try await group.run()
        logger.info("stopped")
    }

    /// How long systemd is asked to wait for the store's migrations, in microseconds (an hour).
    static let migrationAllowance = 3_600_000_000
}
