import Testing
import WarncastCore

@Suite("Division codes: tier and containment follow from the digits")
struct RegionCodeTests {
    @Test(
        "the tier of a code follows from its structure",
        arguments: [
            ("430000", Tier.province), ("430100", .city), ("430102", .county),
            ("430121001", .township), ("430121001001", .village), ("110101", .county), ("441900", .city),
        ])
    func tier(code: String, tier: Tier) {
        #expect(RegionCode(code)?.tier == tier)
    }

    @Test("malformed codes are refused", arguments: ["", "43", "43010", "4301000", "43012100100", "43a100", "000000", "4301210010011"])
    func malformed(code: String) {
        #expect(RegionCode(code) == nil)
    }

    @Test("430100 contains 430102001001, and the province contains every tier below it")
    func containment() {
        let changsha = RegionCode("430100")!
        #expect(changsha.contains(RegionCode("430102001001")!))
        #expect(changsha.contains(RegionCode("430102")!))
        #expect(RegionCode("430000")!.contains(RegionCode("430121001001")!))
        #expect(RegionCode("430121")!.contains(RegionCode("430121001")!))
        #expect(RegionCode("430121001")!.contains(RegionCode("430121001007")!))
    }

    @Test("a county does not contain its neighbour, its parent, itself or another province")
    func nonContainment() {
        let changshaCounty = RegionCode("430121")!
        #expect(!changshaCounty.contains(RegionCode("430102")!))
        #expect(!changshaCounty.contains(RegionCode("430102001")!))
        #expect(!changshaCounty.contains(RegionCode("430100")!))
        #expect(!changshaCounty.contains(changshaCounty))
        #expect(!RegionCode("430000")!.contains(RegionCode("420100")!))
        // 4301 is a prefix of 430121, but a city-level code never contains a sibling city.
        #expect(!RegionCode("430100")!.contains(RegionCode("430200")!))
    }

    @Test("overlap holds both ways and within is reflexive")
    func overlap() {
        let county = RegionCode("430121")!
        let province = RegionCode("430000")!
        #expect(county.overlaps(province) && province.overlaps(county))
        #expect(county.isWithin(county))
        #expect(!county.overlaps(RegionCode("430102")!))
    }

    @Test("the tier above a township is the county; a province has none")
    func tierAbove() {
        #expect(Tier.township.above == .county)
        #expect(Tier.province.above == nil)
    }
}
