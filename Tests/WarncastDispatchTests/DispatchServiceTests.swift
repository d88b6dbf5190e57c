import Foundation
import Testing
import WarncastCore
import WarncastDispatch
import WarncastNet
import WarncastStore
import WarncastTestSupport

@Suite("The dispatcher against a fleet of loopback loudspeakers")
struct DispatchServiceTests {
    @Test("a red warning for one county reaches that county's loudspeakers only, signed, once each")
    func fanOut() async throws {
        let harness = try await DispatchHarness()
        let inside = try await harness.addSpeakers(30, in: "430121001")
        try await harness.addSpeakers(10, in: "430121003")
        try await harness.addSpeakers(10, in: "430102001")
        let warning = try await harness.release("rainstorm-red-csx.xml")
        #expect(try await harness.summary(warning)[.queued] == 30)
        let finished = try await harness.dispatch { try await harness.summary(warning)[.delivered] == 30 }
        #expect(finished)
        #expect(harness.fleet.uniqueDeliveries == 30)
        #expect(harness.fleet.badSignatures == 0)
        #expect(harness.fleet.keysByEndpoint.keys.allSatisfy { $0.hasPrefix("430121001-") })
        let deliveries = try await harness.store.deliveries(warningID: warning, state: nil, limit: 100)
        #expect(Set(deliveries.map(\.recipient)) == Set(inside))
        #expect(deliveries.allSatisfy { $0.deliveredAt != nil && $0.sendingAt != nil && $0.attempts == 1 })
    }

    @Test("a release planned in steps (3 recipients each, 20 loudspeakers): the dispatcher plans the rest and each gets it once")
    func plannedInSteps() async throws {
        let harness = try await DispatchHarness(planningStep: 3)
        try await harness.addSpeakers(20, in: "430121001")
        let warning = try await harness.release("rainstorm-red-csx.xml")
        // The approval planned the first step only; the dispatcher's planner does the rest.
        #expect(try await harness.summary(warning).values.reduce(0, +) == 3)
        #expect(try await harness.dispatch { try await harness.summary(warning)[.delivered] == 20 })
        #expect(harness.fleet.uniqueDeliveries == 20)
        #expect(harness.fleet.repeats == 0)
        let planned = try await harness.store.auditEntries(subject: warning.rawValue).filter { $0.action == "deliveries.planned" }
        #expect(planned.count == 1)
    }

    @Test("a 503 is retried with backoff until the endpoint acknowledges; each attempt is recorded")
    func retries() async throws {
        let harness = try await DispatchHarness()
        try await harness.addSpeakers(1, in: "430121001")
        harness.fleet.set(.fail(status: 503, times: 2), for: "430121001-1")
        let warning = try await harness.release("rainstorm-red-csx.xml")
        #expect(try await harness.dispatch { try await harness.summary(warning)[.delivered] == 1 })
        let delivery = try #require(try await harness.store.deliveries(warningID: warning, state: nil, limit: 1).first)
        #expect(delivery.attempts == 3)
        #expect(delivery.lastStatus == 200)
        #expect(harness.fleet.uniqueDeliveries == 1)
    }

    @Test("a permanent refusal fails at once; for a yellow warning an endpoint that never recovers fails after the last attempt")
    func failures() async throws {
        let harness = try await DispatchHarness()
        try await harness.addSpeakers(2, in: "430121001")
        harness.fleet.set(.fail(status: 404, times: 100), for: "430121001-1")
        harness.fleet.set(.fail(status: 500, times: 100), for: "430121001-2")
        let warning = try await harness.release("rainstorm-red-csx.xml") { $0.level = .yellow }
        #expect(try await harness.dispatch { try await harness.summary(warning)[.failed] == 2 })
        let deliveries = try await harness.store.deliveries(warningID: warning, state: .failed, limit: 10)
        let byRecipient = Dictionary(uniqueKeysWithValues: deliveries.map { ($0.recipient, $0) })
        #expect(byRecipient["ls-430121001-1"]?.attempts == 1)
        #expect(byRecipient["ls-430121001-1"]?.lastStatus == 404)
        #expect(byRecipient["ls-430121001-2"]?.attempts == 4)
        #expect(byRecipient["ls-430121001-2"]?.lastError == "HTTP 500")
    }

