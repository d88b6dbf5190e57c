import Foundation
import Testing
import WarncastCore
import WarncastTestSupport

@Suite("Region registry CSV")
struct RegionCSVTests {
    let nationalFile = TestSupport.root.appendingPathComponent("config/divisions-cn.csv").path

    @Test("the whole country loads without a bad row")
    func wholeCountry() throws {
        let result = RegionCSV.parse(try String(contentsOfFile: nationalFile, encoding: .utf8))
        #expect(result.errors.isEmpty)
        #expect(result.regions.count == 3225)
        #expect(result.regions.filter { $0.tier == .province }.count == 34)
    }

    @Test("one province is narrowed out of the national file")
    func oneProvince() throws {
        let hunan = RegionCode("430000")!
        let result = RegionCSV.parse(try String(contentsOfFile: nationalFile, encoding: .utf8), within: hunan)
        #expect(result.errors.isEmpty)
        #expect(result.regions.first?.code == hunan)
        #expect(result.regions.allSatisfy { $0.code.isWithin(hunan) })
        let county = try #require(result.regions.first { $0.name == "长沙县" })
        #expect(county.tier == .county && county.longitude == 113.081097 && county.latitude == 28.246918, "with where it lies")
        #expect(result.regions.count > 100)
    }

    @Test("the generated villages of the example sit under real counties")
    func generatedVillages() throws {
        let file = TestSupport.root.appendingPathComponent("config/regions-villages.csv").path
        let result = RegionCSV.parse(try String(contentsOfFile: file, encoding: .utf8))
        #expect(result.errors.isEmpty)
        let villages = result.regions.filter { $0.tier == .village }
        #expect(villages.count == 100)
        #expect(Set(villages.map { String($0.code.rawValue.prefix(6)) }) == ["430102", "430121"])
    }

    @Test("bad rows are reported with their line numbers, good rows still read")
    func badRows() {
        let text = """
            code,name,parent
            430000,湖南省,
            43010,短码,430000
            430100,,430000
            430102,芙蓉区,420000
            430121,长沙县
            430121001,第一镇,430121
            430121001,第一镇重复,430121
            430181,浏阳市,
            430181,浏阳市,430100,113.6,
            430182,宁乡市,430100,abc,28.2
            430183,某市,430100,,
            """
        let result = RegionCSV.parse(text)
        #expect(result.regions.map(\.code.rawValue) == ["430000", "430121001", "430183"])
        #expect(result.errors.map(\.line) == [3, 4, 5, 6, 8, 9, 10, 11])
        #expect(result.errors[0].reason.contains("not a division code"))
        #expect(result.errors[2].reason.contains("does not contain"))
        #expect(result.errors[4].reason.contains("duplicate"))
        #expect(result.errors[5].reason.contains("has no parent"))
        #expect(result.errors[6].reason.contains("latitude ''"), "a longitude without its latitude")
        #expect(result.errors[7].reason.contains("longitude 'abc'"))
        #expect(result.regions.last?.longitude == nil, "both left empty: no coordinates")
    }
}
