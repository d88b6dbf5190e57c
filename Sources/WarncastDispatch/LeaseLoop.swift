import Foundation
import Logging
import ServiceLifecycle
import WarncastCore
import WarncastStore

/// One channel's two loops: one keeps a buffer of leased deliveries topped up (leasing is a
/// write transaction, so it must not sit between a freed slot and the next request), the
/// other starts a request whenever one of the channel's slots is free.
struct LeaseLoop: Service {
    let runner: ChannelRunner
    let outbox: any Outbox
    let attempt: DeliveryAttempt
    let recorder: AttemptRecorder
    let logger: Logger
    let now: @Sendable () -> Date
    let stopping: @Sendable () -> Bool

    func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await keepLeased() }
            group.addTask { await releaseSlowSlots() }
            while !stopping() {
                guard let (jobs, ticket) = runner.nextJobs(limit: runner.adapter.batchLimit) else {
                    await runner.sendable.wait(timeout: .milliseconds(50))
                    continue
                }
                group.addTask {
                    let answered = await attempt.send(jobs, ticket: ticket, with: runner)
                    runner.finished(ticket, answeredIn: answered)
                }
            }
        }
        // Only now has the leasing loop stopped too: nothing more can be leased behind this.
        handBackUnsent()
    }

    /// Every 25 ms, requests that have run far longer than the channel's usual answer give
    /// their slots to the next deliveries: a hanging terminal waits out its timeout on a
    /// connection of its own instead of holding up healthy villages.
    private func releaseSlowSlots() async {
        while !stopping() {
            runner.releaseSlowSlots(now: now())
            try? await Task.sleep(for: .milliseconds(25))
        }
    }

    /// On shutdown, leased deliveries that never went out are handed back as due now, so a
    /// restart sends them at once instead of after their lease.
    private func handBackUnsent() {
        let at = now()
        for job in runner.drainWaiting() {
            recorder.handBack(job, dueAt: at, at: at, reason: nil)
        }
    }

    private func keepLeased() async {
        let target = runner.bufferTarget
        let batch = max(1, min(target, runner.channel.concurrency / 4))
        // Looking for leases to renew scans the buffer: once a second is enough for leases
        // that last several seconds, and keeps it off the path of every finished delivery.
        var nextRenewal = Date.distantPast
        while !stopping() {
            if now() >= nextRenewal {
                await renewExpiring()
                nextRenewal = now().addingTimeInterval(min(1, runner.leaseFor / 4))
            }
            // While results cannot be written, lease nothing: deliveries whose results wait
            // in the recorder are still leased in the store, and their leases may run out.
            guard !recorder.isFailing else {
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            let room = target - runner.held
            guard room >= batch else {
                await runner.leasable.wait(timeout: .milliseconds(50))
                continue
            }
            do {
                let jobs = try await outbox.leaseDeliveries(
                    channel: runner.channel.name, limit: min(room, 1000), at: now(), leaseFor: runner.leaseFor)
                if jobs.isEmpty {
                    // Wait for a release or the poll interval, whichever comes first.
                    await runner.doorbell.wait(timeout: .milliseconds(200))
                } else {
                    runner.add(jobs)
                }
            } catch {
                logger.error("cannot lease deliveries", metadata: ["channel": .string(runner.channel.name), "error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Renews the leases of waiting deliveries that would run out within half a lease, so a
    /// delivery held back by a rate limit or busy slots is never leased a second time.
    private func renewExpiring() async {
        let at = now()
        let expiring = runner.waiting(expiringBefore: at.addingTimeInterval(runner.leaseFor / 2))
        guard !expiring.isEmpty else { return }
        let until = at.addingTimeInterval(runner.leaseFor)
        do {
            let renewed = try await outbox.renewLeases(expiring.map { ($0.id, $0.attempt) }, until: until)
            runner.renewed(renewed, of: expiring, until: until)
        } catch {
            logger.error("cannot renew leases", metadata: ["channel": .string(runner.channel.name), "error": "\(error)"])
        }
    }
}
