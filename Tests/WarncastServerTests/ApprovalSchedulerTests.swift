import Foundation
import Logging
import Synchronization
import Testing
import WarncastConfig
import WarncastCore
import WarncastServer
import WarncastStore
import WarncastTestSupport

/// Keeps the escalations the scheduler hands to its notifier.
final class EscalationLog: EscalationNotifier {
    let escalations = Mutex<[Escalation]>([])

    func notify(_ escalation: Escalation) async {
        escalations.withLock { $0.append(escalation) }
    }

    var all: [Escalation] { escalations.withLock { $0 } }
}

@Suite("The approval scheduler: deadlines, escalation, expiry, across restarts")
struct ApprovalSchedulerTests {
    let configuration: WarncastConfiguration
    let path: String
    let log = EscalationLog()
    let t0 = TestSupport.now

    init() throws {
        configuration = try TestSupport.exampleConfiguration()
        path = try TestSupport.temporaryDirectory().appendingPathComponent("warncast.sqlite").path
    }

    /// A scheduler whose clock reads `minutes` after the submission.
    func scheduler(_ store: any Store, at minutes: Double) -> ApprovalScheduler {
        let now = t0.addingTimeInterval(minutes * 60)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return ApprovalScheduler(store: store, approval: configuration.approval, notifier: log, logger: logger, now: { now })
    }

    /// Submits `fixture` as the county weather bureau and returns the warning id.
    func submit(_ fixture: String, to store: any Store, expires: Date? = nil) async throws -> Warning.ID {
        let issuer = try await TestSupport.principal(
            store, try await TestSupport.token(store, role: .issuer, department: "csx-weather", name: "值班员"))
        return try await TestSupport.accept(fixture, into: store, as: issuer, at: t0) { draft in
            if let expires { draft.expires = expires }
        }.warning.id
    }

    @Test("a red warning left alone is marked late after 10 minutes and escalated every 5, also after a restart")
    func escalation() async throws {
        var store = try SQLiteStore(path: path)
        try await TestSupport.load(store)
        let id = try await submit("rainstorm-red-csx.xml", to: store)

        #expect(try await scheduler(store, at: 9.9).tick().isEmpty)
        let first = try await scheduler(store, at: 10.1).tick()
        #expect(first.map(\.number) == [1])
        #expect(first.first?.warningID == id.rawValue)
        #expect(first.first?.contacts == ["湖南省预警信息发布中心值班室", "长沙市应急管理局值班室"])
        #expect(first.first?.missing.count == 2)
        #expect(try await store.warning(id: id)?.approval?.late == true)
        #expect(try await scheduler(store, at: 13).tick().isEmpty)

        store = try SQLiteStore(path: path)  // the daemon restarts; the timers are in the store
        let second = try await scheduler(store, at: 15.2).tick()
        #expect(second.map(\.number) == [2])
        #expect(log.all.map(\.number) == [1, 2])

        let state = try #require(try await store.warning(id: id)?.approval)
        #expect(state.escalations == 2)
        let history = try await store.auditEntries(subject: id.rawValue).map(\.action)
        #expect(history == ["warning.accepted", "warning.late", "warning.escalated", "warning.escalated"])
        guard case .intact = try await store.verifyAudit() else {
            Issue.record("audit chain broken")
            return
        }
    }

    @Test("a decided warning is no longer escalated")
    func decidedStops() async throws {
        let store = try SQLiteStore(path: path)
        try await TestSupport.load(store)
        let id = try await submit("rainstorm-red-csx.xml", to: store)
        for (role, department, region) in [("duty-leader", "csx-weather", nil), ("government-leader", nil, "430121")] {
            let approver = try await TestSupport.principal(
                store,
                try await TestSupport.token(
                    store, role: .approver, department: department, region: region, approvalRole: role))
            _ = try await store.decide(
                warningID: id, .approve, by: approver, reason: nil, at: t0.addingTimeInterval(60), routing: try TestSupport.routing)
        }
        #expect(try await scheduler(store, at: 11).tick().isEmpty)
        #expect(try await store.warning(id: id)?.approval?.late == false)
    }

    @Test("a warning past its expires becomes expired and can no longer be approved")
    func expiry() async throws {
        let store = try SQLiteStore(path: path)
        try await TestSupport.load(store)
        let id = try await submit("rainstorm-red-csx.xml", to: store, expires: t0.addingTimeInterval(3600))
        try await scheduler(store, at: 61).tick()
        #expect(try await store.warning(id: id)?.status == .expired)
        let approver = try await TestSupport.principal(
            store, try await TestSupport.token(store, role: .approver, department: "csx-weather", approvalRole: "duty-leader"))
        await #expect(throws: ApprovalError.expired) {
            _ = try await store.decide(
                warningID: id, .approve, by: approver, reason: nil, at: t0.addingTimeInterval(3700), routing: try TestSupport.routing)
        }
        #expect(try await store.auditEntries(subject: id.rawValue).map(\.action).contains("warning.expired"))
    }
}
