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
    let counter: (any DeliveryCounter)?

    /// A dispatcher for the channels of `dispatch`, or an error naming a channel whose
    /// adapter does not exist.
    public init(
        store: any Store, dispatch: WarncastConfiguration.Dispatch, engine: CurlEngine, signer: MessageSigner,
        callbacks: CallbackSettings, logger: Logger, counter: (any DeliveryCounter)? = nil,
        now: @escaping @Sendable () -> Date = Date.init
    ) throws {
        self.counter = counter
        self.store = store
        self.engine = engine
        self.signer = signer
        self.logger = logger
        self.now = now
        messages = MessageCache(store: store)
        // Channels sending through one gateway share its limiter.
        let gatewayLimiters = dispatch.gateways.mapValues { RateLimiter(perSecond: $0) }
        channels = try Self.adapters(for: dispatch, callbacks: callbacks, signer: signer).map { channel, adapter in
            ChannelRunner(channel: channel, adapter: adapter, sharedLimiter: channel.gateway.flatMap { gatewayLimiters[$0] })
        }
    }

    /// Each channel with its adapter, built from the channel's settings; throws naming the
    /// first channel whose adapter does not exist or whose settings are wrong. Also what
    /// `warncastd --check-config` runs.
    public static func adapters(
        for dispatch: WarncastConfiguration.Dispatch, callbacks: CallbackSettings, signer: MessageSigner?
    ) throws -> [(WarncastConfiguration.Channel, any ChannelAdapter)] {
        try dispatch.channels.values.sorted { $0.name < $1.name }.map { channel in
            let context = AdapterContext(channel: channel.name, settings: channel.settings, callbacks: callbacks, signer: signer)
            guard let adapter = try AdapterCatalogue.make(channel.adapter, context: context) else {
                throw DispatchError.unknownAdapter(channel: channel.name, adapter: channel.adapter)
            }
            return (channel, adapter)
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
        // The last results are written even when the service was cancelled rather than shut
        // down gracefully: GRDB refuses to start work for a cancelled task, so the write runs
        // in a task of its own, which does not inherit the cancellation.
        try await Task { try await self.flush() }.value
        engine.shutdown()
        logger.info("dispatcher stopped")
    }

    private var stopping: Bool { Task.isShuttingDownGracefully || Task.isCancelled }

    // MARK: Leasing and sending

    /// Two loops per channel: one keeps a buffer of leased deliveries topped up (leasing is a
    /// write transaction, so it must not sit between a freed slot and the next request), the
    /// other starts a request whenever a slot is free.
    private func dispatch(_ runner: ChannelRunner) async {
        // A lease outlasts the longest attempt plus its wait in the buffer; once it runs out
        // (the holder died) the delivery is due again.
        let leaseFor = TimeInterval(runner.channel.timeoutMilliseconds + runner.channel.connectTimeoutMilliseconds) / 1000 + 5
        await withDiscardingTaskGroup { group in
            group.addTask { await self.keepLeased(runner, leaseFor: leaseFor) }
            let batching = runner.adapter as? any BatchChannelAdapter
            while !stopping {
                guard let jobs = runner.nextJobs(limit: batching?.batchLimit ?? 1) else {
                    await runner.sendable.wait(timeout: .milliseconds(50))
                    continue
                }
                group.addTask {
                    if let batching {
                        await self.attempt(batch: jobs, with: runner, adapter: batching)
                    } else {
                        await self.attempt(jobs[0], with: runner)
                    }
                    runner.finished()
                }
            }
        }
        // Only now has the leasing loop stopped too: nothing more can be leased behind this.
        returnUnsent(runner)
    }

    /// On shutdown, leased deliveries that never went out are handed back as due now, so a
    /// restart sends them at once instead of after their lease.
    private func returnUnsent(_ runner: ChannelRunner) {
        let at = now()
        for job in runner.drainWaiting() {
            results.append(AttemptResult(
                deliveryID: job.id, attempt: job.attempt, at: at, httpStatus: nil, error: nil,
                outcome: .deferred(until: at), milliseconds: 0))
        }
    }

    private func keepLeased(_ runner: ChannelRunner, leaseFor: TimeInterval) async {
        let target = runner.channel.concurrency * 2
        let batch = max(1, runner.channel.concurrency / 4)
        while !stopping {
            let room = target - runner.held
            guard room >= batch else {
                await runner.leasable.wait(timeout: .milliseconds(50))
                continue
            }
            do {
                let jobs = try await store.leaseDeliveries(
                    channel: runner.channel.name, limit: min(room, 1000), at: now(), leaseFor: leaseFor)
                if jobs.isEmpty {
                    await idle(runner)
                } else {
                    runner.add(jobs)
                }
            } catch {
                logger.error("cannot lease deliveries", metadata: ["channel": .string(runner.channel.name), "error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Waits for a release or the poll interval, whichever comes first.
    private func idle(_ runner: ChannelRunner) async {
        await runner.doorbell.wait(timeout: .milliseconds(200))
    }

    private func attempt(_ job: DeliveryJob, with runner: ChannelRunner) async {
        let channel = runner.channel
        let endpoint = runner.adapter.endpoint(for: job)
        let started = now()
        if let until = runner.breakers.blockedUntil(endpoint, now: started) {
            holdBack(job, until: until, at: started)
            return
        }
        await runner.limiter.acquire()
        await runner.gatewayLimiter?.acquire()
        var status: Int?
        var reference: String?
        var outcome: DeliveryOutcome
        var errorText: String?
        do {
            let message = try await messages.message(for: job.warningID, adapter: runner.channel.adapter, using: runner.adapter)
            var request = try runner.adapter.request(for: job, message: message)
            request.connectTimeoutMilliseconds = channel.connectTimeoutMilliseconds
            request.totalTimeoutMilliseconds = channel.timeoutMilliseconds
            request.headers += try signer.headers(
                body: request.body ?? Data(), idempotencyKey: job.idempotencyKey, timestamp: Timestamp.string(now()))
            let response = try await engine.perform(request)
            status = response.status
            outcome = runner.adapter.outcome(of: response)
            reference = runner.adapter.reference(in: response)
        } catch let error as CurlError {
            outcome = .retry(error.message)
            errorText = error.description
        } catch {
            outcome = .failed("\(error)")
            errorText = "\(error)"
        }
        let finished = now()
        if runner.breakers.record(outcome, for: endpoint, now: finished) {
            logger.warning("circuit breaker opened", metadata: ["endpoint": .string(endpoint)])
        }
        record(job, BatchOutcome(outcome, status: status, detail: errorText, reference: reference), channel: channel,
               started: started, finished: finished)
    }

    /// One request for several deliveries of one warning (an email to many mailboxes in
    /// one SMTP transaction); the adapter reads each recipient's own result from the answer.
    private func attempt(batch jobs: [DeliveryJob], with runner: ChannelRunner, adapter: any BatchChannelAdapter) async {
        let channel = runner.channel
        let endpoint = adapter.endpoint(for: jobs[0])
        let started = now()
        if let until = runner.breakers.blockedUntil(endpoint, now: started) {
            for job in jobs { holdBack(job, until: until, at: started) }
            return
        }
        await runner.limiter.acquire()
        await runner.gatewayLimiter?.acquire()
        var outcomes: [BatchOutcome]
        do {
            let message = try await messages.message(for: jobs[0].warningID, adapter: channel.adapter, using: adapter)
            var request = try adapter.request(for: jobs, message: message)
            request.connectTimeoutMilliseconds = channel.connectTimeoutMilliseconds
            request.totalTimeoutMilliseconds = channel.timeoutMilliseconds
            do {
                outcomes = adapter.outcomes(of: .success(try await engine.perform(request)), for: jobs)
            } catch let error as CurlError {
                outcomes = adapter.outcomes(of: .failure(error), for: jobs)
            }
        } catch {
            outcomes = jobs.map { _ in BatchOutcome(.failed("\(error)"), status: nil, detail: "\(error)") }
        }
        let finished = now()
        // The endpoint (the mail server) is healthy if it took anyone, failing if it took nobody.
        let overall = outcomes.contains { [.delivered, .accepted].contains($0.outcome) } ? DeliveryOutcome.delivered
            : outcomes.first(where: { if case .retry = $0.outcome { true } else { false } })?.outcome ?? .failed("refused")
        if runner.breakers.record(overall, for: endpoint, now: finished) {
            logger.warning("circuit breaker opened", metadata: ["endpoint": .string(endpoint)])
        }
        for (job, result) in zip(jobs, outcomes) {
            record(job, result, channel: channel, started: started, finished: finished)
        }
    }

    /// Not attempted: the endpoint's breaker is open. It does not count as an attempt.
    private func holdBack(_ job: DeliveryJob, until: Date, at: Date) {
        counter?.countAttempt(channel: job.recipient.channel, outcome: "deferred")
        results.append(AttemptResult(
            deliveryID: job.id, attempt: job.attempt, at: at, httpStatus: nil, error: "circuit open",
            outcome: .deferred(until: until), milliseconds: 0))
    }

    /// Queues an attempt's result for writing, with the time of the next try for a retry.
    private func record(
        _ job: DeliveryJob, _ result: BatchOutcome, channel: WarncastConfiguration.Channel, started: Date, finished: Date
    ) {
        counter?.countAttempt(channel: channel.name, outcome: result.outcome.name)
        var errorText = result.detail
        var nextAttemptAt: Date?
        switch result.outcome {
        case .retry(let reason):
            errorText = errorText ?? reason
            if channel.retry.shouldRetry(attempt: job.attempt) {
                nextAttemptAt = finished.addingTimeInterval(channel.retry.delay(afterAttempt: job.attempt))
            }
        case .failed(let reason):
            errorText = errorText ?? reason
        case .delivered, .accepted, .deferred:
            break
        }
        results.append(AttemptResult(
            deliveryID: job.id, attempt: job.attempt, at: finished, httpStatus: result.status, error: errorText,
            outcome: result.outcome, milliseconds: Int(finished.timeIntervalSince(started) * 1000), nextAttemptAt: nextAttemptAt,
            reference: result.reference))
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

/// A channel's settings with its adapter, rate limiter, breakers, and the deliveries it
/// holds: leased and waiting for a slot, or in flight.
final class ChannelRunner: Sendable {
    let channel: WarncastConfiguration.Channel
    let adapter: any ChannelAdapter
    let limiter: RateLimiter
    /// The limiter of the gateway this channel shares with others, if any.
    let gatewayLimiter: RateLimiter?
    let breakers: CircuitBreakers
    /// Rung on every release: new deliveries may be due.
    let doorbell = Doorbell()
    /// Rung when leased deliveries arrive or a slot frees.
    let sendable = Doorbell()
    /// Rung when a delivery finishes, leaving room to lease more.
    let leasable = Doorbell()
    private let queue = Mutex(JobQueue())

    private struct JobQueue: ~Copyable {
        var waiting: [DeliveryJob] = []
        var next = 0
        var inFlight = 0
    }

    /// Deliveries leased and not finished.
    var held: Int { queue.withLock { $0.waiting.count - $0.next + $0.inFlight } }

    func add(_ jobs: [DeliveryJob]) {
        queue.withLock { queue in
            if queue.next > 1024 {
                queue.waiting.removeFirst(queue.next)
                queue.next = 0
            }
            queue.waiting += jobs
        }
        sendable.ring()
    }

    /// The next leased delivery, with up to `limit - 1` more of the same warning right
    /// behind it, if a slot is free; together they take one slot from now.
    func nextJobs(limit: Int) -> [DeliveryJob]? {
        queue.withLock { queue in
            guard queue.inFlight < channel.concurrency, queue.next < queue.waiting.count else { return nil }
            queue.inFlight += 1
            let first = queue.waiting[queue.next]
            var end = queue.next + 1
            while end < queue.waiting.count, end - queue.next < limit, queue.waiting[end].warningID == first.warningID {
                end += 1
            }
            defer { queue.next = end }
            return Array(queue.waiting[queue.next..<end])
        }
    }

    /// Takes the leased deliveries not yet started.
    func drainWaiting() -> [DeliveryJob] {
        queue.withLock { queue in
            defer {
                queue.waiting.removeAll()
                queue.next = 0
            }
            return Array(queue.waiting[queue.next...])
        }
    }

    func finished() {
        queue.withLock { $0.inFlight -= 1 }
        sendable.ring()
        leasable.ring()
    }

    init(channel: WarncastConfiguration.Channel, adapter: any ChannelAdapter, sharedLimiter: RateLimiter?) {
        self.channel = channel
        self.adapter = adapter
        gatewayLimiter = sharedLimiter
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

    func message(for warningID: String, adapter name: String, using adapter: any ChannelAdapter) async throws -> OutgoingMessage {
        let key = warningID + "|" + name
        if let message = messages[key] { return message }
        guard let warning = try await store.warning(id: warningID) else { throw DispatchError.unknownWarning(warningID) }
        let message = OutgoingMessage(warning: warning, preparedBy: adapter)
        if messages.count > 256 { messages.removeAll() }
        messages[key] = message
        return message
    }
}

/// Where the dispatcher counts attempts for monitoring (the daemon's Prometheus registry).
public protocol DeliveryCounter: Sendable {
    /// One attempt on `channel` came to `outcome`: delivered, accepted, retry, failed or deferred.
    func countAttempt(channel: String, outcome: String)
}

/// How gateways report back: this node's base URL and the tokens that authenticate reports.
/// The base may only be known once the listener is bound (port 0), hence settable.
public final class CallbackSettings: Sendable {
    private let address: Mutex<String>
    public let tokens: CallbackToken
    /// This node's `node.name`, for the cascade path.
    public let node: String

    public init(base: String, tokens: CallbackToken, node: String = "") {
        address = Mutex(base)
        self.tokens = tokens
        self.node = node
    }

    public var base: String {
        get { address.withLock { $0 } }
        set { address.withLock { $0 = newValue } }
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
