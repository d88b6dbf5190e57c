import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import WarncastConfig
import WarncastCore
import WarncastNet
import WarncastStore

/// Delivers released warnings: for every configured channel it leases due deliveries from
/// the store, sends them through the libcurl engine with the channel's adapter, and writes
/// the outcomes back in batches. Nothing is held only in memory: a delivery is leased in
/// the store before it is sent, and a lease that runs out (a crash) makes it due again;
/// the idempotency key lets the receiver drop the repeat.
public final class DispatchService: Service, ReleaseSubscriber {
    let store: any Store
    let engine: CurlEngine
    let signer: MessageSigner
    let channels: [ChannelRunner]
    let results = ResultBuffer()
    let messages: MessageCache
    let logger: Logger
    let now: @Sendable () -> Date

    /// A dispatcher for the channels of `dispatch`, or an error naming a channel whose
    /// adapter does not exist.
    public init(
        store: any Store, dispatch: WarncastConfiguration.Dispatch, engine: CurlEngine, signer: MessageSigner,
        logger: Logger, now: @escaping @Sendable () -> Date = Date.init
    ) throws {
        self.store = store
        self.engine = engine
        self.signer = signer
        self.logger = logger
        self.now = now
        messages = MessageCache(store: store)
        channels = try dispatch.channels.values.sorted { $0.name < $1.name }.map { channel in
            guard let adapter = AdapterCatalogue.make(channel.adapter) else {
                throw DispatchError.unknownAdapter(channel: channel.name, adapter: channel.adapter)
            }
            return ChannelRunner(channel: channel, adapter: adapter)
        }
    }

    /// A release wakes the dispatcher at once instead of at its next poll.
    public func warningReleased(_ warning: Warning) async {
        for runner in channels { runner.doorbell.ring() }
    }

    public func run() async throws {
        logger.info("dispatcher started", metadata: ["channels": .string(channels.map(\.channel.name).joined(separator: " "))])
        await withDiscardingTaskGroup { group in
            group.addTask { await self.writeResults() }
            group.addTask { await self.sweepExpired() }
            for runner in channels {
                group.addTask { await self.dispatch(runner) }
            }
        }
        try await flush()
        engine.shutdown()
        logger.info("dispatcher stopped")
    }

    private var stopping: Bool { Task.isShuttingDownGracefully || Task.isCancelled }

    // MARK: Leasing and sending

