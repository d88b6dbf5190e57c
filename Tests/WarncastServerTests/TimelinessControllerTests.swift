import Foundation
import HTTPTypes
import Testing
import WarncastCore
import WarncastServer
import WarncastTestSupport

/// Timeliness with the harness's clock: the example's red threshold is 10 minutes to
/// release; a warning approved after 15 is late, one approved after 5 is not.
@Suite("Timelines and the late list")
struct TimelinessControllerTests {
    struct LateList: Decodable {
        struct Entry: Decodable {
            var id: String
            var late: [LateStep]
        }

        var examined: Int
        var warnings: [Entry]
    }

    struct Listing: Decodable {
        var count: Int
    }

    @Test("a red warning released 15 minutes after submission is late; its timeline shows each decision")
    func lateApproval() async throws {
        let api = try await APIHarness()
        let issuer = try await api.token(.issuer, department: "csx-weather", name: "值班员")
        let leader = try await api.token(.approver, department: "csx-weather", name: "带班领导", approvalRole: "duty-leader")
        let government = try await api.token(.approver, region: "430121", name: "副县长", approvalRole: "government-leader")
        let auditor = try await api.token(.auditor, region: "430000", name: "审计")
        let clock = api.clock
        let (slow, quick) = try await api.test { client in
            let slow = try await client.submit("rainstorm-red-csx.xml", token: issuer).decode(Accepted.self)
            let quick = try await client.submit("rainstorm-yellow-csx.json", token: issuer).decode(Accepted.self)
            clock.advance(by: 5 * 60)
            #expect(try await client.post(quick.location + "/approve", token: leader).status == .ok)
            clock.advance(by: 9 * 60)
            #expect(try await client.post(slow.location + "/approve", token: leader).status == .ok)
            clock.advance(by: 60)
            #expect(try await client.post(slow.location + "/approve", token: government).status == .ok)
            return (slow, quick)
        }
        try await api.test { client in
            let late = try await client.get("/v1/late", token: auditor).decode(LateList.self)
            #expect(late.examined == 2)
            #expect(late.warnings.map(\.id) == [slow.id])
            #expect(late.warnings.first?.late.first?.step == "approval")
            #expect(late.warnings.first?.late.first?.tookSeconds == 900)

            let timeline = try await client.get(slow.location + "/timeline", token: auditor).decode(WarningTimeline.self)
            #expect(timeline.decisions.map(\.role) == ["duty-leader", "government-leader"])
            #expect(timeline.releasedAt != nil && timeline.threshold?.approval == 600)
            #expect(timeline.coverage.first?.divisions == 0)
            let onTime = try await client.get(quick.location + "/timeline", token: auditor).decode(WarningTimeline.self)
            #expect(onTime.late.isEmpty)

            // The auditor's filters: department, time range, level.
            #expect(try await client.get("/v1/warnings?department=csx-weather", token: auditor).decode(Listing.self).count == 2)
            #expect(try await client.get("/v1/warnings?department=hn-weather", token: auditor).decode(Listing.self).count == 0)
            #expect(try await client.get("/v1/warnings?until=2026-07-01T00:00:00Z", token: auditor).decode(Listing.self).count == 0)
            #expect(
                try await client.get("/v1/warnings?since=2026-07-01T00:00:00Z&level=red", token: auditor).decode(Listing.self).count == 1)
            #expect(try await client.get("/v1/late?until=yesterday", token: auditor).status == .badRequest)
        }
    }
}
