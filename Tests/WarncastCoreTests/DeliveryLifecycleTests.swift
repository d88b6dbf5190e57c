import Foundation
import Testing
import WarncastCore

@Suite("Delivery lifecycle")
struct DeliveryLifecycleTests {
    static let t0 = Date(timeIntervalSince1970: 1_782_864_000)  // 2026-07-01T00:00:00Z
    static func at(_ seconds: TimeInterval) -> Timestamp { Timestamp(t0.addingTimeInterval(seconds)) }

    /// A delivery in `state` on its second request, as it would read there: due, leased
    /// until t0+30 while sending, its warning expiring at t0+3600.
    static func record(_ state: DeliveryState) -> DeliveryRecord {
        var record = DeliveryRecord(id: 7, state: state, attempts: 2, expiresAt: at(3600), sendingAt: at(-60))
        switch state {
        case .queued: record.nextAttemptAt = at(-1)
        case .sending: record.leaseUntil = at(30)
        case .accepted: record.acceptedAt = at(-5)
        case .delivered:
            record.deliveredAt = at(-5)
            record.acceptedAt = at(-5)
        case .played:
            record.deliveredAt = at(-5)
            record.acceptedAt = at(-5)
            record.playedAt = at(-2)
        case .failed: record.failedAt = at(-5)
        case .expired: record.expiredAt = at(-5)
        case .superseded: record.supersededAt = at(-5)
        }
        return record
    }

    static func result(_ outcome: DeliveryOutcome, attempt: Int = 2, next: TimeInterval? = nil) -> DeliveryEvent {
        .attempted(
            AttemptResult(
                deliveryID: 7, attempt: attempt, at: t0, httpStatus: 202, error: nil, outcome: outcome, milliseconds: 12,
                nextAttemptAt: next.map { t0.addingTimeInterval($0) }))
    }

    /// Every event the lifecycle knows, by a name for the table below.
    static let events: [(String, DeliveryEvent)] = [
        ("lease", .leased(at: at(0), until: at(20))),
        ("lease after its lease ran out", .leased(at: at(31), until: at(51))),
        ("renewed by its holder", .renewed(attempt: 2, until: at(60))),
        ("renewed by an older attempt", .renewed(attempt: 1, until: at(60))),
        ("answer: delivered", result(.delivered)),
        ("answer: accepted", result(.accepted)),
        ("answer: retry later", result(.retry("HTTP 503"), next: 5)),
        ("answer: retry, none left", result(.retry("HTTP 503"))),
        ("answer: refused", result(.failed("HTTP 404"))),
        ("handed back unsent", result(.deferred(until: t0.addingTimeInterval(10)))),
        ("an older request's answer", result(.delivered, attempt: 1)),
        ("report: delivered", .reported(.delivered, detail: nil, at: at(1))),
        ("report: failed", .reported(.failed, detail: "SMSC: unknown number", at: at(1))),
        ("report: accepted", .reported(.accepted, detail: nil, at: at(1))),
        ("report: buffered", .reported(.queued, detail: "Kannel report type 4", at: at(1))),
        ("acknowledged", .acknowledged(at: at(1))),
        ("warning not yet expired", .expiryChecked(at: at(60))),
        ("warning expired", .expiryChecked(at: at(3601))),
        ("superseded", .superseded(at: at(1))),
        ("resent", .resent(at: at(1))),
        ("played", .played(at: at(1))),
        ("woken", .woken(at: at(1))),
    ]