    private func dispatch(_ runner: ChannelRunner) async {
        // A lease outlasts the longest attempt; once it runs out (the holder died) the delivery is due again.
        let leaseFor = TimeInterval(runner.channel.timeoutMilliseconds + runner.channel.connectTimeoutMilliseconds) / 1000 + 5
        await withDiscardingTaskGroup { group in
            while !stopping {
                let free = runner.channel.concurrency - runner.inFlight.withLock { $0 }
                guard free > 0 else {
                    try? await Task.sleep(for: .milliseconds(2))
                    continue
                }
                let jobs: [DeliveryJob]
                do {
                    jobs = try await store.leaseDeliveries(
                        channel: runner.channel.name, limit: min(free, 1000), at: now(), leaseFor: leaseFor)
                } catch {
                    logger.error("cannot lease deliveries", metadata: ["channel": .string(runner.channel.name), "error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                    continue
                }
                if jobs.isEmpty {
                    await idle(runner)
                    continue
                }
                runner.inFlight.withLock { $0 += jobs.count }
                for job in jobs {
                    group.addTask {
                        await self.attempt(job, with: runner)
                        runner.inFlight.withLock { $0 -= 1 }
                    }
                }
            }
        }
    }

    /// Waits for a release or the poll interval, whichever comes first.
    private func idle(_ runner: ChannelRunner) async {
        await runner.doorbell.wait(timeout: .milliseconds(200))
    }

    private func attempt(_ job: DeliveryJob, with runner: ChannelRunner) async {
        let channel = runner.channel
        let endpoint = job.recipient.address
        let started = now()
        if let until = runner.breakers.blockedUntil(endpoint, now: started) {
            results.append(AttemptResult(
                deliveryID: job.id, attempt: job.attempt, at: started, httpStatus: nil, error: "circuit open",
                outcome: .deferred(until: until), milliseconds: 0))
            return
        }
        await runner.limiter.acquire()
        var status: Int?
        var outcome: DeliveryOutcome
        var errorText: String?
        do {
            let message = try await messages.message(for: job.warningID)
            var request = try runner.adapter.request(for: job, message: message)
            request.connectTimeoutMilliseconds = channel.connectTimeoutMilliseconds
            request.totalTimeoutMilliseconds = channel.timeoutMilliseconds
            request.headers += try signer.headers(
                body: request.body ?? Data(), idempotencyKey: job.idempotencyKey, timestamp: Timestamp.string(now()))
            let response = try await engine.perform(request)
            status = response.status
            outcome = runner.adapter.outcome(of: response)
        } catch let error as CurlError {
            outcome = .retry(error.message)
            errorText = error.description
        } catch {
            outcome = .failed("\(error)")
            errorText = "\(error)"
        }
        let finished = now()
        var nextAttemptAt: Date?
        switch outcome {
        case .delivered, .accepted:
            runner.breakers.recordSuccess(endpoint)
        case .retry(let reason):
            errorText = errorText ?? reason
            if runner.breakers.recordFailure(endpoint, now: finished) {
                logger.warning("circuit breaker opened", metadata: ["endpoint": .string(endpoint)])
            }
            if channel.retry.shouldRetry(attempt: job.attempt) {
                nextAttemptAt = finished.addingTimeInterval(channel.retry.delay(afterAttempt: job.attempt))
            }
        case .failed(let reason):
            errorText = errorText ?? reason
        case .deferred:
            break
        }
        results.append(AttemptResult(
            deliveryID: job.id, attempt: job.attempt, at: finished, httpStatus: status, error: errorText,
            outcome: outcome, milliseconds: Int(finished.timeIntervalSince(started) * 1000), nextAttemptAt: nextAttemptAt))
    }

    // MARK: Writing results

    /// Writes finished attempts in batches, so 100,000 receipts are a few hundred transactions.
    private func writeResults() async {
        while !stopping {
            do {
                try await flush()
            } catch {
                logger.error("cannot record attempts; keeping them to retry", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    private func flush() async throws {
        let batch = results.takeAll()
        guard !batch.isEmpty else { return }
        do {
            try await store.recordAttempts(batch)
        } catch {
            results.putBack(batch)
            throw error
        }
    }

    private func sweepExpired() async {
        while !stopping {
            do {
                let expired = try await store.expireDeliveries(at: now())
                if expired > 0 { logger.notice("deliveries expired with their warning", metadata: ["count": .stringConvertible(expired)]) }
            } catch {
                logger.error("cannot expire deliveries", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}

/// A channel's settings with its adapter, rate limiter, breakers and in-flight count.
final class ChannelRunner: Sendable {
    let channel: WarncastConfiguration.Channel
    let adapter: any ChannelAdapter
    let limiter: RateLimiter
    let breakers: CircuitBreakers
    let inFlight = Mutex(0)
    /// Rung on every release; only this channel's dispatch loop waits on it.
    let doorbell = Doorbell()

    init(channel: WarncastConfiguration.Channel, adapter: any ChannelAdapter) {
        self.channel = channel
        self.adapter = adapter
        limiter = RateLimiter(perSecond: channel.ratePerSecond)
        breakers = CircuitBreakers(threshold: channel.breakerFailures, cooldown: channel.breakerCooldown)
    }
}

/// Finished attempts waiting to be written.
final class ResultBuffer: Sendable {
    private let results = Mutex<[AttemptResult]>([])

    func append(_ result: AttemptResult) {
        results.withLock { $0.append(result) }
    }

    func takeAll() -> [AttemptResult] {
        results.withLock { results in
            defer { results.removeAll(keepingCapacity: true) }
            return results
        }
    }

    func putBack(_ batch: [AttemptResult]) {
        results.withLock { $0.insert(contentsOf: batch, at: 0) }
    }
}

/// Released warnings as adapters need them, built once per warning.
actor MessageCache {
    let store: any Store
    private var messages: [String: OutgoingMessage] = [:]

    init(store: any Store) {
        self.store = store
    }

    func message(for warningID: String) async throws -> OutgoingMessage {
        if let message = messages[warningID] { return message }
        guard let warning = try await store.warning(id: warningID) else { throw DispatchError.unknownWarning(warningID) }
        let message = OutgoingMessage(warning: warning)
        if messages.count > 256 { messages.removeAll() }
        messages[warningID] = message
        return message
    }
}

/// Why the dispatcher cannot start or send.
public enum DispatchError: Error, CustomStringConvertible {
    case unknownAdapter(channel: String, adapter: String)
    case unknownWarning(String)

    public var description: String {
        switch self {
        case .unknownAdapter(let channel, let adapter):
            "dispatch.channels.\(channel).adapter: unknown adapter '\(adapter)' (available: \(AdapterCatalogue.names.joined(separator: ", ")))"
        case .unknownWarning(let id): "no warning '\(id)'"
        }
    }
}
