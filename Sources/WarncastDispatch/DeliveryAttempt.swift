import Foundation
import Logging
import WarncastCore
import WarncastNet
import WarncastStore

/// One request for one or more leased deliveries of a channel, the only way anything is
/// sent: the endpoint's breaker, the channel's and the gateway's rate limits, the
/// timeouts, the signature, the request itself, and every delivery's share of the answer
/// handed to the recorder.
struct DeliveryAttempt: Sendable {
    let outbox: any Outbox
    let transport: any Transport
    let signer: MessageSigner
    let messages: MessageCache
    let standing: WarningStanding
    let recorder: AttemptRecorder
    var trouble: TroubleRelay? = nil
    let logger: Logger
    let now: @Sendable () -> Date

    /// Sends `jobs` (all of one warning, at most the adapter's batch) as one request, in the
    /// slot of `ticket`. Returns how long the endpoint took to answer, if it answered.
    @discardableResult
    func send(_ jobs: [DeliveryJob], ticket: UInt64, with runner: ChannelRunner) async -> TimeInterval? {
        let channel = runner.channel
        let adapter = runner.adapter
        let started = now()
        // The first endpoint whose breaker is closed: the usual one, else a fallback gateway.
        let candidates = adapter.endpoints(for: jobs[0])
        guard let endpoint = candidates.first(where: { runner.breakers.blockedUntil($0, now: started) == nil }) else {
            let until = candidates.compactMap { runner.breakers.blockedUntil($0, now: started) }.min() ?? started
            for job in jobs { recorder.handBack(job, dueAt: until, at: started, reason: "circuit open") }
            return nil
        }
        if endpoint != candidates.first {
            logger.debug(
                "sending through a fallback endpoint", metadata: ["channel": .string(channel.name), "endpoint": .string(endpoint)])
        }
        await runner.limiter.acquire()
        await runner.gatewayLimiter?.acquire()
        if await standing.isWithdrawn(jobs[0].warningID) {
            // Replaced or lifted since these were leased: handed back, and the store
            // supersedes them instead of queueing them again.
            let at = now()
            for job in jobs { recorder.handBack(job, dueAt: at, at: at, reason: "replaced by an Update or Cancel") }
            return nil
        }
        let jobs = await stillHeld(jobs, with: runner)
        guard !jobs.isEmpty else { return nil }
        // Only the request itself counts against the slot's time, not the wait for the limiter.
        let requested = now()
        runner.requestStarted(ticket, at: requested)
        let (outcomes, sent) = await answer(jobs, channel: channel, adapter: adapter, via: endpoint)
        let finished = now()
        // Only a request that went out says anything of the endpoint: a warning that could not
        // be read just then is no failure of the gateway.
        if sent, runner.breakers.record(Self.overall(outcomes), for: endpoint, now: finished) {
            logger.warning("circuit breaker opened", metadata: ["endpoint": .string(endpoint)])
            // A gateway every delivery of the channel goes through, not one village's terminal
            // (whether pushed to at its own address or dialled in on a connection of its own).
            if endpoint != jobs[0].recipient.address, !endpoint.hasPrefix(DialInTransport.scheme) {
                let error = outcomes.first?.detail ?? outcomes.first.map { "\($0.outcome)" } ?? "-"
                trouble?.report(.gatewayDown(channel: channel.name, endpoint: endpoint, error: error))
            }
        }
        for (job, outcome) in zip(jobs, outcomes) {
            recorder.record(job, outcome, channel: channel, started: started, finished: finished)
        }
        return outcomes.contains { $0.status != nil } ? finished.timeIntervalSince(requested) : nil
    }

    /// The deliveries this dispatcher may still send: a lease that could run out before the
    /// request ends is renewed first, and a delivery whose lease cannot be renewed (someone
    /// else leased it since) is not sent, so no delivery is ever sent twice by one lease.
    private func stillHeld(_ jobs: [DeliveryJob], with runner: ChannelRunner) async -> [DeliveryJob] {
        let at = now()
        let needed = at.addingTimeInterval(runner.longestAttempt + 1)
        let expiring = jobs.filter { ($0.leaseUntil ?? .distantPast) < needed }
        guard !expiring.isEmpty else { return jobs }
        do {
            let renewed = try await outbox.renewLeases(expiring.map { ($0.id, $0.attempt) }, until: at.addingTimeInterval(runner.leaseFor))
            let lost = Set(expiring.map(\.id)).subtracting(renewed)
            if !lost.isEmpty {
                logger.notice("leases lost before sending; not sent", metadata: ["count": .stringConvertible(lost.count)])
            }
            return jobs.filter { !lost.contains($0.id) }
        } catch {
            // Not sure they are still ours: leave them to come due again when the lease ends.
            logger.error("cannot renew leases; not sending", metadata: ["error": "\(error)"])
            return []
        }
    }

    /// Each delivery's share of the answer; a request that cannot be built is a refusal. A
    /// warning that cannot be read just now (a busy or failing store) is tried again later,
    /// as an unanswered request is.
    private func answer(
        _ jobs: [DeliveryJob], channel: ChannelSettings, adapter: any BatchChannelAdapter, via endpoint: String
    ) async -> (outcomes: [BatchOutcome], sent: Bool) {
        let message: OutgoingMessage
        do {
            message = try await messages.message(for: jobs[0].warningID, adapter: channel.adapter, using: adapter)
        } catch let error where error is DispatchError || error is DecodingError {
            // No such warning, or its stored message can no longer be read: trying again
            // would not help.
            return (jobs.map { _ in BatchOutcome(.failed("\(error)"), status: nil, detail: "\(error)") }, false)
        } catch {
            let reason = "cannot read the warning: \(error)"
            return (jobs.map { _ in BatchOutcome(.retry(reason), status: nil, detail: reason) }, false)
        }
        do {
            var request = try adapter.request(for: jobs, message: message, via: endpoint)
            request.connectTimeoutMilliseconds = channel.connectTimeoutMilliseconds
            request.totalTimeoutMilliseconds = channel.timeoutMilliseconds
            if !adapter.signsItself, jobs.count == 1 {
                request.headers += try signer.headers(
                    body: request.body ?? Data(), idempotencyKey: jobs[0].idempotencyKey, timestamp: Timestamp.string(now()))
            }
            do {
                return (adapter.outcomes(of: .success(try await transport.perform(request)), for: jobs), true)
            } catch let error as CurlError {
                return (adapter.outcomes(of: .failure(error), for: jobs), true)
            }
        } catch {
            return (jobs.map { _ in BatchOutcome(.failed("\(error)"), status: nil, detail: "\(error)") }, false)
        }
    }

    /// What the answer says of the endpoint: healthy if it took anyone, else failing the
    /// way the first retryable delivery failed, or refusing.
    static func overall(_ outcomes: [BatchOutcome]) -> DeliveryOutcome {
        if outcomes.contains(where: { [.delivered, .accepted].contains($0.outcome) }) { return .delivered }
        return outcomes.first(where: { if case .retry = $0.outcome { true } else { false } })?.outcome ?? .failed("refused")
    }
}
