import ArgumentParser
import CShutdownSignals
import Foundation
import Logging
import ServiceLifecycle
import ShutdownSignals
import WarncastNet
import WarncastReceiver

/// `warncast-receiver`: the village broadcast receiver. Takes signed warnings pushed by
/// warncastd, speaks them through the loudspeaker, and reports heartbeats and playbacks.
@main
struct ReceiverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warncast-receiver",
        abstract: "Receives Warncast warnings and speaks them through the village loudspeaker.")

    @Option(name: .long, help: "Configuration file (YAML).")
    var config: String = "/etc/warncast-receiver/warncast-receiver.yaml"

    @Flag(name: .long, help: "Check the configuration, then exit.")
    var checkConfig = false

    func run() async throws {
        let settings: ReceiverConfig
        do {
            settings = try ReceiverConfigLoader.load(path: config)
        } catch {
            FileHandle.standardError.write(Data("warncast-receiver: bad configuration: \(error)\n".utf8))
            throw ExitCode(64)
        }
        if checkConfig {
            print("configuration OK: \(settings.file)")
            return
        }
        // SIGTERM and SIGINT were blocked before main() (CShutdownSignals); the watcher
        // thread below takes them.
        guard warncast_shutdown_signals_blocked() == 1, warncast_shutdown_signals_install() == 0 else {
            FileHandle.standardError.write(Data("warncast-receiver: could not take over SIGTERM and SIGINT\n".utf8))
            throw ExitCode(71)  // EX_OSERR
        }
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        let logger = Logger(label: "warncast-receiver")
        let engine = CurlEngine(
            options: .init(
                maxConnections: 8, caBundle: settings.caBundle, clientCertificate: settings.clientCertificate,
                clientKey: settings.clientKey))
        defer { engine.shutdown() }
        let services: [any Service]
        do {
            services = try await Receiver.services(settings, transport: engine, logger: logger) { host, port in
                // The one line on stdout: tests and scripts read the port from it.
                FileHandle.standardOutput.write(Data("listening on \(Receiver.url(host: host, port: port))\n".utf8))
            }
        } catch {
            logger.critical("cannot start", metadata: ["state_dir": "\(settings.stateDirectory)", "error": "\(error)"])
            throw ExitCode(73)  // EX_CANTCREAT
        }
        if settings.mode == .dialIn {
            FileHandle.standardOutput.write(Data("dialling in to \(settings.node) as \(settings.terminal)\n".utf8))
        }
        let group = ServiceGroup(
            configuration: .init(services: services.map { .init(service: $0) }, gracefulShutdownSignals: [], logger: logger))
        // SIGTERM or SIGINT: the server stops taking warnings, the one playing ends, waiting
        // reports get one more try, and a last heartbeat says `off`.
        // Stopping at once ends espeak-ng and aplay too: the loudspeaker falls silent with
        // the receiver, and the warning cut short stays queued for the next start.
        ShutdownSignalWatcher.start(group, program: "warncast-receiver", logger: logger) { ProcessRunner.killRunning() }
        try await group.run()
        logger.info("stopped")
    }
}
