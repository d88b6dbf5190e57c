import Foundation
import Testing
import WarncastCore
import WarncastTestSupport

@Suite("Per-tier roll-up of deliveries")
struct RollupBuilderTests {
    @Test("each delivery counts in its village and every division above it, down to the depth asked")
    func counts() throws {
        var builder = RollupBuilder(depth: .village)
        let outcomes: [(String, DeliveryState, Double?)] = [
            ("430121001001", .delivered, 1), ("430121001001", .delivered, 3), ("430121001002", .failed, nil),
            ("430121002001", .delivered, 2), ("430121002001", .expired, nil), ("430102001001", .queued, nil),
        ]
        for (code, state, seconds) in outcomes { builder.add(region: RegionCode(code)!, state: state, seconds: seconds) }
        let entries = Dictionary(uniqueKeysWithValues: builder.entries().map { ($0.region.rawValue, $0) })
        let province = try #require(entries["430000"])
        #expect(province.targeted == 6 && province.delivered == 3 && province.failed == 1 && province.expired == 1 && province.pending == 1)
        #expect(entries["430100"]?.targeted == 6)
        let county = try #require(entries["430121"])
        #expect(county.targeted == 5 && county.delivered == 3)
        #expect(county.p50Seconds == 2 && county.maxSeconds == 3)
        #expect(entries["430121001"]?.failed == 1)
        #expect(entries["430121001001"]?.coverage == 1)
        #expect(entries["430121001002"]?.coverage == 0)
        #expect(entries["430102"]?.pending == 1)
        let shallow = RollupBuilder(depth: .county)
        var county2 = shallow
        county2.add(region: RegionCode("430121001001")!, state: .delivered, seconds: 1)
        #expect(county2.entries().map(\.region.rawValue) == ["430000", "430100", "430121"])
    }

    @Test("percentiles are nearest-rank over the delivered ones")
    func percentiles() {
        var builder = RollupBuilder(depth: .county)
        for second in 1...100 { builder.add(region: RegionCode("430121")!, state: .delivered, seconds: Double(second)) }
        let county = builder.entries().first { $0.region.rawValue == "430121" }
        #expect(county?.p50Seconds == 50 && county?.p95Seconds == 95 && county?.maxSeconds == 100)
    }
}

@Suite("Roll-up from grouped counts and sorted times")
struct StreamedRollupTests {
    @Test("counts and ascending times give the same entries as one delivery at a time", arguments: [1, 7, 1000])
    func sameAsOneByOne(seed: Int) {
        var generator = SeededGenerator(seed: UInt64(seed))
        var deliveries: [(RegionCode, DeliveryState, Double?)] = []
        for _ in 0..<(seed * 3 + 20) {
            let village = RegionCode("43012100\(Int.random(in: 1...2, using: &generator))00\(Int.random(in: 1...9, using: &generator))")!
            let state: DeliveryState = [.delivered, .delivered, .failed, .queued, .expired].randomElement(using: &generator)!
            deliveries.append((village, state, state == .delivered ? Double(Int.random(in: 0...5000, using: &generator)) / 10 : nil))
        }
        var one = RollupBuilder(depth: .village)
        for (region, state, seconds) in deliveries { one.add(region: region, state: state, seconds: seconds) }
        var grouped = RollupBuilder(depth: .village)
        var counts: [String: Int] = [:]
        for (region, state, _) in deliveries { counts["\(region.rawValue)|\(state.rawValue)", default: 0] += 1 }
        for (key, count) in counts {
            let parts = key.split(separator: "|")
            grouped.add(region: RegionCode(String(parts[0]))!, state: DeliveryState(rawValue: String(parts[1]))!, count: count)
        }
        for (region, _, seconds) in deliveries.filter({ $0.2 != nil }).sorted(by: { $0.2! < $1.2! }) {
            grouped.addAscending(region: region, seconds: seconds!)
        }
        #expect(grouped.entries() == one.entries())
    }
}

/// A small deterministic generator, so each case is the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}

@Suite("A warning's timeline and timeliness")
struct TimelineTests {
    let submitted = Timestamp.parse("2026-07-01T08:00:00Z")!

    func warning(releasedAfter minutes: Double?, status: WarningStatus = .released) throws -> Warning {
        var warning = try TestSupport.countyWarning(status: status, receivedAt: submitted)
        let plan = ApprovalPlan(rule: "red", requirements: [], release: .afterApproval, deadline: nil)
        warning.approval = ApprovalState(
            plan: plan, approvals: [], awaiting: minutes == nil, late: false, escalations: 0, lastEscalatedAt: nil,
            releasedAt: minutes.map { Timestamp(submitted.addingTimeInterval($0 * 60)) }, decidedAt: nil)
        return warning
    }

    /// 20 villages on loudspeakers, reached at 1…20 minutes after 08:12; two SMS villages.
    func reaches() -> [WarningTimeline.Reach] {
        let release = submitted.addingTimeInterval(12 * 60)
        var list = (1...20).map {
            WarningTimeline.Reach(
                channel: "loudspeaker", division: "4301210010\(String(format: "%02d", $0))",
                firstDelivered: release.addingTimeInterval(Double($0) * 60))
        }
        list.append(.init(channel: "sms", division: "430121001001", firstDelivered: release.addingTimeInterval(30)))
        list.append(.init(channel: "sms", division: "430121002001", firstDelivered: nil))
        return list
    }

