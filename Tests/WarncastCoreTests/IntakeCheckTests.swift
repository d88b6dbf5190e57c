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

    @Test("an area located only by a polygon is refused with its path: a geocode is needed; beside a geocode it is kept")
    func polygonOnlyArea() throws {
        let fixture = String(decoding: TestSupport.fixture("rainstorm-red-csx.xml"), as: UTF8.self)
        let polygon = "<polygon>28.1,113.0 28.3,113.0 28.3,113.2 28.1,113.0</polygon>"
        let polygonOnly = fixture.replacingOccurrences(
            of: "  </info>", with: "  <area>\n      <areaDesc>山洪沟</areaDesc>\n      \(polygon)\n    </area>\n  </info>")
        let data = Data(polygonOnly.utf8)
        #expect(throws: IntakeError.areaNeedsGeocode(path: "info[0].area[1]", areaDesc: "山洪沟")) {
            try check.check(try CAPReader.readXML(data), raw: data, format: .xml, principal: countyWeather, now: TestSupport.now)
        }
        #expect(IntakeError.areaNeedsGeocode(path: "info[0].area[1]", areaDesc: "山洪沟").detail.contains("GB/T 2260"))
        let beside = Data(
            fixture.replacingOccurrences(
                of: "<areaDesc>长沙县第1乡镇、第2乡镇</areaDesc>", with: "<areaDesc>长沙县第1乡镇、第2乡镇</areaDesc>\n      \(polygon)"
            ).utf8)
        let draft = try check.check(
            try CAPReader.readXML(beside), raw: beside, format: .xml, principal: countyWeather, now: TestSupport.now)
        #expect(draft.alert.info[0].area[0].polygon == ["28.1,113.0 28.3,113.0 28.3,113.2 28.1,113.0"])
        #expect(String(decoding: CAPWriter.xml(draft.alert), as: UTF8.self).contains(polygon))
    }

    @Test(
        "an identifier or sender with white space of any kind is refused: references are split on it",
        arguments: ["csx-weather-20260701\t0001", "csx-weather-20260701\n0001", "csx-weather 20260701", "csx-weather-20260701\u{3000}1"])
    func whiteSpaceInIdentifier(identifier: String) throws {
        let text = String(decoding: TestSupport.fixture("rainstorm-red-csx.xml"), as: UTF8.self)
        var alert = try CAPReader.readXML(Data(text.utf8))
        alert.identifier = identifier
        #expect(throws: IntakeError.invalidField("identifier", reason: "must not contain white space, commas, '<' or '&'")) {
            try check.check(alert, raw: Data(), format: .xml, principal: countyWeather, now: TestSupport.now)
        }
        var fromTab = try CAPReader.readXML(Data(text.utf8))
        fromTab.sender = "csx-weather\t@warncast.example"
        #expect(throws: IntakeError.invalidField("sender", reason: "must not contain white space, commas, '<' or '&'")) {
            try check.check(fromTab, raw: Data(), format: .xml, principal: countyWeather, now: TestSupport.now)
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

@Suite("Events as Chinese release systems write them")
struct EventNameTests {
    let check: IntakeCheck

    init() throws {
        check = IntakeCheck(catalogue: try TestSupport.exampleConfiguration().events)
    }

    /// The county's red rainstorm warning with `<event>`, the level parameter and the
    /// severity replaced, and an eventCode added when given.
    func draft(
        event: String, level: String? = "red", severity: String = "Extreme", eventCode: String? = nil
    ) throws(IntakeError)
        -> WarningDraft
    {
        var text = String(decoding: TestSupport.fixture("rainstorm-red-csx.xml"), as: UTF8.self)
            .replacingOccurrences(of: "<event>暴雨</event>", with: "<event>\(event)</event>")
            .replacingOccurrences(of: "<severity>Extreme</severity>", with: "<severity>\(severity)</severity>")
        if let eventCode {
            text = text.replacingOccurrences(
                of: "<effective>",
                with: "<eventCode><valueName>warncast:event</valueName><value>\(eventCode)</value></eventCode><effective>")
        }
        if level == nil {
            text = text.replacingOccurrences(
                of: "<parameter>\n      <valueName>level</valueName>\n      <value>red</value>\n    </parameter>\n", with: "")
        }
        let data = Data(text.utf8)
        return try check.check(
            try CAPReader.readXML(data), raw: data, format: .xml, principal: TestSupport.countyWeather, now: TestSupport.now)
    }

    @Test("暴雨红色预警 with its eventCode is a red rainstorm warning; the colour alone gives the level")
    func colourInName() throws {
        let named = try draft(event: "暴雨红色预警", eventCode: "rainstorm")
        #expect(named.event == "rainstorm" && named.level == .red)
        let signal = try draft(event: "暴雨红色预警信号", level: nil, severity: "Unknown")
        #expect(signal.event == "rainstorm" && signal.level == .red)
        let coded = try draft(event: "特大暴雨", eventCode: "rainstorm")
        #expect(coded.event == "rainstorm", "the eventCode names the event when the name is not in the catalogue")
    }

    @Test("the colour, the level, the severity and the eventCode must agree")
    func disagreements() {
        #expect(throws: IntakeError.invalidField("info.event", reason: "'暴雨黄色预警' says yellow, but the level is red")) {
            try draft(event: "暴雨黄色预警")
        }
        #expect(throws: IntakeError.levelMismatch(level: "blue", severity: "Extreme")) {
            try draft(event: "暴雨蓝色预警", level: nil)
        }
        #expect(throws: IntakeError.unknownEventType("暴雨红色预警")) { try draft(event: "暴雨红色预警", eventCode: "gale") }
        #expect(throws: IntakeError.unknownEventType("冰雹红色预警")) { try draft(event: "冰雹红色预警") }
    }

    @Test("地质灾害气象风险黄色预警 is a yellow geological hazard warning")
    func geologicalHazard() throws {
        let catalogue = try TestSupport.exampleConfiguration().events
        let info = CAPInfo(
            category: ["Geo"], event: "地质灾害气象风险黄色预警", urgency: "Expected", severity: "Moderate", certainty: "Likely")
        #expect(catalogue.recognise(info) == RecognisedEvent(event: catalogue.event(code: "geological-hazard")!, level: .yellow))
    }
}
