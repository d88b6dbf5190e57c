import Foundation
import Testing
import WarncastCore

@Suite("The approval ledger: the two-person rule, scopes, counting, lifecycle")
struct ApprovalLedgerTests {
    static let county = Department(
        id: "csx-weather", name: "长沙县气象局", kind: "weather", region: RegionCode("430121")!, events: ["rainstorm"])
    static let now = Date(timeIntervalSince1970: 1_782_864_000)

    static func approver(
        _ id: String, role: String = "duty-leader", department: Department? = county, region: String = "430121"
    ) -> Principal {
        Principal(tokenID: id, name: id, role: .approver, department: department, region: RegionCode(region)!, approvalRole: role)
    }

    static let dutyLeader = approver("duty")
    static let secondDutyLeader = approver("duty2")
    static let countyGovernment = approver("gov", role: "government-leader", department: nil)
    static let cityGovernment = approver("city", role: "government-leader", department: nil, region: "430100")
    static let neighbourGovernment = approver("nb", role: "government-leader", department: nil, region: "430102")

    let redPlan = ApprovalPlan(
        rule: ApprovalRule(
            name: "red", match: ApprovalMatch(levels: [.red]),
            requirements: [
                ApprovalRequirement(role: "duty-leader", scope: .department),
                ApprovalRequirement(role: "government-leader", scope: .government),
            ], deadline: 600),
        submittedAt: now)

    func facts(_ status: WarningStatus = .pendingApproval, expires: Date? = nil) -> ApprovalLedger.Facts {
        ApprovalLedger.Facts(
            status: status, expires: expires, submitterTokenID: "submitter", submitterName: "值班员 张三", issuer: Self.county)
    }

    @Test("two proper approvals release a red warning; the first leaves it pending with one missing")
    func redReleased() throws {
        var ledger = ApprovalLedger(plan: redPlan)
        #expect(ledger.missing.count == 2)
        #expect(try ledger.decide(.approve, by: Self.dutyLeader, reason: nil, facts: facts(), at: Self.now) == .recorded)
        #expect(ledger.missing == [MissingApproval(role: "government-leader", scope: .government, remaining: 1)])
        #expect(try ledger.decide(.approve, by: Self.countyGovernment, reason: nil, facts: facts(), at: Self.now) == .released)
        #expect(ledger.isComplete)
        #expect(redPlan.deadline == Self.now.addingTimeInterval(600))
    }

