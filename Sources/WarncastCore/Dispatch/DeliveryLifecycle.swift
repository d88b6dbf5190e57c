import Foundation

/// Every rule of a delivery's life, and the only place one is decided:
///
/// ```
/// queued ──lease──▶ sending ──answer──▶ accepted ──report/ack──▶ delivered ──playback──▶ played
///   ▲                 │  └──────────────answer/report/ack───────▶ delivered
///   └──retry/deferred─┘──refused / out of attempts──────────────▶ failed
/// queued, or sending past its lease ──warning expired──▶ expired
/// queued ──Update/Cancel released──▶ superseded
/// ```
///
/// An attempt's result applies only to the attempt the delivery is on: a delivery leased
/// again after its lease ran out belongs to the newer request, and the older one's answer
/// changes nothing. The store reads records, asks `apply`, and writes what it returns.
public enum DeliveryLifecycle {
    /// What `event` does to `record`, or nil when it changes nothing (not due, not its
    /// attempt, already final …).
    public static func apply(_ event: DeliveryEvent, to record: DeliveryRecord) -> DeliveryTransition? {
        let after: DeliveryRecord?
        switch event {
        case .leased(let at, let until): after = lease(record, at: at, until: until)
        case .renewed(let attempt, let until): after = renew(record, attempt: attempt, until: until)
        case .attempted(let result): after = attempted(record, result)
        case .reported(let state, let detail, let at): after = reported(record, state, detail: detail, at: at)
        case .acknowledged(let at): after = record.state.isReached ? nil : delivered(record, at: at)
        case .played(let at): after = played(record, at: at)
        case .woken(let at): after = wake(record, at: at)
        case .expiryChecked(let at): after = expire(record, at: at)
        case .superseded(let at): after = supersede(record, at: at)
        case .resent(let at): after = resend(record, at: at)
        }
        guard let after, after != record else { return nil }
        let seal = after.state.isFinal && after.sealedFields != record.sealedFields
        return DeliveryTransition(record: after, seal: seal)
    }

    /// Whether a dispatcher may take the delivery now: queued and due, or sending with its
    /// lease run out (its holder died); never once its warning expired.
    public static func isDue(_ record: DeliveryRecord, at: Timestamp) -> Bool {
        if let expires = record.expiresAt, expires <= at { return false }
        switch record.state {
        case .queued: return (record.nextAttemptAt ?? at) <= at
        case .sending: return (record.leaseUntil ?? at) <= at
        case .accepted, .delivered, .played, .failed, .expired, .superseded: return false
        }
    }

    /// Whether attempt `attempt` still holds the delivery: it is sending on that attempt,
    /// so nobody has leased it since.
    public static func isHeld(_ record: DeliveryRecord, by attempt: Int) -> Bool {
        record.state == .sending && record.attempts == attempt
    }

    private static func lease(_ record: DeliveryRecord, at: Timestamp, until: Timestamp) -> DeliveryRecord? {
        guard isDue(record, at: at) else { return nil }
        var next = record
        next.state = .sending
        next.attempts += 1
        next.leaseUntil = until
        next.sendingAt = record.sendingAt ?? at
        return next
    }

    /// A lease is renewed only by its holder: the delivery is still sending on the same
    /// attempt, so nobody else has leased it since (even if the lease ran out meanwhile).
    private static func renew(_ record: DeliveryRecord, attempt: Int, until: Timestamp) -> DeliveryRecord? {
        guard isHeld(record, by: attempt) else { return nil }
        var next = record
        next.leaseUntil = max(until, record.leaseUntil ?? until)
        return next
    }

    private static func attempted(_ record: DeliveryRecord, _ result: AttemptResult) -> DeliveryRecord? {
        guard result.attempt == record.attempts else { return nil }
        let at = Timestamp(result.at)
        guard record.state == .sending else { return answerAfterReport(record, result, at: at) }
        var next = record
        next.leaseUntil = nil
        if case .deferred(let until) = result.outcome {
            // Not sent: the lease is handed back and does not count as a request.
            next.state = .queued
            next.attempts -= 1
            next.nextAttemptAt = Timestamp(until)
            return next
        }
        next.lastStatus = result.httpStatus
        next.lastError = result.error
        switch result.outcome {
        case .delivered:
            next.state = .delivered
            next.deliveredAt = at
            next.acceptedAt = record.acceptedAt ?? at
        case .accepted:
            next.state = .accepted
            next.acceptedAt = at
        case .retry where result.nextAttemptAt != nil:
            next.state = .queued
            next.nextAttemptAt = result.nextAttemptAt.map(Timestamp.init)
        case .retry, .failed:
            next.state = .failed
            next.failedAt = at
        case .deferred:
            return nil
        }
        return next
    }