    /// The state each event leads to from each state; nil: the event changes nothing.
    /// Accepted, delivered and failed on the current attempt take the answer's status only
    /// (a report overtook the answer), so their state stays. Aligned by column, so the
    /// formatter leaves it alone.
    // swift-format-ignore
    static let expected: [DeliveryState: [DeliveryState?]] = [
        //            lease     lease-late  renew     renew-old  answer:del  answer:acc  retry-later  retry-none  refused     handed-back  older  rep:del     rep:fail  rep:acc    rep:buf  ack         not-exp  expired   superseded   resent  played  woken
        .queued:     [.sending, .sending,   nil,      nil,       nil,        nil,        nil,         nil,        nil,        nil,         nil,   .delivered, .failed,  .accepted, nil,     .delivered, nil,     .expired, .superseded, nil, .played, nil],
        .sending:    [nil,      .sending,   .sending, nil,       .delivered, .accepted,  .queued,     .failed,    .failed,    .queued,     nil,   .delivered, .failed,  .accepted, nil,     .delivered, nil,     .expired, nil,         nil, .played, nil],
        .accepted:   [nil,      nil,        nil,      nil,       .accepted,  .accepted,  .accepted,   .accepted,  .accepted,  nil,         nil,   .delivered, .failed,  nil,       nil,     .delivered, nil,     nil,      nil,         nil, .played, nil],
        .delivered:  [nil,      nil,        nil,      nil,       .delivered, .delivered, .delivered,  .delivered, .delivered, nil,         nil,   nil,        nil,      nil,       nil,     nil,        nil,     nil,      nil,         nil, .played, nil],
        .played:     [nil,      nil,        nil,      nil,       .played,    .played,    .played,     .played,    .played,    nil,         nil,   nil,        nil,      nil,       nil,     nil,        nil,     nil,      nil,         nil,     nil, nil],
        .failed:     [nil,      nil,        nil,      nil,       .failed,    .failed,    .failed,     .failed,    .failed,    nil,         nil,   .delivered, nil,      nil,       nil,     .delivered, nil,     nil,      nil,         .queued, .played, nil],
        .expired:    [nil,      nil,        nil,      nil,       nil,        nil,        nil,         nil,        nil,        nil,         nil,   .delivered, nil,      nil,       nil,     .delivered, nil,     nil,      nil,         .queued, .played, nil],
        .superseded: [nil,      nil,        nil,      nil,       nil,        nil,        nil,         nil,        nil,        nil,         nil,   nil,        nil,      nil,       nil,     .delivered, nil,     nil,      nil,         nil, nil, nil],
    ]

    @Test("every state against every event", arguments: DeliveryState.allCases)
    func table(state: DeliveryState) throws {
        let row = try #require(Self.expected[state])
        #expect(row.count == Self.events.count)
        for ((name, event), wanted) in zip(Self.events, row) {
            let transition = DeliveryLifecycle.apply(event, to: Self.record(state))
            #expect(transition?.record.state == wanted, "\(state) + \(name)")
        }
    }