    @Test("a red warning is retried past max_attempts until its endpoint recovers, and expires rather than fails")
    func redUntilExpiry() async throws {
        let harness = try await DispatchHarness()
        try await harness.addSpeakers(2, in: "430121001")
        // max_attempts is 4 in the harness: the first recovers after 6 failures, the second never.
        harness.fleet.set(.fail(status: 503, times: 6), for: "430121001-1")
        harness.fleet.set(.fail(status: 503, times: 10_000), for: "430121001-2")
        let warning = try await harness.release("rainstorm-red-csx.xml") { $0.expires = Date().addingTimeInterval(600) }
        let store = harness.store
        // Past max_attempts while the warning is in force: the first is delivered at its 7th
        // attempt, the second is still being tried.
        #expect(
            try await harness.dispatch {
                let rows = try await store.deliveries(warningID: warning, state: nil, limit: 10)
                return rows.contains { $0.state == .delivered } && rows.contains { $0.state != .delivered && $0.attempts > 4 }
            })
        #expect(try await harness.summary(warning)[.failed] == nil, "nothing fails while the warning is in force")
        // The dispatcher's clock moves past the expiry: the one still trying expires.
        harness.clock.advance(by: 700)
        #expect(try await harness.dispatch { try await harness.summary(warning)[.expired] == 1 })
        let deliveries = try await harness.store.deliveries(warningID: warning, state: nil, limit: 10)
        let byRecipient = Dictionary(uniqueKeysWithValues: deliveries.map { ($0.recipient, $0) })
        #expect(byRecipient["ls-430121001-1"]?.state == .delivered)
        #expect(byRecipient["ls-430121001-1"]?.attempts == 7)
        #expect(byRecipient["ls-430121001-2"]?.state == .expired, "never failed while the warning was in force")
        #expect((byRecipient["ls-430121001-2"]?.attempts ?? 0) > 4)
        #expect(try await harness.summary(warning)[.failed] == nil)
    }

    @Test(
        "a hanging endpoint times out and a vanished one is refused; both are retried with the curl error recorded (yellow: up to max_attempts)"
    )
    func timeoutsAndVanishing() async throws {
        let harness = try await DispatchHarness {
            $0.timeoutMilliseconds = 300
            $0.retry = RetryPolicy(maxAttempts: 2, initialDelay: 0.05, maxDelay: 0.1)
        }
        try await harness.addSpeakers(1, in: "430121001")
        harness.fleet.set(.slow(milliseconds: 2000), for: "430121001-1")
        let warning = try await harness.release("rainstorm-red-csx.xml") { $0.level = .yellow }
        #expect(try await harness.dispatch { try await harness.summary(warning)[.failed] == 1 })
        let hung = try #require(try await harness.store.deliveries(warningID: warning, state: nil, limit: 1).first)
        #expect(hung.lastError?.contains("curl error 28") == true)

        let gone = try await DispatchHarness()
        try await gone.addSpeakers(1, in: "430121001")
        gone.fleet.vanish()
        try await Task.sleep(for: .milliseconds(200))
        let second = try await gone.release("rainstorm-red-csx.xml") { $0.level = .yellow }
        #expect(try await gone.dispatch { try await gone.summary(second)[.failed] == 1 })
        let refused = try #require(try await gone.store.deliveries(warningID: second, state: nil, limit: 1).first)
        #expect(refused.lastError?.contains("curl error 7") == true)
        #expect(refused.attempts == 4)
    }

    @Test("an operator resends a failed delivery: it goes out again with its idempotency key, and the resend is audited")
    func resend() async throws {
        let harness = try await DispatchHarness()
        try await harness.addSpeakers(1, in: "430121001")
        harness.fleet.set(.fail(status: 500, times: 4), for: "430121001-1")
        let warning = try await harness.release("rainstorm-red-csx.xml") { $0.level = .yellow }
        #expect(try await harness.dispatch { try await harness.summary(warning)[.failed] == 1 })
        let failed = try #require(try await harness.store.deliveries(warningID: warning, state: nil, limit: 1).first)

        let count = try await harness.store.resend(
            warningID: warning, channel: nil, within: RegionCode("430121")!, states: [.failed], by: .test,
            reason: "terminal repaired", at: Date())
        #expect(count == 1)
        #expect(try await harness.dispatch { try await harness.summary(warning)[.delivered] == 1 })
        let delivered = try #require(try await harness.store.deliveries(warningID: warning, state: nil, limit: 1).first)
        #expect(delivered.idempotencyKey == failed.idempotencyKey)
        #expect(delivered.attempts == 5)
        #expect(harness.fleet.keysByEndpoint["430121001-1"] == [failed.idempotencyKey])
        let audit = try await harness.store.auditEntries(subject: warning.rawValue).first { $0.action == "deliveries.resent" }
        #expect(audit?.detail.contains("terminal repaired") == true)
        guard case .intact = try await harness.store.verifyReceipts() else {
            Issue.record("the receipts' seals do not verify after a resend")
            return
        }
    }

    @Test("a resend within a township queues again only that township's failed deliveries")
    func resendWithinRegion() async throws {
        let harness = try await DispatchHarness()
        try await harness.addSpeakers(1, in: "430121001")
        try await harness.addSpeakers(1, in: "430121002")
        harness.fleet.set(.fail(status: 500, times: 4), for: "430121001-1")
        harness.fleet.set(.fail(status: 500, times: 4), for: "430121002-1")
        let warning = try await harness.release("rainstorm-red-csx.xml") { $0.level = .yellow }
        #expect(try await harness.dispatch { try await harness.summary(warning)[.failed] == 2 })

        let count = try await harness.store.resend(
            warningID: warning, channel: nil, within: RegionCode("430121002")!, states: [.failed], by: .test,
            reason: "township 002's terminals repaired", at: Date())
        #expect(count == 1)
        #expect(try await harness.dispatch { try await harness.summary(warning)[.delivered] == 1 })
        let byRegion = Dictionary(
            try await harness.store.deliveries(warningID: warning, state: nil, limit: 10).map { (String($0.region.prefix(9)), $0.state) },
            uniquingKeysWith: { first, _ in first })
        #expect(byRegion == ["430121001": .failed, "430121002": .delivered])
        #expect(harness.fleet.requests == 9, "four attempts each, and the one resent")
    }

    @Test("after repeated failures the endpoint's breaker opens and holds its deliveries back without spending attempts")
    func circuitBreaker() async throws {
        let harness = try await DispatchHarness {
            $0.breakerFailures = 2
            $0.breakerCooldown = 60
            $0.retry = RetryPolicy(maxAttempts: 10, initialDelay: 0.01, maxDelay: 0.01)
        }
        try await harness.addSpeakers(1, in: "430121001")
        harness.fleet.set(.fail(status: 503, times: 1000), for: "430121001-1")
        let warning = try await harness.release("rainstorm-red-csx.xml")
        // Until the delivery is held back for the cooldown (bounded, however slow the machine).
        let heldBack = try await harness.dispatch(for: 20) {
            let delivery = try await harness.store.deliveries(warningID: warning, state: nil, limit: 1).first
            return delivery?.state == .queued
                && (delivery?.nextAttemptAt?.date ?? .distantPast) > Date().addingTimeInterval(50)
        }
        #expect(heldBack)
        let delivery = try #require(try await harness.store.deliveries(warningID: warning, state: nil, limit: 1).first)
        #expect(delivery.attempts == 2)
        #expect(harness.fleet.requests == 2)
        // The report and the timeline say since when it has been retried, and why.
        let waiting = try await harness.store.retrying(warningID: warning)
        #expect(waiting.map(\.channel) == ["loudspeaker"] && waiting.first?.deliveries == 1)
        #expect(waiting.first?.lastError?.contains("503") == true, "\(waiting)")
        let since = try #require(waiting.first?.since)
        #expect(delivery.retryingSince == since && since.date <= (delivery.nextAttemptAt?.date ?? .distantPast))
    }

    /// How long the healthy ones of 400 loudspeakers took to get a red warning (95th
    /// percentile, from the dispatcher's start), with the first `hanging` of them in the
    /// order they are sent never answering.
    func healthyP95(hanging: Int) async throws -> TimeInterval {
        let harness = try await DispatchHarness {
            $0.concurrency = 8
            $0.timeoutMilliseconds = 3000
            $0.retry = RetryPolicy(maxAttempts: 2, initialDelay: 10, maxDelay: 10)
        }
        let count = 400
        try await harness.addSpeakers(count, in: "430121001")
        let warning = try await harness.release("rainstorm-red-csx.xml")
        // Deliveries go out in id order: the first ones hang, the worst case for the slots.
        let hung = Set(try await harness.store.deliveries(warningID: warning, state: nil, limit: hanging).map(\.recipient))
        for id in hung { harness.fleet.set(.slow(milliseconds: 8000), for: String(id.dropFirst("ls-".count))) }
        let start = Date()
        let done = try await harness.dispatch(for: 60) { try await harness.summary(warning)[.delivered] == count - hung.count }
        #expect(done)
        let times = try await harness.store.deliveries(warningID: warning, state: .delivered, limit: count)
            .filter { !hung.contains($0.recipient) }.compactMap { $0.deliveredAt?.date.timeIntervalSince(start) }.sorted()
        #expect(times.count == count - hung.count)
        return times[Int(Double(times.count - 1) * 0.95)]
    }

    @Test("5% of terminals hanging do not hold up the healthy villages: their p95 stays within twice a run without them")
    func hangingTerminals() async throws {
        let calm = try await healthyP95(hanging: 0)
        // The better of two runs with hanging terminals: the machine is shared, and one run
        // may be starved of CPU by others; without the fix both are eight times slower.
        var stormy = try await healthyP95(hanging: 20)
        if stormy > max(2 * calm, calm + 0.5) { stormy = min(stormy, try await healthyP95(hanging: 20)) }
        // A hanging terminal gives its slot up once it has taken far longer than the others;
        // before, each held one of the 8 slots for its whole 3 s timeout.
        #expect(stormy <= max(2 * calm, calm + 0.5), "healthy p95: \(calm) s without hanging terminals, \(stormy) s with 20")
    }

    @Test("deliveries expire with their warning")
    func expiry() async throws {
        let harness = try await DispatchHarness { $0.retry = RetryPolicy(maxAttempts: 100, initialDelay: 0.2, maxDelay: 0.2) }
        try await harness.addSpeakers(1, in: "430121001")
        harness.fleet.set(.fail(status: 503, times: 1000), for: "430121001-1")
        let warning = try await harness.release("rainstorm-red-csx.xml") { $0.expires = Date().addingTimeInterval(600) }
        let store = harness.store
        #expect(
            try await harness.dispatch {
                try await store.deliveries(warningID: warning, state: nil, limit: 1).first.map { $0.attempts >= 2 } ?? false
            })
        let inForce = try await harness.summary(warning)
        #expect(inForce[.failed] == nil && inForce[.expired] == nil, "retried while in force: \(inForce)")
        // Instead of waiting ten minutes on a machine that may be slow, the dispatcher's clock
        // jumps past the expiry.
        harness.clock.advance(by: 700)
        #expect(try await harness.dispatch { try await harness.summary(warning)[.expired] == 1 })
        #expect(harness.fleet.uniqueDeliveries == 0)
    }

    @Test("an approved Update supersedes the queued deliveries of the warning it replaces")
    func superseding() async throws {
        let harness = try await DispatchHarness()
        try await harness.addSpeakers(5, in: "430121001")
        let red = try await harness.release("rainstorm-red-csx.xml")
        let update = try await harness.release("update-csx.xml")
        #expect(try await harness.summary(red)[.superseded] == 5)
        #expect(try await harness.summary(update)[.queued] == 5)
        #expect(try await harness.dispatch { try await harness.summary(update)[.delivered] == 5 })
        #expect(harness.fleet.uniqueDeliveries == 5)
        let payloadWarnings = try await harness.store.deliveries(warningID: red, state: nil, limit: 10)
        #expect(payloadWarnings.allSatisfy { $0.state == .superseded && $0.supersededAt != nil })
    }

    @Test("deliveries out when their warning is lifted are superseded when they come back to the queue (a retry, a hand-back)")
    func requeuedAfterCancel() async throws {
        let harness = try await DispatchHarness()
        try await harness.addSpeakers(3, in: "430121001")
        let red = try await harness.release("rainstorm-red-csx.xml")
        let jobs = try await harness.store.leaseDeliveries(channel: "loudspeaker", limit: 3, at: Date(), leaseFor: 30)
        #expect(jobs.count == 3)
        _ = try await harness.release("cancel-csx.xml")
        #expect(try await harness.summary(red)[.sending] == 3, "the Cancel's release passes deliveries that are out")
        let now = Date()
        try await harness.store.recordAttempts([
            AttemptResult(
                deliveryID: jobs[0].id, attempt: jobs[0].attempt, at: now, httpStatus: 503, error: "busy", outcome: .retry("HTTP 503"),
                milliseconds: 5, nextAttemptAt: now.addingTimeInterval(1)),
            AttemptResult(
                deliveryID: jobs[1].id, attempt: jobs[1].attempt, at: now, httpStatus: nil, error: nil, outcome: .deferred(until: now),
                milliseconds: 0),
            AttemptResult(
                deliveryID: jobs[2].id, attempt: jobs[2].attempt, at: now, httpStatus: 200, error: nil, outcome: .delivered,
                milliseconds: 5),
        ])
        #expect(try await harness.summary(red) == [.superseded: 2, .delivered: 1])
    }

    @Test("deliveries leased before a Cancel, waiting for the rate limit, do not go out after it")
    func leasedBeforeCancel() async throws {
        let harness = try await DispatchHarness { $0.ratePerSecond = 2 }
        try await harness.addSpeakers(10, in: "430121001")
        let red = try await harness.release("rainstorm-red-csx.xml")
        let engine = CurlEngine()
        defer { engine.shutdown() }
        let service = try harness.dispatcher(transport: engine)
        let running = Task { try await service.run() }
        defer { running.cancel() }
        let store = harness.store
        func waitFor(_ done: @escaping @Sendable () async throws -> Bool) async throws -> Bool {
            for _ in 0..<400 {
                if try await done() { return true }
                try await Task.sleep(for: .milliseconds(25))
            }
            return false
        }
        #expect(try await waitFor { try await store.deliverySummary(warningID: red)[.delivered, default: 0] >= 1 })
        // Two a second: most of the ten are leased and waiting when the Cancel goes out.
        #expect(try await harness.summary(red)[.sending, default: 0] >= 4)
        // The red warning's messages the speakers have (the Cancel goes to them too).
        let fleet = harness.fleet
        func reached() -> Int {
            fleet.keysByEndpoint.values.reduce(0) { count, keys in count + keys.filter { $0.hasPrefix(red.rawValue + "/") }.count }
        }
        let cancel = try await harness.release("cancel-csx.xml")
        let sentBefore = reached()
        await service.warningReleased(try #require(try await store.warning(id: cancel)))
        #expect(
            try await waitFor {
                let summary = try await store.deliverySummary(warningID: red)
                return summary[.sending, default: 0] + summary[.queued, default: 0] == 0
            })
        running.cancel()
        _ = await running.result
        let summary = try await harness.summary(red)
        // A request already on its way when the Cancel was announced may still arrive.
        #expect(reached() <= sentBefore + 1, "\(summary)")
        #expect(summary[.delivered, default: 0] == reached())
        #expect(summary[.superseded, default: 0] == 10 - reached(), "\(summary)")
    }

    @Test("a terminal that answers 202 stays accepted until it acknowledges with its secret; a forged receipt changes nothing")
    func laterAcknowledgement() async throws {
        let harness = try await DispatchHarness()
        try await harness.addSpeakers(1, in: "430121001", secret: "speaker-secret")
        harness.fleet.set(.acceptOnly, for: "430121001-1")
        let warning = try await harness.release("rainstorm-red-csx.xml")
        #expect(try await harness.dispatch { try await harness.summary(warning)[.accepted] == 1 })
        let key = try #require(try await harness.store.deliveries(warningID: warning, state: nil, limit: 1).first?.idempotencyKey)
        #expect(try await harness.store.acknowledge(idempotencyKey: key, secretHashes: [AccessToken.hash("guess")], at: Date()) == .forged)
        #expect(
            try await harness.store.acknowledge(idempotencyKey: key, secretHashes: [AccessToken.hash("speaker-secret")], at: Date())
                == .delivered)
        #expect(try await harness.summary(warning)[.delivered] == 1)
    }
}

