import Foundation
import Testing
import WarncastConfig
import WarncastCore
import WarncastStore
import WarncastTestSupport

/// A release with more recipients than one planning step takes: the approval plans the
/// first step and answers; the rest is planned a step per transaction afterwards. The step
/// is 4 recipients here (20,000 in the daemon), so the tests stay small.
@Suite("Planning a large release in steps")
struct PlanningTests {
    /// A store whose planning step is 4 recipients, with `count` loudspeakers in villages
    /// inside the Changsha County warning's area, taking turns in id order (in memory, or in
    /// the file at `path`).
    static func store(speakers count: Int, villages: [String] = ["430121001001"], path: String? = nil) async throws -> SQLiteStore {
        var store = try path.map { try SQLiteStore(path: $0) } ?? SQLiteStore.inMemory()
        try await TestSupport.load(store)
        store.planningStep = 4
        let recipients = (0..<count).map { index in
            (
                recipient: Recipient(
                    id: String(format: "ls-%06d", index), channel: "loudspeaker", region: RegionCode(villages[index % villages.count])!,
                    name: "speaker \(index)", address: "http://127.0.0.1:9/\(index)"),
                secretHash: String?.none
            )
        }
        try await store.saveRecipients(recipients, audit: AuditEvent(actor: .test, action: .recipientsSaved, subject: String(count)))
        return store
    }

    /// Accepts the Changsha County warning (red, or `level`; or another `fixture`) and gives
    /// the approvals it needs.
    static func release(
        _ store: SQLiteStore, identifier: String, level: Level = .red, fixture: String = "rainstorm-red-csx.xml"
    ) async throws -> Warning.ID {
        let issuer = try await TestSupport.principal(store, try await TestSupport.token(store, role: .issuer, department: "csx-weather"))
        let id = try await TestSupport.accept(
            fixture, into: store, as: issuer, at: Date(), replacing: ["csx-weather-20260701-0001": identifier],
            adjust: { $0.level = level }
        ).warning.id
        for (role, department, region) in [("duty-leader", "csx-weather", nil), ("government-leader", nil, "430121")]
            as [(String, String?, String?)]
        where try await store.warning(id: id)?.status == .pendingApproval {
            let approver = try await TestSupport.principal(
                store, try await TestSupport.token(store, role: .approver, department: department, region: region, approvalRole: role))
            _ = try await store.decide(warningID: id, .approve, by: approver, reason: nil, at: Date(), routing: try TestSupport.routing)
        }
        #expect(try await store.warning(id: id)?.status == .released)
        return id
    }

    static func planned(_ store: SQLiteStore, _ id: Warning.ID) async throws -> Int {
        try await store.deliverySummary(warningID: id).values.reduce(0, +)
    }

    @Test("9 recipients, steps of 4: the approval plans 4, two more steps plan the rest, each recipient once, one audit entry")
    func steps() async throws {
        let store = try await Self.store(speakers: 9)
        let id = try await Self.release(store, identifier: "plan-1")
        #expect(try await Self.planned(store, id) == 4)
        #expect(try await store.auditEntries(subject: id.rawValue).filter { $0.action == "deliveries.planned" }.isEmpty)

        let routing = try TestSupport.routing
        let second = try await store.planNextStep(routing: routing, at: Date())
        #expect(second == PlanningStep(warningID: id.rawValue, planned: 4, finished: false))
        let third = try await store.planNextStep(routing: routing, at: Date())
        #expect(third == PlanningStep(warningID: id.rawValue, planned: 1, finished: true))
        #expect(try await store.planNextStep(routing: routing, at: Date()) == nil)

        #expect(try await Self.planned(store, id) == 9)
        let views = try await store.deliveries(warningID: id, state: nil, limit: 50)
        #expect(Set(views.map(\.recipient)) == Set((0..<9).map { String(format: "ls-%06d", $0) }))
        let entries = try await store.auditEntries(subject: id.rawValue).filter { $0.action == "deliveries.planned" }
        #expect(entries.count == 1)
        #expect(entries.first?.detail.contains("\"9\"") == true, "\(entries.first?.detail ?? "")")
    }

    @Test("villages whose recipients take turns in id order: each counted right, and the blind spots are the first ids")
    func interleavedVillages() async throws {
        let villages = ["430121001001", "430121001002", "430121001003"]
        let store = try await Self.store(speakers: 12, villages: villages)
        let id = try await Self.release(store, identifier: "plan-turns")
        while try await store.planNextStep(routing: try TestSupport.routing, at: Date()) != nil {}

        let rollup = try await store.rollup(warningID: id, depth: .village)
        for village in villages {
            let entry = rollup.total.first { $0.region.rawValue == village }
            #expect(entry?.targeted == 4 && entry?.pending == 4, "\(village): \(String(describing: entry))")
        }
        #expect(rollup.total.first { $0.region.rawValue == "430121" }?.targeted == 12)
        // The report's blind spots: the first queued deliveries by id, whatever their village.
        let first = try await store.undelivered(warningID: id, limit: 5)
        #expect(first.map(\.recipient) == (0..<5).map { String(format: "ls-%06d", $0) })
    }