    /// A gateway's report can overtake the answer to the request it reports on (Kannel's
    /// DLR before smsbox's reply is recorded). The answer then keeps its status and, if it
    /// was taken earlier than the report says, the earlier acceptance time.
    private static func answerAfterReport(_ record: DeliveryRecord, _ result: AttemptResult, at: Timestamp) -> DeliveryRecord? {
        // Results are applied once, so a delivery past `sending` on this very attempt got
        // there by a report or an acknowledgement, not by this answer.
        guard [.accepted, .delivered, .played, .failed].contains(record.state), result.outcome.name != "deferred" else { return nil }
        var next = record
        next.lastStatus = result.httpStatus
        next.lastError = record.lastError ?? result.error
        if [.delivered, .accepted].contains(result.outcome), let accepted = record.acceptedAt, at < accepted {
            next.acceptedAt = at
        }
        return next
    }

    private static func reported(_ record: DeliveryRecord, _ state: DeliveryState, detail: String?, at: Timestamp) -> DeliveryRecord? {
        switch state {
        case .delivered:
            guard record.state != .superseded else { return nil }
            return record.state.isReached ? nil : delivered(record, at: at)
        case .failed:
            guard [.queued, .sending, .accepted].contains(record.state) else { return nil }
            var next = record
            next.state = .failed
            next.failedAt = at
            next.lastError = detail
            next.leaseUntil = nil
            return next
        case .accepted:
            guard [.queued, .sending].contains(record.state) else { return nil }
            var next = record
            next.state = .accepted
            next.acceptedAt = record.acceptedAt ?? at
            next.leaseUntil = nil
            return next
        case .queued, .sending, .played, .expired, .superseded:
            return nil
        }
    }

    /// A terminal broadcast it: played, whatever was recorded of its delivery before (it
    /// has it), but for a message replaced before it went out. A second report changes nothing.
    private static func played(_ record: DeliveryRecord, at: Timestamp) -> DeliveryRecord? {
        guard record.state != .superseded, record.state != .played else { return nil }
        var next = delivered(record, at: record.deliveredAt ?? at)
        next.state = .played
        next.playedAt = at
        return next
    }

    /// Delivered wins over every other state: the recipient has it, whatever was recorded before.
    private static func delivered(_ record: DeliveryRecord, at: Timestamp) -> DeliveryRecord {
        var next = record
        next.state = .delivered
        next.deliveredAt = at
        next.acceptedAt = record.acceptedAt ?? at
        next.failedAt = nil
        next.expiredAt = nil
        next.leaseUntil = nil
        return next
    }

    /// A delivery whose warning expired before it went out. One in flight is left to its
    /// attempt until its lease runs out.
    private static func expire(_ record: DeliveryRecord, at: Timestamp) -> DeliveryRecord? {
        guard let expires = record.expiresAt, expires <= at else { return nil }
        switch record.state {
        case .queued: break
        case .sending: guard let lease = record.leaseUntil, lease <= at else { return nil }
        case .accepted, .delivered, .played, .failed, .expired, .superseded: return nil
        }
        var next = record
        next.state = .expired
        next.expiredAt = at
        next.leaseUntil = nil
        return next
    }

    /// A failed or expired delivery queued again, due now, with its idempotency key (so a
    /// receiver that has it after all drops the repeat) — while its warning is in force.
    private static func resend(_ record: DeliveryRecord, at: Timestamp) -> DeliveryRecord? {
        guard [.failed, .expired].contains(record.state) else { return nil }
        if let expires = record.expiresAt, expires <= at { return nil }
        var next = record
        next.state = .queued
        next.nextAttemptAt = at
        next.failedAt = nil
        next.expiredAt = nil
        next.leaseUntil = nil
        return next
    }

    private static func wake(_ record: DeliveryRecord, at: Timestamp) -> DeliveryRecord? {
        guard record.state == .queued, let next = record.nextAttemptAt, next > at else { return nil }
        var woken = record
        woken.nextAttemptAt = at
        return woken
    }

    private static func supersede(_ record: DeliveryRecord, at: Timestamp) -> DeliveryRecord? {
        guard record.state == .queued else { return nil }
        var next = record
        next.state = .superseded
        next.supersededAt = at
        return next
    }
}
