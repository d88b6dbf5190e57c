import Foundation
import Synchronization
import WarncastCore

/// A channel's settings with its adapter, rate limiter, breakers, and the deliveries it
/// holds: leased and waiting for a slot, or in flight.
final class ChannelRunner: Sendable {
    let channel: ChannelSettings
    /// The channel's adapter; one that sends a delivery per request is seen in batches of one.
    let adapter: any BatchChannelAdapter
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
        /// Requests holding one of the channel's `concurrency` slots, by ticket, with when
        /// they started.
        var started: [UInt64: Date] = [:]
        /// Requests that took much longer than usual and gave their slot up.
        var slow = 0
        var nextTicket: UInt64 = 0
        /// How long an answered request usually takes here (a moving average).
        var typical: TimeInterval = 0.025
        var inFlight: Int { started.count }
    }

    /// Deliveries leased and not finished, but for slow requests out of their slots: what
    /// the buffer of leased deliveries is measured against, so that hanging terminals do not
    /// stop the leasing of the next ones.
    var held: Int { queue.withLock { $0.waiting.count - $0.next + $0.inFlight } }

    /// How many slow requests may be out beside the slots: a terminal that hangs costs a
    /// connection waiting for its timeout, not a slot healthy villages are waiting for.
    var slowLimit: Int { max(16, channel.concurrency * 4) }

    /// A request running longer than this gives its slot up: four times the usual answer
    /// time, between 50 ms and 2 s. Giving a slot up costs nothing but a connection held
    /// open beside the slots; the request goes on and its answer counts as ever.
    static func slowAfter(typical: TimeInterval) -> TimeInterval { min(2, max(0.05, typical * 4)) }

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
    func nextJobs(limit: Int) -> (jobs: [DeliveryJob], ticket: UInt64)? {
        queue.withLock { queue in
            guard queue.inFlight < channel.concurrency, queue.next < queue.waiting.count else { return nil }
            queue.nextTicket += 1
            let ticket = queue.nextTicket
            // Waiting for the rate limiter is not slowness: the clock starts with the request.
            queue.started[ticket] = .distantFuture
            let first = queue.waiting[queue.next]
            var end = queue.next + 1
            while end < queue.waiting.count, end - queue.next < limit, queue.waiting[end].warningID == first.warningID {
                end += 1
            }
            defer { queue.next = end }
            return (Array(queue.waiting[queue.next..<end]), ticket)
        }
    }

    /// The request of `ticket` went out at `date`.
    func requestStarted(_ ticket: UInt64, at date: Date) {
        queue.withLock { queue in
            if queue.started[ticket] != nil { queue.started[ticket] = date }
        }
    }

    /// Moves requests that have run much longer than usual out of their slots (while there
    /// is room for slow ones), so the next deliveries can start. Returns how many moved.
    @discardableResult
    func releaseSlowSlots(now: Date) -> Int {
        let moved = queue.withLock { queue -> Int in
            let limit = ChannelRunner.slowAfter(typical: queue.typical)
            var moved = 0
            for (ticket, start) in queue.started where now.timeIntervalSince(start) > limit && queue.slow < slowLimit {
                queue.started[ticket] = nil
                queue.slow += 1
                moved += 1
            }
            return moved
        }
        if moved > 0 { sendable.ring() }
        return moved
    }

    /// Leased deliveries not yet started whose lease ends before `date`.
    func waiting(expiringBefore date: Date) -> [DeliveryJob] {
        queue.withLock { queue in
            queue.waiting[queue.next...].filter { ($0.leaseUntil ?? .distantPast) < date }
        }
    }

    /// After asking to renew the leases of `jobs` until `until`: the renewed ones are held
    /// that long now; the others are no longer this dispatcher's and are let go unsent.
    func renewed(_ renewed: Set<Int64>, of jobs: [DeliveryJob], until: Date) {
        let asked = Dictionary(jobs.map { ($0.id, $0.attempt) }, uniquingKeysWith: { first, _ in first })
        queue.withLock { queue in
            var kept: [DeliveryJob] = []
            for var job in queue.waiting[queue.next...] {
                if asked[job.id] == job.attempt {
                    guard renewed.contains(job.id) else { continue }
                    job.leaseUntil = until
                }
                kept.append(job)
            }
            queue.waiting = kept
            queue.next = 0
        }
        leasable.ring()
    }

    /// How long a lease lasts: the longest attempt, and time to wait for a slot. A lease
    /// about to run out is renewed while its delivery waits, and before it is sent.
    var leaseFor: TimeInterval {
        TimeInterval(channel.timeoutMilliseconds + channel.connectTimeoutMilliseconds) / 1000 + 5
    }

    /// How long one request may take at most, connecting included.
    var longestAttempt: TimeInterval {
        TimeInterval(channel.timeoutMilliseconds + channel.connectTimeoutMilliseconds) / 1000
    }

    /// How many leased deliveries to keep waiting: enough to fill every slot twice over,
    /// but no more than the rate limit lets out within half a lease.
    var bufferTarget: Int {
        let slots = channel.concurrency * 2
        guard channel.ratePerSecond > 0 else { return slots }
        return max(1, min(slots, Int(Double(channel.ratePerSecond) * leaseFor / 2)))
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

    /// The request of `ticket` ended, answered in `seconds` (nil: no answer).
    func finished(_ ticket: UInt64, answeredIn seconds: TimeInterval?) {
        queue.withLock { queue in
            if queue.started.removeValue(forKey: ticket) == nil { queue.slow -= 1 }
            if let seconds { queue.typical = queue.typical * 0.95 + seconds * 0.05 }
        }
        sendable.ring()
        leasable.ring()
    }

    /// Requests in flight: in a slot, and slow ones out of their slots.
    var inFlight: (slots: Int, slow: Int) { queue.withLock { ($0.inFlight, $0.slow) } }

    init(channel: ChannelSettings, adapter: any ChannelAdapter, sharedLimiter: RateLimiter?) {
        self.channel = channel
        self.adapter = adapter.batching
        gatewayLimiter = sharedLimiter
        limiter = RateLimiter(perSecond: channel.ratePerSecond)
        breakers = CircuitBreakers(threshold: channel.breakerFailures, cooldown: channel.breakerCooldown)
    }
}
