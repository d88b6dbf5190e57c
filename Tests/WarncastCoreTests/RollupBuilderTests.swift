import Testing
import WarncastCore

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