    @Test("a playback report keeps the delivery time, adds the time it was played, and is sealed")
    func played() throws {
        let played = try #require(DeliveryLifecycle.apply(.played(at: Self.at(1)), to: Self.record(.delivered)))
        #expect(played.record.state == .played)
        #expect(played.record.deliveredAt == Self.at(-5))
        #expect(played.record.playedAt == Self.at(1))
        #expect(played.seal)
        let unacknowledged = try #require(DeliveryLifecycle.apply(.played(at: Self.at(1)), to: Self.record(.accepted)))
        #expect(unacknowledged.record.deliveredAt == Self.at(1), "a terminal that played it has it")
        #expect(
            DeliveryLifecycle.apply(.acknowledged(at: Self.at(2)), to: played.record) == nil, "an acknowledgement after it changes nothing")
    }

    @Test("a reconnected terminal's waiting delivery is due at once; one due already, or not queued, is left alone")
    func woken() throws {
        var waiting = Self.record(.queued)
        waiting.nextAttemptAt = Self.at(600)
        let woken = try #require(DeliveryLifecycle.apply(.woken(at: Self.at(1)), to: waiting))
        #expect(woken.record.nextAttemptAt == Self.at(1) && woken.record.attempts == 2 && !woken.seal)
        #expect(DeliveryLifecycle.apply(.woken(at: Self.at(1)), to: Self.record(.queued)) == nil)
    }

    @Test("a lease counts the request, holds the delivery and keeps the first sending time")
    func lease() throws {
        let leased = try #require(DeliveryLifecycle.apply(.leased(at: Self.at(0), until: Self.at(20)), to: Self.record(.queued)))
        #expect(leased.record.attempts == 3)
        #expect(leased.record.leaseUntil == Self.at(20))
        #expect(leased.record.sendingAt == Self.at(-60))
        #expect(!leased.seal)
    }

    @Test("nothing is leased before its next attempt, while another holds it, or after its warning expired")
    func notDue() {
        var waiting = Self.record(.queued)
        waiting.nextAttemptAt = Self.at(5)
        #expect(DeliveryLifecycle.apply(.leased(at: Self.at(0), until: Self.at(20)), to: waiting) == nil)
        #expect(DeliveryLifecycle.apply(.leased(at: Self.at(29), until: Self.at(49)), to: Self.record(.sending)) == nil)
        #expect(DeliveryLifecycle.apply(.leased(at: Self.at(3600), until: Self.at(3620)), to: Self.record(.queued)) == nil)
    }

    @Test("an older request's answer does not touch the delivery its newer request holds")
    func staleAnswer() {
        for outcome in [DeliveryOutcome.delivered, .accepted, .failed("HTTP 404"), .retry("timeout"), .deferred(until: Self.t0)] {
            #expect(DeliveryLifecycle.apply(Self.result(outcome, attempt: 1), to: Self.record(.sending)) == nil)
        }
    }

    @Test("a delivered answer is sealed with the attempt it came from")
    func deliveredSealed() throws {
        let done = try #require(DeliveryLifecycle.apply(Self.result(.delivered), to: Self.record(.sending)))
        #expect(done.seal)
        #expect(done.record.deliveredAt == Timestamp(Self.t0))
        #expect(done.record.sealedFields.attempts == 2)
        #expect(done.record.lastStatus == 202)
        #expect(done.record.leaseUntil == nil)
    }

    @Test("handing a lease back does not count as a request")
    func handedBack() throws {
        let back = try #require(
            DeliveryLifecycle.apply(Self.result(.deferred(until: Self.t0.addingTimeInterval(10))), to: Self.record(.sending)))
        #expect(back.record.attempts == 1)
        #expect(back.record.nextAttemptAt == Self.at(10))
        #expect(back.record.lastStatus == nil)
    }

    @Test("Kannel's early delivery report keeps the send status and the earlier acceptance time")
    func earlyReport() throws {
        let reported = try #require(DeliveryLifecycle.apply(.reported(.delivered, detail: nil, at: Self.at(1)), to: Self.record(.sending)))
        #expect(reported.record.lastStatus == nil)
        #expect(reported.record.acceptedAt == Self.at(1))
        let answered = try #require(DeliveryLifecycle.apply(Self.result(.accepted), to: reported.record))
        #expect(answered.record.state == .delivered)
        #expect(answered.record.lastStatus == 202)
        #expect(answered.record.acceptedAt == Timestamp(Self.t0))
        #expect(answered.record.deliveredAt == Self.at(1))
        #expect(answered.seal, "the sealed status changed, so it is sealed again")
    }

    @Test("a report after delivery, or about a superseded delivery, changes nothing")
    func reportsAfterTheEnd() {
        #expect(DeliveryLifecycle.apply(.reported(.failed, detail: "late", at: Self.at(2)), to: Self.record(.delivered)) == nil)
        #expect(DeliveryLifecycle.apply(.reported(.delivered, detail: nil, at: Self.at(2)), to: Self.record(.superseded)) == nil)
    }

    @Test("a delivery in flight expires only once its lease ran out")
    func expiryInFlight() throws {
        var late = Self.record(.sending)
        late.leaseUntil = Self.at(3590)
        #expect(DeliveryLifecycle.apply(.expiryChecked(at: Self.at(3580)), to: late) == nil)
        let expired = try #require(DeliveryLifecycle.apply(.expiryChecked(at: Self.at(3601)), to: late))
        #expect(expired.record.expiredAt == Self.at(3601))
        #expect(expired.seal)
    }

    @Test("delivered after failing or expiring clears those times and is sealed")
    func deliveredWins() throws {
        for state in [DeliveryState.failed, .expired] {
            let done = try #require(DeliveryLifecycle.apply(.acknowledged(at: Self.at(9)), to: Self.record(state)))
            #expect(done.record.failedAt == nil && done.record.expiredAt == nil)
            #expect(done.record.deliveredAt == Self.at(9))
            #expect(done.seal)
        }
    }
}
