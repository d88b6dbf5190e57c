import Foundation
import HTTPTypes
import Synchronization
import Testing
import WarncastCore
import WarncastServer
import WarncastTestSupport

/// Counts the releases the approval path announces.
final class ReleaseLog: ReleaseSubscriber {
    let released = Mutex<[String]>([])

    func warningReleased(_ warning: Warning) async {
        released.withLock { $0.append(warning.id.rawValue) }
    }

    var ids: [String] { released.withLock { $0 } }
}

@Suite("Approving and rejecting warnings over the API")
struct ApprovalControllerTests {
    /// A county red warning pending, and the tokens the scenario needs.
    struct Scene {
        let api: APIHarness
        let releases = ReleaseLog()
        let tokens: Tokens

        /// Secrets of the scenario's tokens; the test client's closures capture only these.
        struct Tokens: Sendable {
            var issuer, dutyLeader, government, neighbourGovernment, provincial, secondDutyLeader, submitterAsApprover: String
        }

        init() async throws {
            api = try await APIHarness(releases: releases)
            tokens = Tokens(
                issuer: try await api.token(.issuer, department: "csx-weather", name: "值班员 张三"),
                dutyLeader: try await api.token(
                    .approver, department: "csx-weather", name: "带班领导 李四", approvalRole: "duty-leader"),
                government: try await api.token(
                    .approver, region: "430121", name: "分管副县长 王五", approvalRole: "government-leader"),
                neighbourGovernment: try await api.token(
                    .approver, region: "430102", name: "芙蓉区 赵六", approvalRole: "government-leader"),
                provincial: try await api.token(.approver, region: "430000", name: "省领导", approvalRole: "government-leader"),
                secondDutyLeader: try await api.token(
                    .approver, department: "csx-weather", name: "另一位领导", approvalRole: "duty-leader"),
                submitterAsApprover: try await api.token(
                    .approver, department: "csx-weather", name: "值班员 张三", approvalRole: "duty-leader"))
        }
    }

    @Test("a red warning: pending with two missing approvals and a deadline, released by two proper approvals")
    func redWarningReleased() async throws {
        let scene = try await Scene()
        let t = scene.tokens
        try await scene.api.test { client in
            let accepted = try await client.submit("rainstorm-red-csx.xml", token: t.issuer).decode(Accepted.self)
            let pending = try await client.get("/v1/approvals/pending", token: t.dutyLeader).decode(PendingBody.self)
            let item = try #require(pending.pending.first)
            #expect(pending.count == 1 && item.id.rawValue == accepted.id)
            #expect(item.approval?.rule == "red")
            #expect(item.approval?.missing.map(\.role) == ["duty-leader", "government-leader"])
            #expect(item.approval?.deadline?.text == "2026-07-01T16:10:00.000Z")

            let first = try await client.post("/v1/warnings/\(accepted.id)/approve", token: t.dutyLeader)
            #expect(first.status == .ok)
            #expect(try first.decode(DecisionBody.self).outcome == "recorded")
            #expect(try first.decode(DecisionBody.self).status == .pendingApproval)

            let second = try await client.post("/v1/warnings/\(accepted.id)/approve", token: t.government)
            let decided = try second.decode(DecisionBody.self)
            #expect(decided.outcome == "released" && decided.status == .released)
            #expect(decided.approval?.approvals.map(\.name) == ["带班领导 李四", "分管副县长 王五"])
            #expect(decided.approval?.missing == [])

            let released = try await client.get("/v1/warnings?status=released", token: t.issuer).decode(Listing.self)
            #expect(released.warnings.map(\.id.rawValue) == [accepted.id])
            #expect(try await client.get("/v1/approvals/pending", token: t.dutyLeader).decode(PendingBody.self).count == 0)
        }
        #expect(scene.releases.ids.count == 1)
    }

    @Test("the submitter's approval is refused, also with another token in the same name")
    func twoPersonRule() async throws {
        let scene = try await Scene()
        let t = scene.tokens
        try await scene.api.test { client in
            let accepted = try await client.submit("rainstorm-red-csx.xml", token: t.issuer).decode(Accepted.self)
            let asIssuer = try await client.post("/v1/warnings/\(accepted.id)/approve", token: t.issuer)
            #expect(asIssuer.status == .forbidden)
            #expect(asIssuer.errorCode == "not_an_approver")
            let samePerson = try await client.post("/v1/warnings/\(accepted.id)/approve", token: t.submitterAsApprover)
            #expect(samePerson.status == .forbidden)
            #expect(samePerson.errorCode == "self_approval")
        }
    }