@Suite("The per-tier report after a real fan-out")
struct DispatchReportTests {
    @Test("two townships, some endpoints refusing: the roll-up counts each tier and names the unreached villages")
    func rollup() async throws {
        let harness = try await DispatchHarness()
        try await harness.addSpeakers(20, in: "430121001")
        try await harness.addSpeakers(10, in: "430121002")
        for index in [3, 7] { harness.fleet.set(.fail(status: 404, times: 100), for: "430121002-\(index)") }
        let warning = try await harness.release("rainstorm-red-csx.xml")
        #expect(
            try await harness.dispatch {
                try await harness.summary(warning)[.queued, default: 0] + harness.summary(warning)[.sending, default: 0] == 0
            })
        let entries = Dictionary(
            uniqueKeysWithValues: try await harness.store.rollup(warningID: warning, depth: .village).total.map { ($0.region.rawValue, $0) }
        )
        #expect(entries["430121"]?.targeted == 30 && entries["430121"]?.delivered == 28 && entries["430121"]?.failed == 2)
        #expect(entries["430121"]?.name == "长沙县")
        #expect(entries["430121001"]?.delivered == 20 && entries["430121001"]?.failed == 0)
        #expect(entries["430121002"]?.targeted == 10 && entries["430121002"]?.failed == 2)
        #expect(entries["430121002003"]?.failed == 1 && entries["430121002007"]?.failed == 1)
        #expect(entries["430121"]?.p50Seconds != nil)
        let blind = try await harness.store.undelivered(warningID: warning, limit: 100)
        #expect(Set(blind.map(\.recipient)) == ["ls-430121002-3", "ls-430121002-7"])
        #expect(blind.allSatisfy { $0.lastError == "HTTP 404" && $0.region.hasPrefix("430121002") })
    }

    @Test("the blind spots put the failed first, then the accepted awaiting their report, then the queued, whatever their ids")
    func blindSpotsFailedFirst() async throws {
        // Retries wait a minute: a 503 leaves its delivery queued for the whole test.
        let harness = try await DispatchHarness { $0.retry = RetryPolicy(maxAttempts: 4, initialDelay: 60, maxDelay: 60) }
        let ids = try await harness.addSpeakers(10, in: "430121001")
        for index in [1, 2, 3] { harness.fleet.set(.fail(status: 503, times: 100), for: "430121001-\(index)") }
        harness.fleet.set(.acceptOnly, for: "430121001-4")
        for index in [9, 10] { harness.fleet.set(.fail(status: 404, times: 100), for: "430121001-\(index)") }
        let warning = try await harness.release("rainstorm-red-csx.xml")
        #expect(
            try await harness.dispatch {
                let summary = try await harness.summary(warning)
                return summary[.delivered] == 4 && summary[.accepted] == 1 && summary[.failed] == 2 && summary[.queued] == 3
            })
        // The queued ones are in the first villages (planned first), yet a short list shows
        // the failed, then the accepted.
        let two = try await harness.store.undelivered(warningID: warning, limit: 2)
        #expect(Set(two.map(\.recipient)) == [ids[8], ids[9]] && two.allSatisfy { $0.state == .failed })
        let three = try await harness.store.undelivered(warningID: warning, limit: 3)
        #expect(three.map(\.state) == [.failed, .failed, .accepted] && three.last?.recipient == ids[3])
        let all = try await harness.store.undelivered(warningID: warning, limit: 100)
        #expect(all.map(\.state) == [.failed, .failed, .accepted, .queued, .queued, .queued])
        #expect(Set(all.map(\.recipient)) == Set([ids[0], ids[1], ids[2], ids[3], ids[8], ids[9]]))
        let queued = all.filter { $0.state == .queued }.map(\.id)
        #expect(queued == queued.sorted(), "by id within a state")
    }

    @Test("deliveries left out of the total (hand-downs a lower node reports on) still count in their channel's rows")
    func rollupExcluding() async throws {
        let harness = try await DispatchHarness()
        try await harness.addSpeakers(4, in: "430121001")
        let warning = try await harness.release("rainstorm-red-csx.xml")
        #expect(try await harness.dispatch { try await harness.summary(warning)[.delivered] == 4 })
        let views = try await harness.store.deliveries(warningID: warning, state: nil, limit: 10)
        let left = Set(views.prefix(2).map(\.id))
        let rollup = try await harness.store.rollup(warningID: warning, depth: .village, excluding: left)
        let total = Dictionary(uniqueKeysWithValues: rollup.total.map { ($0.region.rawValue, $0) })
        #expect(total["430121"]?.targeted == 2 && total["430121"]?.delivered == 2)
        #expect(total[views[0].region] == nil && total[views[3].region]?.delivered == 1)
        let channel = try #require(rollup.byChannel[views[0].channel])
        #expect(channel.first { $0.region.rawValue == "430121" }?.targeted == 4)
        #expect(channel.first { $0.region.rawValue == "430121" }?.p95Seconds != nil)
        // Nothing left out: one channel's rows are the total.
        let whole = try await harness.store.rollup(warningID: warning, depth: .village)
        #expect(whole.byChannel[views[0].channel] == whole.total)
    }
}