    @Test("coverage marks per channel and in total by nearest rank; late approval and coverage are named")
    func lateSteps() throws {
        let threshold = TimelinessThreshold(approval: 10 * 60, coveragePercent: 95, coverage: 5 * 60)
        let timeline = WarningTimeline(
            warning: try warning(releasedAfter: 12), reaches: reaches(), threshold: threshold, now: submitted.addingTimeInterval(3600))
        let total = try #require(timeline.coverage.first { $0.channel == nil })
        // 21 divisions: 20 loudspeaker villages (one also on SMS, reached first by SMS at +30 s) and one SMS-only, unreached.
        #expect(total.divisions == 21 && total.reached == 20)
        #expect(total.firstAt == "2026-07-01T08:12:30.000Z")
        #expect(total.p50At == "2026-07-01T08:23:00.000Z")  // 11th of 21
        #expect(total.p95At == "2026-07-01T08:32:00.000Z")  // 20th of 21
        #expect(total.p100At == nil)  // one village never reached
        let sms = try #require(timeline.coverage.first { $0.channel == "sms" })
        #expect(sms.divisions == 2 && sms.reached == 1 && sms.p100At == nil)
        #expect(timeline.late.map(\.step) == ["approval", "coverage"])
        #expect(timeline.late[0].tookSeconds == 720)
        #expect(timeline.late[1].tookSeconds == 1200)
    }

    @Test("on time, no threshold, and a warning still waiting for approval past its limit")
    func onTimeAndWaiting() throws {
        let quick = TimelinessThreshold(approval: 15 * 60, coveragePercent: 50, coverage: 15 * 60)
        #expect(WarningTimeline(warning: try warning(releasedAfter: 12), reaches: reaches(), threshold: quick, now: submitted).late.isEmpty)
        #expect(WarningTimeline(warning: try warning(releasedAfter: 12), reaches: reaches(), threshold: nil, now: submitted).late.isEmpty)
        let waiting = WarningTimeline(
            warning: try warning(releasedAfter: nil, status: .pendingApproval), reaches: [], threshold: quick,
            now: submitted.addingTimeInterval(20 * 60))
        #expect(waiting.late.count == 1 && waiting.late[0].step == "approval" && waiting.late[0].tookSeconds == nil)
        #expect(waiting.late[0].detail.contains("not released 20.0 min after submission"))
    }

    @Test("a lower node's rows add into an upper node's by code; its seconds shift to the upper node's release")
    func mergeLower() throws {
        func entry(_ code: String, targeted: Int, delivered: Int, p50: Double?, p95: Double?, max: Double?) -> RollupEntry {
            RollupEntry(
                region: RegionCode(code)!, tier: RegionCode(code)!.tier, name: nil, targeted: targeted, pending: targeted - delivered,
                accepted: 0, delivered: delivered, failed: 0, expired: 0, superseded: 0, p50Seconds: p50, p95Seconds: p95,
                maxSeconds: max)
        }
        // The province reached two villages of its own in 430102; the county node (released
        // 3 s after the province) reached three of its own in 430121.
        let upper = [
            entry("430000", targeted: 2, delivered: 2, p50: 1, p95: 2, max: 2),
            entry("430100", targeted: 2, delivered: 2, p50: 1, p95: 2, max: 2),
            entry("430102", targeted: 2, delivered: 2, p50: 1, p95: 2, max: 2),
        ]
        let lower = [
            entry("430000", targeted: 3, delivered: 2, p50: 1, p95: 4, max: 4),
            entry("430100", targeted: 3, delivered: 2, p50: 1, p95: 4, max: 4),
            entry("430121", targeted: 3, delivered: 2, p50: 1, p95: 4, max: 4),
        ]
        let merged = RollupMerge.merge(upper, lower, shift: 3)
        #expect(merged.map(\.region.rawValue) == ["430000", "430100", "430102", "430121"])
        let province = try #require(merged.first)
        #expect(province.targeted == 5 && province.delivered == 4 && province.pending == 1)
        // Both sides delivered: the slower of the two, never a faster made-up value.
        #expect(province.p50Seconds == 4 && province.p95Seconds == 7 && province.maxSeconds == 7)
        let county = try #require(merged.last)
        #expect(county.targeted == 3 && county.p50Seconds == 4 && county.maxSeconds == 7)
        #expect(merged[2] == upper[2])

        // A county node's rows of its sibling county are not its to report.
        let boasting =
            lower + [
                entry("430102", targeted: 40, delivered: 40, p50: 1, p95: 1, max: 1),
                entry("430102001", targeted: 40, delivered: 40, p50: 1, p95: 1, max: 1),
            ]
        let served = RollupMerge.served(by: RegionCode("430121")!, boasting, \.region)
        #expect(served.map(\.region.rawValue) == ["430000", "430100", "430121"])
        #expect(RollupMerge.merge(upper, served, shift: 3) == merged)
        let reaches = [
            WarningTimeline.Reach(channel: "loudspeaker", division: "430121001001", firstDelivered: nil),
            WarningTimeline.Reach(channel: "loudspeaker", division: "430102001001", firstDelivered: nil),
        ]
        #expect(RollupMerge.served(by: RegionCode("430121")!, reaches) { RegionCode($0.division) }.map(\.division) == ["430121001001"])
    }
}