    @Test("the submitter can never approve their own warning")
    func twoPersonRule() {
        var ledger = ApprovalLedger(plan: redPlan)
        let submitter = Self.approver("submitter")
        #expect(throws: ApprovalError.selfApproval) {
            try ledger.decide(.approve, by: submitter, reason: nil, facts: facts(), at: Self.now)
        }
        var samePerson = Self.approver("another-token-of-the-submitter")
        samePerson.name = "值班员 张三"
        #expect(throws: ApprovalError.selfApproval) {
            try ledger.decide(.approve, by: samePerson, reason: nil, facts: facts(), at: Self.now)
        }
        #expect(throws: ApprovalError.selfApproval) {
            try ledger.decide(.reject, by: submitter, reason: "no", facts: facts(), at: Self.now)
        }
    }

    @Test("one approver counts once however often they click")
    func countsOnce() throws {
        var ledger = ApprovalLedger(plan: redPlan)
        _ = try ledger.decide(.approve, by: Self.dutyLeader, reason: nil, facts: facts(), at: Self.now)
        #expect(throws: ApprovalError.alreadyDecided) {
            try ledger.decide(.approve, by: Self.dutyLeader, reason: nil, facts: facts(), at: Self.now)
        }
        #expect(throws: ApprovalError.nothingMissingForApprover) {
            try ledger.decide(.approve, by: Self.secondDutyLeader, reason: nil, facts: facts(), at: Self.now)
        }
        #expect(ledger.approvals.count == 1)
    }

    @Test("a count of two needs two different approvers")
    func countTwo() throws {
        let plan = ApprovalPlan(
            rule: ApprovalRule(
                name: "two", match: ApprovalMatch(),
                requirements: [ApprovalRequirement(role: "duty-leader", scope: .department, count: 2)]),
            submittedAt: Self.now)
        var ledger = ApprovalLedger(plan: plan)
        #expect(try ledger.decide(.approve, by: Self.dutyLeader, reason: nil, facts: facts(), at: Self.now) == .recorded)
        #expect(try ledger.decide(.approve, by: Self.secondDutyLeader, reason: nil, facts: facts(), at: Self.now) == .released)
    }

    @Test("a count of two is not met by one person with two tokens (a second console sign-in is a new token)")
    func countTwoOnePerson() throws {
        let plan = ApprovalPlan(
            rule: ApprovalRule(
                name: "two", match: ApprovalMatch(),
                requirements: [ApprovalRequirement(role: "duty-leader", scope: .department, count: 2)]),
            submittedAt: Self.now)
        var ledger = ApprovalLedger(plan: plan)
        #expect(try ledger.decide(.approve, by: Self.dutyLeader, reason: nil, facts: facts(), at: Self.now) == .recorded)
        var secondSession = Self.approver("duty-signed-in-again")
        secondSession.name = Self.dutyLeader.name
        #expect(throws: ApprovalError.alreadyDecided) {
            try ledger.decide(.approve, by: secondSession, reason: nil, facts: facts(), at: Self.now)
        }
        #expect(ledger.missing.first?.remaining == 1)
        #expect(try ledger.decide(.approve, by: Self.secondDutyLeader, reason: nil, facts: facts(), at: Self.now) == .released)
    }

    @Test(
        "approvers outside the rule's scope are refused with the reason",
        arguments: [
            (
                approver(
                    "other-dept",
                    department: Department(id: "cs-weather", name: "长沙市气象局", kind: "weather", region: RegionCode("430100")!, events: [])),
                "must come from csx-weather"
            ),
            (neighbourGovernment, "government of 430121"),
            (cityGovernment, "government of 430121"),
            (approver("boss", role: "chief"), "needs approval from duty-leader, government-leader, not chief"),
        ])
    func outOfScope(principal: Principal, reason: String) {
        var ledger = ApprovalLedger(plan: redPlan)
        do {
            _ = try ledger.decide(.approve, by: principal, reason: nil, facts: facts(), at: Self.now)
            Issue.record("out-of-scope approval accepted")
        } catch {
            guard case .outOfScope(let text) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(text.contains(reason))
        }
    }

    @Test("the tier above is the government of the containing city")
    func tierAbove() throws {
        let plan = ApprovalPlan(
            rule: ApprovalRule(
                name: "above", match: ApprovalMatch(),
                requirements: [ApprovalRequirement(role: "government-leader", scope: .above)]),
            submittedAt: Self.now)
        var ledger = ApprovalLedger(plan: plan)
        #expect(throws: ApprovalError.self) {
            try ledger.decide(.approve, by: Self.countyGovernment, reason: nil, facts: facts(), at: Self.now)
        }
        #expect(try ledger.decide(.approve, by: Self.cityGovernment, reason: nil, facts: facts(), at: Self.now) == .released)
    }

    @Test("non-approver tokens cannot decide")
    func onlyApprovers() {
        var ledger = ApprovalLedger(plan: redPlan)
        var issuer = Self.dutyLeader
        issuer.role = .issuer
        #expect(throws: ApprovalError.notAnApprover) {
            try ledger.decide(.approve, by: issuer, reason: nil, facts: facts(), at: Self.now)
        }
    }

    @Test("a rejection needs a reason and ends the approval")
    func rejection() throws {
        var ledger = ApprovalLedger(plan: redPlan)
        #expect(throws: ApprovalError.reasonRequired) {
            try ledger.decide(.reject, by: Self.dutyLeader, reason: "  ", facts: facts(), at: Self.now)
        }
        #expect(try ledger.decide(.reject, by: Self.dutyLeader, reason: "雨量预报有误", facts: facts(), at: Self.now) == .rejected)
        #expect(throws: ApprovalError.notPending(.rejected)) {
            try ledger.decide(.approve, by: Self.countyGovernment, reason: nil, facts: facts(.rejected), at: Self.now)
        }
    }

    @Test("an expired warning cannot be approved, whether or not the scheduler has marked it yet")
    func expired() {
        var ledger = ApprovalLedger(plan: redPlan)
        #expect(throws: ApprovalError.expired) {
            try ledger.decide(.approve, by: Self.dutyLeader, reason: nil, facts: facts(expires: Self.now), at: Self.now)
        }
        #expect(throws: ApprovalError.expired) {
            try ledger.decide(.approve, by: Self.dutyLeader, reason: nil, facts: facts(.expired), at: Self.now)
        }
    }

    @Test("immediate release: the warning is out, the review approval completes it, nothing after")
    func immediateRelease() throws {
        let plan = ApprovalPlan(
            rule: ApprovalRule(
                name: "short-fuse", match: ApprovalMatch(events: ["thunderstorm"]),
                requirements: [ApprovalRequirement(role: "duty-leader", scope: .department)],
                release: .immediate, deadline: 1800),
            submittedAt: Self.now)
        var ledger = ApprovalLedger(plan: plan)
        #expect(throws: ApprovalError.notPending(.released)) {
            try ledger.decide(.reject, by: Self.dutyLeader, reason: "late", facts: facts(.released), at: Self.now)
        }
        #expect(try ledger.decide(.approve, by: Self.dutyLeader, reason: nil, facts: facts(.released), at: Self.now) == .reviewed)
        #expect(throws: ApprovalError.notPending(.released)) {
            try ledger.decide(.approve, by: Self.secondDutyLeader, reason: nil, facts: facts(.released), at: Self.now)
        }
    }

    @Test(
        "superseded, cancelled and released warnings take no more decisions",
        arguments: [
            WarningStatus.superseded, .cancelled, .released,
        ])
    func closed(status: WarningStatus) {
        var ledger = ApprovalLedger(plan: redPlan)
        #expect(throws: ApprovalError.notPending(status)) {
            try ledger.decide(.approve, by: Self.dutyLeader, reason: nil, facts: facts(status), at: Self.now)
        }
    }
}
