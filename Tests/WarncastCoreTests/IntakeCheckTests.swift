import Foundation
import Testing
import WarncastConfig
import WarncastCore
import WarncastTestSupport

@Suite("Intake checks: who may warn what, where, and when")
struct IntakeCheckTests {
    let check: IntakeCheck
    let countyWeather: Principal

    init() throws {
        check = IntakeCheck(catalogue: try TestSupport.exampleConfiguration().events)
        let department = Department(
            id: "csx-weather", name: "长沙县气象局", kind: "weather", region: RegionCode("430121")!,
            events: ["rainstorm", "gale", "heat", "thunderstorm"])
        countyWeather = Principal(
            tokenID: "tok_test", name: "值班员", role: .issuer, department: department, region: department.region)
    }

    func run(_ fixture: String, as principal: Principal? = nil) throws(IntakeError) -> WarningDraft {
        let data = TestSupport.fixture(fixture)
        let alert = try CAPReader.readXML(data)
        return try check.check(alert, raw: data, format: .xml, principal: principal ?? countyWeather, now: TestSupport.now)
    }

    @Test("a county weather bureau's red rainstorm warning is normalised")
    func accepted() throws {
        let draft = try run("rainstorm-red-csx.xml")
        #expect(draft.level == .red)
        #expect(draft.event == "rainstorm")
        #expect(draft.messageType == .alert)
        #expect(draft.areas.map(\.rawValue) == ["430121001", "430121002"])
        #expect(draft.departmentID == "csx-weather")
        #expect(draft.raw == TestSupport.fixture("rainstorm-red-csx.xml"))
    }

    @Test(
        "each bad submission is refused with its own code",
        arguments: [
            ("refuse-event-not-allowed.xml", "event_not_allowed"),
            ("refuse-unknown-event.xml", "unknown_event_type"),
            ("refuse-area-outside.xml", "area_outside_jurisdiction"),
            ("refuse-invalid-region-code.xml", "invalid_region_code"),
            ("refuse-expires-before-effective.xml", "expires_before_effective"),
            ("refuse-already-expired.xml", "already_expired"),
            ("refuse-time-without-offset.xml", "invalid_time"),
            ("refuse-level-mismatch.xml", "level_severity_mismatch"),
        ])
    func refused(fixture: String, code: String) {
        #expect(throws: IntakeError.self) { try run(fixture) }
        do {
            _ = try run(fixture)
        } catch {
            #expect(error.code == code)
        }
    }

    @Test("a county bureau cannot warn the neighbouring county")
    func neighbouringCounty() {
        #expect(throws: IntakeError.areaOutsideJurisdiction(area: "430102001", department: "csx-weather", region: "430121")) {
            try run("refuse-area-outside.xml")
        }
    }

    @Test("an approver, operator or auditor token cannot submit")
    func onlyIssuers() {
        for role in [Role.approver, .operator, .auditor, .receiver] {
            var principal = countyWeather
            principal.role = role
            #expect(throws: IntakeError.self) { try run("rainstorm-red-csx.xml", as: principal) }
        }
    }

    @Test("Update and Cancel carry their references; without one they are refused")
    func references() throws {
        let update = try run("update-csx.xml")
        #expect(update.messageType == .update)
        #expect(update.level == .orange)
        #expect(update.references.map(\.identifier) == ["csx-weather-20260701-0001"])
        let cancel = try run("cancel-csx.xml")
        #expect(cancel.messageType == .cancel)

        var alert = try CAPReader.readXML(TestSupport.fixture("update-csx.xml"))
        alert.references = nil
        #expect(throws: IntakeError.referencesMissing("Update")) {
            try check.check(alert, raw: Data(), format: .xml, principal: countyWeather, now: TestSupport.now)
        }
    }

    @Test("the level comes from the severity when no level parameter is given")
    func levelFromSeverity() throws {
        let data = TestSupport.fixture("rainstorm-yellow-csx.json")
        let draft = try check.check(
            try CAPReader.readJSON(data), raw: data, format: .json, principal: countyWeather, now: TestSupport.now)
        #expect(draft.level == .yellow)
        #expect(draft.format == .json)
    }

    @Test("levels map to CAP severities and order by seriousness")
    func levels() {
        #expect(Level.allCases.map(\.severity) == [.minor, .moderate, .severe, .extreme])
        #expect(Level.red > Level.orange && Level.blue < Level.yellow)
        #expect(Level(severity: .unknown) == nil)
    }
}
