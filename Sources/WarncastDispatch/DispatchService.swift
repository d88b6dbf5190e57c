import Foundation
import Logging
import ServiceLifecycle
import WarncastCore
import WarncastNet
import WarncastStore

/// Delivers released warnings. For every configured channel a `LeaseLoop` leases due
/// deliveries from the outbox and sends each through one `DeliveryAttempt`; the
/// `AttemptRecorder` writes what they came to back in batches, the `ExpirySweeper`
/// expires what its warning outlived and the `DeliveryPlanner` plans the rest of a release
/// too large to plan in the approval's transaction. Nothing is held only in memory: a delivery is leased
/// in the outbox before it is sent, and a lease that runs out (a crash) makes it due
/// again; the idempotency key lets the receiver drop the repeat.
///
/// The transport (the libcurl engine) belongs to the daemon, which may share it and shuts
/// it down after this service has stopped.
public final class DispatchService: Service, ReleaseSubscriber {
    /// What the dispatcher is configured with: its channels, the shared gateways' rates,
    /// and the adapters it may build.
    public struct Configuration: Sendable {
        public var channels: [ChannelSettings]
        /// Shared gateways (an SMS centre several channels send through): name → messages per second.
        public var gateways: [String: Int]
        public var adapters: AdapterRegistry
        /// Levels whose deliveries are retried, for a retryable failure, until the warning
        /// expires instead of up to a channel's `max_attempts`.
        public var retryUntilExpiry: Set<Level>
        /// The node's language: which `<info>` block a recipient gets when none is in its own.
        public var defaultLanguage: String
        /// The routing releases were planned with; with it, the dispatcher also plans what a
        /// release with many recipients left for later (`DeliveryPlanner`).
        public var routing: DeliveryRouting?

        public init(
            channels: [ChannelSettings], gateways: [String: Int] = [:], adapters: AdapterRegistry = .standard,
            retryUntilExpiry: Set<Level> = [.red, .orange], defaultLanguage: String = "zh-CN", routing: DeliveryRouting? = nil
        ) {
            self.routing = routing
            self.retryUntilExpiry = retryUntilExpiry
            self.defaultLanguage = defaultLanguage
            self.channels = channels
            self.gateways = gateways
            self.adapters = adapters
        }
    }

    let runners: [ChannelRunner]
    let loops: [LeaseLoop]
    let trouble = TroubleRelay()
    let recorder: AttemptRecorder
    let sweeper: ExpirySweeper
    let planner: DeliveryPlanner?
    let standing: WarningStanding
    let logger: Logger

    /// A dispatcher for `configuration`'s channels, or an error naming a channel whose
    /// adapter does not exist or whose settings are wrong.
    public init(
        outbox: any Outbox, configuration: Configuration, transport: any Transport, signer: MessageSigner,
        callbacks: CallbackSettings, logger: Logger, counter: (any DeliveryCounter)? = nil,
        now: @escaping @Sendable () -> Date = Date.init
    ) throws {
        let stopping: @Sendable () -> Bool = { Task.isShuttingDownGracefully || Task.isCancelled }
        self.logger = logger
        recorder = AttemptRecorder(
            outbox: outbox, counter: counter, trouble: trouble, logger: logger, untilExpiry: configuration.retryUntilExpiry,
            stopping: stopping)
        sweeper = ExpirySweeper(outbox: outbox, logger: logger, now: now, stopping: stopping)
        standing = WarningStanding(outbox: outbox)
        let attempt = DeliveryAttempt(
            outbox: outbox, transport: transport, signer: signer,
            messages: MessageCache(outbox: outbox, defaultLanguage: configuration.defaultLanguage), standing: standing,
            recorder: recorder,
            trouble: trouble, logger: logger, now: now)
        // Channels sending through one gateway share its limiter.
        let gatewayLimiters = configuration.gateways.mapValues { RateLimiter(perSecond: $0) }
        runners = try configuration.adapters.adapters(for: configuration.channels, callbacks: callbacks, signer: signer).map {
            channel, adapter in
            ChannelRunner(channel: channel, adapter: adapter, sharedLimiter: channel.gateway.flatMap { gatewayLimiters[$0] })
        }
        loops = runners.map { [recorder] runner in
            LeaseLoop(runner: runner, outbox: outbox, attempt: attempt, recorder: recorder, logger: logger, now: now, stopping: stopping)
        }
        planner = configuration.routing.map { [runners] routing in
            DeliveryPlanner(
                outbox: outbox, routing: routing, planned: { for runner in runners { runner.doorbell.ring() } }, logger: logger,
                now: now, stopping: stopping)
        }
    }

    /// Who hears of gateways going down and deliveries given up from now on.
    public func tellTrouble(to listener: any DispatchTroubleListener) { trouble.set(listener) }

    /// Each channel's adapter, by channel name.
    public var adapters: [String: any ChannelAdapter] {
        Dictionary(runners.map { ($0.channel.name, $0.adapter as any ChannelAdapter) }, uniquingKeysWith: { first, _ in first })
    }

    /// Endpoints whose circuit breaker is open now, by channel (every channel listed).
    public func openBreakers(at date: Date = Date()) -> [String: Int] {
        Dictionary(runners.map { ($0.channel.name, $0.breakers.openCount(now: date)) }, uniquingKeysWith: +)
    }

    /// A recipient can be reached again (a dial-in terminal reconnected): what waits for it
    /// is due now, and the channels are woken to send it.
    public func recipientReachable(_ recipientID: String, outbox: any Outbox, at date: Date = Date()) async {
        do {
            if try await outbox.wake(recipientID: recipientID, at: date) > 0 {
                for runner in runners { runner.doorbell.ring() }
            }
        } catch {
            logger.error(
                "cannot wake the deliveries of a reconnected terminal", metadata: ["recipient": .string(recipientID), "error": "\(error)"])
        }
    }

    /// A release wakes the dispatcher at once instead of at its next poll. An Update or a
    /// Cancel also makes every request ask again whether its warning is still in force.
    public func warningReleased(_ warning: Warning) async {
        if warning.msgType != .alert { standing.replacementReleased() }
        for runner in runners { runner.doorbell.ring() }
        planner?.doorbell.ring()
    }

    public func run() async throws {
        logger.info("dispatcher started", metadata: ["channels": .string(runners.map(\.channel.name).joined(separator: " "))])
        await withDiscardingTaskGroup { group in
            group.addTask { try? await self.recorder.run() }
            group.addTask { try? await self.sweeper.run() }
            if let planner {
                group.addTask { try? await planner.run() }
            }
            for loop in loops {
                group.addTask { try? await loop.run() }
            }
        }
        // The last results are written even when the service was cancelled rather than shut
        // down gracefully: GRDB refuses to start work for a cancelled task, so the write runs
        // in a task of its own, which does not inherit the cancellation.
        try await Task { try await self.recorder.flush() }.value
        logger.info("dispatcher stopped")
    }
}