@Suite("Gateway delivery reports in the store")
struct DeliveryReportStoreTests {
    @Test("reports move a delivery accepted → delivered, never back; failed only while on its way; all are kept")
    func reportTransitions() async throws {
        let harness = try await DispatchHarness()
        try await harness.addSpeakers(2, in: "430121001")
        harness.fleet.set(.acceptOnly, for: "430121001-1")
        harness.fleet.set(.acceptOnly, for: "430121001-2")
        let warning = try await harness.release("rainstorm-red-csx.xml")
        #expect(try await harness.dispatch { try await harness.summary(warning)[.accepted] == 2 })
        let ids = try await harness.store.deliveries(warningID: warning, state: nil, limit: 10).map(\.id)
        func report(_ id: Int64, _ state: DeliveryState, _ detail: String? = nil) async throws -> ReportResult {
            try await harness.store.report(DeliveryReport(deliveryID: id, state: state, detail: detail, source: "test", at: Date()))
        }
        #expect(try await report(ids[0], .accepted) == .unchanged(.accepted))
        #expect(try await report(ids[0], .delivered) == .applied(.delivered))
        #expect(try await report(ids[0], .failed, "late failure") == .unchanged(.delivered))
        #expect(try await report(ids[1], .failed, "SMSC: 0x0000000b") == .applied(.failed))
        #expect(try await report(999_999, .delivered) == .unknownDelivery)
        let views = try await harness.store.deliveries(warningID: warning, state: nil, limit: 10)
        #expect(views.map(\.state) == [.delivered, .failed])
        #expect(views[1].lastError == "SMSC: 0x0000000b")
        #expect(views[0].deliveredAt != nil)
    }
}

