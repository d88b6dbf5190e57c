import Foundation
import Synchronization
import WarncastCore
import WarncastNet
import WarncastStore

/// An outbox in memory, for dispatcher tests that need neither SQLite nor sockets. It keeps
/// the same rules as the store because it asks the same `DeliveryLifecycle`.
public actor MemoryOutbox: Outbox {
    public struct Planned: Sendable {
        public var record: DeliveryRecord
        public var job: DeliveryJob
    }

    public private(set) var deliveries: [Int64: Planned] = [:]
    /// Every attempt result written, in order.
    public private(set) var attempts: [AttemptResult] = []
    private var warnings: [Warning.ID: Warning] = [:]
    private var nextID: Int64 = 1
    /// While set, writing attempt results fails (a full disk).
    private var recordingFails = false
    /// Reads of a warning that fail before one succeeds (a busy store).
    private var warningReadsFailing = 0

    public init() {}

    /// Plans one delivery of `warning` to each of `recipients`, due now.
    public func plan(_ warning: Warning, to recipients: [Recipient], at date: Date, expires: Date? = nil) {
        warnings[warning.id] = warning
        for recipient in recipients {
            let id = nextID
            nextID += 1
            let record = DeliveryRecord(id: id, nextAttemptAt: Timestamp(date), expiresAt: expires.map(Timestamp.init))
            let job = DeliveryJob(
                id: id, warningID: warning.id, recipient: recipient, idempotencyKey: "\(warning.id.rawValue)/\(recipient.id)", attempt: 0)
            deliveries[id] = Planned(record: record, job: job)
        }
    }

    public func states() -> [DeliveryState: Int] {
        deliveries.values.reduce(into: [:]) { $0[$1.record.state, default: 0] += 1 }
    }

    public func leaseDeliveries(channel: String, limit: Int, at date: Date, leaseFor: TimeInterval) -> [DeliveryJob] {
        let event = DeliveryEvent.leased(at: Timestamp(date), until: Timestamp(date.addingTimeInterval(leaseFor)))
        var leased: [DeliveryJob] = []
        for id in deliveries.keys.sorted() where leased.count < limit && deliveries[id]!.job.recipient.channel == channel {
            guard let after = apply(event, to: id) else { continue }
            var job = deliveries[id]!.job
            job.attempt = after.attempts
            job.leaseUntil = after.leaseUntil?.date
            leased.append(job)
        }
        return leased
    }

    public func renewLeases(_ leases: [(id: Int64, attempt: Int)], until: Date) -> Set<Int64> {
        var renewed: Set<Int64> = []
        for lease in leases {
            guard let record = deliveries[lease.id]?.record, DeliveryLifecycle.isHeld(record, by: lease.attempt) else { continue }
            apply(.renewed(attempt: lease.attempt, until: Timestamp(until)), to: lease.id)
            renewed.insert(lease.id)
        }
        return renewed
    }

    /// Makes writing attempt results fail, or work again.
    public func failRecording(_ fails: Bool) {
        recordingFails = fails
    }

    public func recordAttempts(_ results: [AttemptResult]) throws {
        if recordingFails { throw MemoryOutboxError.cannotWrite }
        for result in results {
            apply(.attempted(result), to: result.deliveryID)
            attempts.append(result)
        }
    }

    /// Deliveries are added whole by the tests; nothing is left to plan.
    public func planNextStep(routing: DeliveryRouting, at date: Date) -> PlanningStep? { nil }

    public func wake(recipientID: String, at date: Date) -> Int {
        deliveries.keys.filter { deliveries[$0]!.job.recipient.id == recipientID && apply(.woken(at: Timestamp(date)), to: $0) != nil }
            .count
    }

    public func expireDeliveries(at date: Date) -> Int {
        deliveries.keys.filter { apply(.expiryChecked(at: Timestamp(date)), to: $0) != nil }.count
    }

    public func report(_ report: DeliveryReport) -> ReportResult {
        guard let planned = deliveries[report.deliveryID] else { return .unknownDelivery }
        guard let after = apply(.reported(report.state, detail: report.detail, at: Timestamp(report.at)), to: report.deliveryID) else {
            return .unchanged(planned.record.state)
        }
        return .applied(after.state)
    }

    public func acknowledge(idempotencyKey: String, secretHashes: [String], at date: Date) -> AckResult {
        guard let id = deliveries.first(where: { $0.value.job.idempotencyKey == idempotencyKey })?.key else { return .forged }
        return apply(.acknowledged(at: Timestamp(date)), to: id) == nil ? .alreadyDelivered : .delivered
    }

    /// Makes the next `count` reads of a warning fail.
    public func failWarningReads(_ count: Int) {
        warningReadsFailing = count
    }

    public func warning(id: Warning.ID) throws -> Warning? {
        if warningReadsFailing > 0 {
            warningReadsFailing -= 1
            throw MemoryOutboxError.cannotRead
        }
        return warnings[id]
    }

    public func withdrawnWarnings(_ ids: [Warning.ID]) -> Set<Warning.ID> {
        Set(ids.filter { [.superseded, .cancelled].contains(warnings[$0]?.status) })
    }

    /// Warnings here have no raw message: adapters that want one get this node's CAP.
    public func rawMessage(id: Warning.ID) -> (data: Data, format: CAPFormat)? { nil }

    @discardableResult
    private func apply(_ event: DeliveryEvent, to id: Int64) -> DeliveryRecord? {
        guard let planned = deliveries[id], let transition = DeliveryLifecycle.apply(event, to: planned.record) else { return nil }
        deliveries[id]?.record = transition.record
        return transition.record
    }
}

public enum MemoryOutboxError: Error {
    /// What `failRecording` makes writes throw.
    case cannotWrite
    /// What `failWarningReads` makes reads throw.
    case cannotRead
}

/// A transport that answers in process: each request goes to `answer`, and is kept.
public final class LoopbackTransport: Transport {
    public typealias Answer = @Sendable (HTTPRequestSpec) async throws -> HTTPResult
    private let answer: Answer
    private let sent = Mutex<[HTTPRequestSpec]>([])

    public init(answer: @escaping Answer) {
        self.answer = answer
    }

    public var requests: [HTTPRequestSpec] { sent.withLock { $0 } }

    public func perform(_ request: HTTPRequestSpec) async throws -> HTTPResult {
        sent.withLock { $0.append(request) }
        return try await answer(request)
    }
}