    @Test("a daemon stopped between steps goes on where it stopped: a new store on the same file plans the rest, once")
    func restart() async throws {
        let path = try TestSupport.temporaryDirectory().appendingPathComponent("warncast.sqlite").path
        let id = try await Self.release(try await Self.store(speakers: 10, path: path), identifier: "plan-4")
        var reopened = try SQLiteStore(path: path)
        reopened.planningStep = 4
        #expect(try await Self.planned(reopened, id) == 4)
        let routing = try TestSupport.routing
        #expect(try await reopened.planNextStep(routing: routing, at: Date())?.planned == 4)
        #expect(
            try await reopened.planNextStep(routing: routing, at: Date())
                == PlanningStep(warningID: id.rawValue, planned: 2, finished: true))
        #expect(try await reopened.planNextStep(routing: routing, at: Date()) == nil)
        #expect(Set(try await reopened.deliveries(warningID: id, state: nil, limit: 50).map(\.recipient)).count == 10)
    }

    @Test("an Update released while the warning it replaces is being planned stops that planning; the Update is planned whole")
    func supersededStops() async throws {
        let store = try await Self.store(speakers: 10)
        let original = try await Self.release(store, identifier: "csx-weather-20260701-0001")
        #expect(try await Self.planned(store, original) == 4)
        let update = try await Self.release(store, identifier: "csx-weather-20260701-0001", fixture: "update-csx.xml")
        let routing = try TestSupport.routing
        // The original comes first (older), and stops: it was superseded.
        #expect(
            try await store.planNextStep(routing: routing, at: Date())
                == PlanningStep(warningID: original.rawValue, planned: 0, finished: true))
        while try await store.planNextStep(routing: routing, at: Date()) != nil {}
        #expect(try await Self.planned(store, original) == 4)
        #expect(try await store.deliverySummary(warningID: original)[.superseded] == 4)
        #expect(try await Self.planned(store, update) == 10)
        let entry = try #require(try await store.auditEntries(subject: original.rawValue).first { $0.action == "deliveries.planned" })
        #expect(entry.detail.contains("superseded"), "\(entry.detail)")
    }

    @Test("the released messages' mark moves with each release, Update and Cancel, and not with deliveries planned or sent")
    func releasedMessagesMark() async throws {
        let store = try await Self.store(speakers: 10)
        let since = Date().addingTimeInterval(-86_400)
        #expect(try await store.releasedMessagesMark(since: since).count == 0)
        _ = try await Self.release(store, identifier: "csx-weather-20260701-0001")
        let released = try await store.releasedMessagesMark(since: since)
        #expect(released.count == 1 && released.newestRelease != nil)
        // A fan-out writes every delivery's state: the public channel's mark stays.
        let routing = try TestSupport.routing
        while try await store.planNextStep(routing: routing, at: Date()) != nil {}
        let jobs = try await store.leaseDeliveries(channel: "loudspeaker", limit: 5, at: Date(), leaseFor: 30)
        try await store.recordAttempts(
            jobs.map {
                AttemptResult(
                    deliveryID: $0.id, attempt: $0.attempt, at: Date(), httpStatus: 200, error: nil, outcome: .delivered, milliseconds: 5)
            })
        #expect(!jobs.isEmpty)
        #expect(try await store.releasedMessagesMark(since: since) == released)
        _ = try await Self.release(store, identifier: "csx-weather-20260701-0001", fixture: "update-csx.xml")
        let updated = try await store.releasedMessagesMark(since: since)
        #expect(updated.count == 2 && updated.superseded == 1)
        _ = try await Self.release(store, identifier: "csx-weather-20260701-0001", fixture: "cancel-csx.xml")
        let cancelled = try await store.releasedMessagesMark(since: since)
        #expect(cancelled.count == 3 && cancelled.cancelled >= 1 && cancelled != updated)
        // Messages released before `since` are outside it.
        #expect(try await store.releasedMessagesMark(since: Date().addingTimeInterval(60)).count == 0)
    }

    @Test("an Update narrowed away from a lower node still goes to that node, which had the warning it replaces")
    func narrowedUpdateReachesNode() async throws {
        let store = try await Self.store(speakers: 4, villages: ["430121001001", "430121002001"])
        let nodes = ["430121001", "430121002"].map { township in
            (
                recipient: Recipient(
                    id: "node-\(township)", channel: "nodes", region: RegionCode(township)!, name: "乡镇节点 \(township)",
                    address: "http://10.9.0.1/\(township)"),
                secretHash: String?.none
            )
        }
        try await store.saveRecipients(nodes, audit: AuditEvent(actor: .test, action: .recipientsSaved, subject: "nodes"))
        let routing = DeliveryRouting(
            byLevel: [.red: ["loudspeaker", "nodes"], .orange: ["loudspeaker", "nodes"]], covering: ["nodes"])
        let issuer = try await TestSupport.principal(store, try await TestSupport.token(store, role: .issuer, department: "csx-weather"))
        func release(_ fixture: String, replacing: [String: String] = [:]) async throws -> Warning.ID {
            let id = try await TestSupport.accept(fixture, into: store, as: issuer, at: Date(), routing: routing, replacing: replacing)
                .warning.id
            for (role, department, region) in [("duty-leader", "csx-weather", nil), ("government-leader", nil, "430121")]
                as [(String, String?, String?)]
            where try await store.warning(id: id)?.status == .pendingApproval {
                let approver = try await TestSupport.principal(
                    store, try await TestSupport.token(store, role: .approver, department: department, region: region, approvalRole: role))
                _ = try await store.decide(warningID: id, .approve, by: approver, reason: nil, at: Date(), routing: routing)
            }
            #expect(try await store.warning(id: id)?.status == .released)
            while try await store.planNextStep(routing: routing, at: Date()) != nil {}
            return id
        }
        func nodesPlanned(_ id: Warning.ID) async throws -> [String] {
            try await store.deliveries(warningID: id, state: nil, limit: 50).map(\.recipient).filter { $0.hasPrefix("node-") }.sorted()
        }
        let red = try await release("rainstorm-red-csx.xml")
        #expect(try await nodesPlanned(red) == ["node-430121001", "node-430121002"])
        let handed = try await store.leaseDeliveries(channel: "nodes", limit: 10, at: Date(), leaseFor: 30)
        try await store.recordAttempts(
            handed.map {
                AttemptResult(
                    deliveryID: $0.id, attempt: $0.attempt, at: Date(), httpStatus: 201, error: nil, outcome: .delivered, milliseconds: 5)
            })
        // The Update keeps only the first township.
        let narrowed = try await release(
            "update-csx.xml",
            replacing: [
                """
                      <geocode>
                        <valueName>GB/T 2260</valueName>
                        <value>430121002</value>
                      </geocode>

                """: ""
            ])
        #expect(try await store.warning(id: narrowed)?.areas.map(\.rawValue) == ["430121001"])
        #expect(try await nodesPlanned(narrowed) == ["node-430121001", "node-430121002"])
    }

    @Test("a red release being planned goes before an older yellow one")
    func severityFirst() async throws {
        let store = try await Self.store(speakers: 10)
        let yellow = try await Self.release(store, identifier: "plan-yellow", level: .yellow)
        let red = try await Self.release(store, identifier: "plan-red")
        let routing = try TestSupport.routing
        #expect(try await store.planNextStep(routing: routing, at: Date())?.warningID == red.rawValue)
        #expect(try await store.planNextStep(routing: routing, at: Date())?.warningID == red.rawValue)
        #expect(try await store.planNextStep(routing: routing, at: Date())?.warningID == yellow.rawValue)
        #expect(try await Self.planned(store, red) == 10)
    }

    @Test("a release of exactly one step is planned whole in the approval, as before")
    func oneStep() async throws {
        let store = try await Self.store(speakers: 4)
        let id = try await Self.release(store, identifier: "plan-2")
        #expect(try await Self.planned(store, id) == 4)
        #expect(try await store.planNextStep(routing: try TestSupport.routing, at: Date()) == nil)
        #expect(try await store.auditEntries(subject: id.rawValue).contains { $0.action == "deliveries.planned" })
    }

    @Test("a release that expired before its planning finished is planned no further, and the audit log says why")
    func expiredStops() async throws {
        let store = try await Self.store(speakers: 6)
        let id = try await Self.release(store, identifier: "plan-3")
        // The fixture expires in 2099.
        let later = try #require(ISO8601DateFormatter().date(from: "2100-01-01T00:00:00Z"))
        let step = try await store.planNextStep(routing: try TestSupport.routing, at: later)
        #expect(step == PlanningStep(warningID: id.rawValue, planned: 0, finished: true))
        #expect(try await Self.planned(store, id) == 4)
        let entry = try #require(try await store.auditEntries(subject: id.rawValue).first { $0.action == "deliveries.planned" })
        #expect(entry.detail.contains("expired"), "\(entry.detail)")
    }
}