@Suite("Retention")
struct RetentionTests {
    @Test("attempts and reports older than the retention are deleted and the deletion audited; deliveries stay")
    func prune() async throws {
        let harness = try await DispatchHarness()
        try await harness.addSpeakers(3, in: "430121001")
        let warning = try await harness.release("rainstorm-red-csx.xml")
        #expect(try await harness.dispatch { try await harness.summary(warning)[.delivered] == 3 })
        let id = try #require(try await harness.store.deliveries(warningID: warning, state: nil, limit: 1).first?.id)
        _ = try await harness.store.report(
            DeliveryReport(deliveryID: id, state: .delivered, detail: "late ack", source: "test", at: Date()))
        // Nothing is old enough yet.
        let none = try await harness.store.prune(before: Date().addingTimeInterval(-86_400), actor: .test, at: Date())
        #expect(none.attempts == 0 && none.receipts == 0)
        let pruned = try await harness.store.prune(before: Date().addingTimeInterval(1), actor: .retention, at: Date())
        #expect(pruned.attempts == 3 && pruned.receipts == 1)
        #expect(try await harness.summary(warning)[.delivered] == 3)
        let audit = try await harness.store.auditEntries(from: 1, limit: 10_000)
        #expect(audit.last?.action == "retention.pruned")
        #expect(audit.last?.detail.contains(#""attempts":"3""#) == true)
        if case .intact = try await harness.store.verifyAudit() {} else { Issue.record("the audit chain broke") }
    }

