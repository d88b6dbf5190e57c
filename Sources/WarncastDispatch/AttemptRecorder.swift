import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import WarncastCore
import WarncastStore

/// Turns what each request came to into attempt results and writes them to the outbox in
/// batches, so 100,000 receipts are a few hundred transactions. A batch that cannot be
/// written is kept and tried again; nothing is dropped.
final class AttemptRecorder: Service {
    private let outbox: any Outbox
    private let buffer = Mutex<[AttemptResult]>([])
    /// The last write failed (a full disk, a locked or broken store) and its results wait
    /// to be written again.
    private let failing = Mutex(false)
    private let counter: (any DeliveryCounter)?
    private let trouble: TroubleRelay?
    private let logger: Logger
    private let stopping: @Sendable () -> Bool

    /// Levels whose deliveries are retried until their warning expires.
    private let untilExpiry: Set<Level>

    init(
        outbox: any Outbox, counter: (any DeliveryCounter)?, trouble: TroubleRelay? = nil, logger: Logger, untilExpiry: Set<Level>,
        stopping: @escaping @Sendable () -> Bool
    ) {
        self.trouble = trouble
        self.untilExpiry = untilExpiry
        self.outbox = outbox
        self.counter = counter
        self.logger = logger
        self.stopping = stopping
    }

    /// An answered (or failed) request for `job`, with the time of its next try for a retry.
    func record(_ job: DeliveryJob, _ result: BatchOutcome, channel: ChannelSettings, started: Date, finished: Date) {
        counter?.countAttempt(channel: channel.name, outcome: result.outcome.name)
        var errorText = result.detail
        switch result.outcome {
        case .retry(let reason), .failed(let reason): errorText = errorText ?? reason
        case .delivered, .accepted, .deferred: break
        }
        let expires = job.level.flatMap { untilExpiry.contains($0) ? job.expiresAt?.date : nil }
        let next = RetryDecision.nextAttempt(
            after: result.outcome, attempt: job.attempt, policy: channel.retry, finishedAt: finished, untilExpiry: expires)
        if next == nil, result.outcome.isGiveUp {
            logger.warning(
                "delivery given up",
                metadata: [
                    "delivery": "\(job.id)", "warning": .string(job.warningID.rawValue), "channel": .string(channel.name),
                    "recipient": .string(job.recipient.id), "attempts": "\(job.attempt)", "error": .string(errorText ?? "-"),
                ])
            counter?.countGiveUp(channel: channel.name)
            trouble?.report(
                .givenUp(
                    channel: channel.name, warning: job.warningID.rawValue, recipient: job.recipient.id, error: errorText ?? "-"))
        }
        append(
            AttemptResult(
                deliveryID: job.id, attempt: job.attempt, at: finished, httpStatus: result.status, error: errorText,
                outcome: result.outcome, milliseconds: Int(finished.timeIntervalSince(started) * 1000), nextAttemptAt: next,
                reference: result.reference))
    }

    /// Not sent, and not counted as an attempt: the endpoint's breaker is open until
    /// `until`, or (`reason` nil) the dispatcher is stopping and hands the lease back.
    func handBack(_ job: DeliveryJob, dueAt until: Date, at: Date, reason: String?) {
        if reason != nil { counter?.countAttempt(channel: job.recipient.channel, outcome: "deferred") }
        append(
            AttemptResult(
                deliveryID: job.id, attempt: job.attempt, at: at, httpStatus: nil, error: reason, outcome: .deferred(until: until),
                milliseconds: 0))
    }

    func run() async throws {
        while !stopping() {
            do {
                try await flush()
            } catch {
                logger.error("cannot record attempts; keeping them to retry", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Writes what is waiting now; on failure puts it back and throws.
    func flush() async throws {
        let batch = buffer.withLock { results in
            defer { results.removeAll(keepingCapacity: true) }
            return results
        }
        guard !batch.isEmpty else { return }
        do {
            try await outbox.recordAttempts(batch)
            failing.withLock { $0 = false }
        } catch {
            buffer.withLock { $0.insert(contentsOf: batch, at: 0) }
            failing.withLock { $0 = true }
            throw error
        }
    }

    /// Whether results are waiting because the last write failed. Nothing new may be
    /// leased meanwhile: a lease that runs out while its result waits here would make the
    /// delivery due again, and it would be sent a second time.
    var isFailing: Bool { failing.withLock { $0 } }

    private func append(_ result: AttemptResult) {
        buffer.withLock { $0.append(result) }
    }
}

extension DeliveryOutcome {
    /// A refusal, or a retryable failure: with no next try, the delivery fails.
    var isGiveUp: Bool {
        switch self {
        case .retry, .failed: true
        case .delivered, .accepted, .deferred: false
        }
    }
}