    @Test("403 outside the scope, 409 when approving twice, rejected or expired warnings")
    func refusals() async throws {
        let scene = try await Scene()
        let t = scene.tokens
        try await scene.api.test { client in
            let red = try await client.submit("rainstorm-red-csx.xml", token: t.issuer).decode(Accepted.self)
            let outside = try await client.post("/v1/warnings/\(red.id)/approve", token: t.neighbourGovernment)
            // The neighbouring district cannot even see the warning.
            #expect(outside.status == .notFound)
            let wrongTier = try await client.post("/v1/warnings/\(red.id)/approve", token: t.provincial)
            #expect(wrongTier.status == .forbidden)
            #expect(wrongTier.errorCode == "approver_out_of_scope")

            #expect(try await client.post("/v1/warnings/\(red.id)/approve", token: t.dutyLeader).status == .ok)
            let twice = try await client.post("/v1/warnings/\(red.id)/approve", token: t.dutyLeader)
            #expect(twice.status == .conflict)
            #expect(twice.errorCode == "already_approved")

            let noReason = try await client.post("/v1/warnings/\(red.id)/reject", token: t.government, json: "{}")
            #expect(noReason.status == .unprocessableContent)
            #expect(noReason.errorCode == "reason_required")
            let rejected = try await client.post(
                "/v1/warnings/\(red.id)/reject", token: t.government, json: #"{"reason":"与市气象台会商后降为橙色"}"#)
            #expect(try rejected.decode(DecisionBody.self).status == .rejected)
            let afterReject = try await client.post("/v1/warnings/\(red.id)/approve", token: t.secondDutyLeader)
            #expect(afterReject.status == .conflict)
            #expect(afterReject.errorCode == "not_pending")
        }
        #expect(scene.releases.ids.isEmpty)
    }

    @Test("an approved Update supersedes the earlier warning; an approved Cancel ends it")
    func updateAndCancel() async throws {
        let scene = try await Scene()
        let t = scene.tokens
        try await scene.api.test { client in
            let red = try await client.submit("rainstorm-red-csx.xml", token: t.issuer).decode(Accepted.self)
            _ = try await client.post("/v1/warnings/\(red.id)/approve", token: t.dutyLeader)
            _ = try await client.post("/v1/warnings/\(red.id)/approve", token: t.government)

            let update = try await client.submit("update-csx.xml", token: t.issuer).decode(Accepted.self)
            let updateState = try await client.get(update.location, token: t.issuer).decode(Warning.self)
            #expect(updateState.approval?.rule == "downgrade")
            let released = try await client.post("/v1/warnings/\(update.id)/approve", token: t.dutyLeader)
                .decode(DecisionBody.self)
            #expect(released.status == .released)
            #expect(released.replaced == [red.id])
            #expect(try await client.get(red.location, token: t.issuer).decode(Warning.self).status == .superseded)

            let cancel = try await client.submit("cancel-csx.xml", token: t.issuer).decode(Accepted.self)
            #expect(try await client.get(cancel.location, token: t.issuer).decode(Warning.self).approval?.rule == "lift")
            _ = try await client.post("/v1/warnings/\(cancel.id)/approve", token: t.dutyLeader)
            #expect(try await client.get(red.location, token: t.issuer).decode(Warning.self).status == .cancelled)
        }
        #expect(scene.releases.ids.count == 3)
    }

    @Test(
        "an Update of a rejected warning is no downgrade: it needs the approvals of a new warning, and the rejected one stays rejected"
    )
    func updateOfRejected() async throws {
        let scene = try await Scene()
        let t = scene.tokens
        try await scene.api.test { client in
            let red = try await client.submit("rainstorm-red-csx.xml", token: t.issuer).decode(Accepted.self)
            let rejected = try await client.post("/v1/warnings/\(red.id)/reject", token: t.government, json: #"{"reason":"不发"}"#)
            #expect(rejected.status == .ok)
            // The issuer sends it again as an Update of the rejected one.
            let update = try await client.submit("update-csx.xml", token: t.issuer).decode(Accepted.self)
            let state = try await client.get(update.location, token: t.issuer).decode(Warning.self)
            #expect(state.approval?.rule != "downgrade", "\(state.approval?.rule ?? "-")")
            _ = try await client.post("/v1/warnings/\(update.id)/approve", token: t.dutyLeader)
            #expect(
                try await client.get(update.location, token: t.issuer).decode(Warning.self).status == .pendingApproval,
                "the duty leader alone does not release it")
            _ = try await client.post("/v1/warnings/\(update.id)/approve", token: t.government)
            #expect(try await client.get(update.location, token: t.issuer).decode(Warning.self).status == .released)
            #expect(try await client.get(red.location, token: t.issuer).decode(Warning.self).status == .rejected)
        }
    }

    @Test("a short-fuse warning is released at once and waits for its review")
    func immediateRelease() async throws {
        let scene = try await Scene()
        let t = scene.tokens
        let data = String(decoding: TestSupport.fixture("rainstorm-yellow-csx.json"), as: UTF8.self)
            .replacingOccurrences(of: "\"暴雨\"", with: "\"雷电\"")
        try await scene.api.test { client in
            let response = try await client.submit(Data(data.utf8), token: t.issuer, contentType: "application/json")
            let accepted = try response.decode(Accepted.self)
            #expect(accepted.status == "released")
            let pending = try await client.get("/v1/approvals/pending", token: t.dutyLeader).decode(PendingBody.self)
            #expect(pending.pending.first?.approval?.release == .immediate)
            let review = try await client.post("/v1/warnings/\(accepted.id)/approve", token: t.dutyLeader)
            #expect(try review.decode(DecisionBody.self).outcome == "reviewed")
            #expect(try await client.get("/v1/approvals/pending", token: t.dutyLeader).decode(PendingBody.self).count == 0)
        }
        #expect(scene.releases.ids.count == 1)
    }
}