    @Test("a delivery's last attempt with a reference (a lower node's id of the warning) outlives the retention")
    func referencesKept() async throws {
        let harness = try await DispatchHarness()
        try await harness.addSpeakers(2, in: "430121001")
        let warning = try await harness.release("rainstorm-red-csx.xml")
        let store = harness.store
        let first = try await store.leaseDeliveries(channel: "loudspeaker", limit: 2, at: Date(), leaseFor: 30)
        #expect(first.count == 2)
        let now = Date()
        try await store.recordAttempts([
            AttemptResult(
                deliveryID: first[0].id, attempt: first[0].attempt, at: now, httpStatus: 503, error: "busy", outcome: .retry("HTTP 503"),
                milliseconds: 5, nextAttemptAt: now),
            AttemptResult(
                deliveryID: first[1].id, attempt: first[1].attempt, at: now, httpStatus: 201, error: nil, outcome: .delivered,
                milliseconds: 5),
        ])
        let again = try #require(try await store.leaseDeliveries(channel: "loudspeaker", limit: 1, at: Date(), leaseFor: 30).first)
        try await store.recordAttempts([
            AttemptResult(
                deliveryID: again.id, attempt: again.attempt, at: Date(), httpStatus: 201, error: nil, outcome: .delivered,
                milliseconds: 5, reference: "theirs-1")
        ])
        let pruned = try await store.prune(before: Date().addingTimeInterval(1), actor: .retention, at: Date())
        #expect(pruned.attempts == 2, "the retry and the attempt without a reference")
        let references = try await store.deliveryReferences(warningID: warning, channels: ["loudspeaker"])
        #expect(references.map(\.reference) == ["theirs-1"])
    }
}
