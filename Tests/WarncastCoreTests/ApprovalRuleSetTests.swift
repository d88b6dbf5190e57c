import Foundation
import Testing
import WarncastConfig
import WarncastCore
import WarncastTestSupport

@Suite("Approval rules: which rule applies")
struct ApprovalRuleSetTests {
    let rules: ApprovalRuleSet

    init() throws {
        rules = try TestSupport.exampleConfiguration().approval.rules
    }

    func subject(
        _ level: Level, _ event: String = "rainstorm", tier: Tier = .county, kind: String = "weather",
        type: MessageType = .alert, escalates: Bool = false
    ) -> ApprovalSubject {
        ApprovalSubject(level: level, event: event, tier: tier, kind: kind, messageType: type, escalates: escalates)
    }

    @Test(
        "the example defaults follow provincial practice",
        arguments: [
            (Level.blue, "rainstorm", MessageType.alert, false, "blue-yellow"),
            (.yellow, "rainstorm", .alert, false, "blue-yellow"),
            (.orange, "rainstorm", .alert, false, "orange"),
            (.red, "rainstorm", .alert, false, "red"),
            (.red, "geological-hazard", .alert, false, "red"),
            (.red, "rainstorm", .cancel, false, "lift"),
            (.red, "rainstorm", .update, true, "red"),
            (.orange, "rainstorm", .update, false, "downgrade"),
            (.yellow, "thunderstorm", .alert, false, "short-fuse"),
            (.red, "thunderstorm", .alert, false, "short-fuse"),
        ])
    func defaults(level: Level, event: String, type: MessageType, escalates: Bool, rule: String) {
        #expect(rules.rule(for: subject(level, event, type: type, escalates: escalates))?.name == rule)
    }

    @Test("red and orange need the department's duty leader and the government; blue and yellow the department only")
    func requirements() throws {
        let red = try #require(rules.rule(for: subject(.red)))
        #expect(
            red.requirements == [
                ApprovalRequirement(role: "duty-leader", scope: .department),
                ApprovalRequirement(role: "government-leader", scope: .government),
            ])
        #expect(red.deadline == 600)
        let yellow = try #require(rules.rule(for: subject(.yellow)))
        #expect(yellow.requirements == [ApprovalRequirement(role: "duty-leader", scope: .department)])
        #expect(rules.rule(for: subject(.red, type: .cancel))?.requirements.map(\.scope) == [.department])
    }

    @Test("rules are tried in order and the first match wins")
    func ordering() {
        let set = ApprovalRuleSet([
            ApprovalRule(
                name: "province-red", match: ApprovalMatch(levels: [.red], tiers: [.province]),
                requirements: [ApprovalRequirement(role: "r", scope: .government)]),
            ApprovalRule(
                name: "any-red", match: ApprovalMatch(levels: [.red]),
                requirements: [ApprovalRequirement(role: "r", scope: .department)]),
            ApprovalRule(
                name: "water", match: ApprovalMatch(kinds: ["water"]),
                requirements: [ApprovalRequirement(role: "r", scope: .department)]),
        ])
        #expect(set.rule(for: subject(.red, tier: .province))?.name == "province-red")
        #expect(set.rule(for: subject(.red, tier: .county))?.name == "any-red")
        #expect(set.rule(for: subject(.red, kind: "water"))?.name == "any-red")
        #expect(set.rule(for: subject(.blue, kind: "water"))?.name == "water")
        #expect(set.rule(for: subject(.blue)) == nil)
    }

    static let issuer = Department(
        id: "csx-weather", name: "长沙县气象局", kind: "weather", region: RegionCode("430121")!, events: ["rainstorm"])
    static let principal = Principal(tokenID: "t", name: "n", role: .issuer, department: issuer, region: issuer.region)

    /// A fixture as the county weather bureau's checked submission.
    static func draft(_ fixture: String) throws -> WarningDraft {
        let check = IntakeCheck(catalogue: try TestSupport.exampleConfiguration().events)
        let data = TestSupport.fixture(fixture)
        return try check.check(try CAPReader.readXML(data), raw: data, format: .xml, principal: principal, now: TestSupport.now)
    }

    @Test("an Update escalates when it raises the level or widens the area, not when it narrows")
    func escalation() throws {
        let (issuer, principal) = (Self.issuer, Self.principal)
        let draft = Self.draft
        let original = Warning(
            id: "w1", status: .released, draft: try draft("rainstorm-red-csx.xml"), submittedBy: principal, receivedAt: TestSupport.now)
        var update = try draft("update-csx.xml")
        let now = TestSupport.now
        #expect(ApprovalSubject(draft: update, department: issuer, replaced: [original], at: now).escalates == false)
        update.level = .red
        update.areas.append(RegionCode("430121003")!)
        #expect(ApprovalSubject(draft: update, department: issuer, replaced: [original], at: now).escalates)
        update.areas = [RegionCode("430121001001")!]
        update.level = .orange
        #expect(ApprovalSubject(draft: update, department: issuer, replaced: [original], at: now).escalates == false)
    }

    @Test(
        "an Update of a warning not in force (rejected, awaiting approval, expired) is judged as a new warning: it escalates and meets the rules in full"
    )
    func updateOfWarningNotInForce() throws {
        let (issuer, principal) = (Self.issuer, Self.principal)
        let draft = Self.draft
        let red = try draft("rainstorm-red-csx.xml")
        var update = try draft("update-csx.xml")
        update.level = red.level
        update.areas = red.areas
        let now = TestSupport.now
        for status in [WarningStatus.rejected, .pendingApproval, .expired, .superseded] {
            let earlier = Warning(id: "w1", status: status, draft: red, submittedBy: principal, receivedAt: now)
            #expect(ApprovalSubject(draft: update, department: issuer, replaced: [earlier], at: now).escalates, "\(status)")
        }
        // Released, but past its expiry.
        var lapsed = Warning(id: "w1", status: .released, draft: red, submittedBy: principal, receivedAt: now)
        lapsed.expires = Timestamp(now.addingTimeInterval(-60))
        #expect(ApprovalSubject(draft: update, department: issuer, replaced: [lapsed], at: now).escalates)
        // In force: the same level and areas do not escalate; judged against every reference.
        let inForce = Warning(id: "w1", status: .released, draft: red, submittedBy: principal, receivedAt: now)
        #expect(ApprovalSubject(draft: update, department: issuer, replaced: [inForce], at: now).escalates == false)
        let rejected = Warning(id: "w0", status: .rejected, draft: red, submittedBy: principal, receivedAt: now)
        #expect(ApprovalSubject(draft: update, department: issuer, replaced: [rejected, inForce], at: now).escalates == false)
        #expect(ApprovalSubject(draft: update, department: issuer, replaced: [], at: now).escalates)
    }
}
