import Foundation
import Testing
import WarncastCore
import WarncastTestSupport

/// Approval as people on duty do it: with the CLI, against a running daemon.
@Suite("Approving warnings with the CLI against a running daemon", .serialized, .ownThreads)
struct ApprovalEndToEndTests {
    @Test("a red warning pending two approvals, refused to its submitter, released by two approvers; the scheduler expires another")
    func approvalPath() throws {
        let directory = try TestSupport.temporaryDirectory()
        let config = try testConfiguration(in: directory)
        let fast = try String(contentsOfFile: config, encoding: .utf8)
            .replacingOccurrences(of: "check_interval_seconds: 15", with: "check_interval_seconds: 1")
        try fast.write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try DaemonProcess(config: config, directory: directory)
        defer { daemon.stop() }

        func token(_ arguments: [String]) throws -> String { try Binaries.createToken(arguments, config: config) }
        func cli(_ arguments: [String], token: String) throws -> (status: Int32, out: String, err: String) {
            try Binaries.warncast(arguments + ["--url", daemon.url, "--token", token], config: config)
        }
        let issuer = try token(["--role", "issuer", "--department", "csx-weather", "--name", "值班员 张三"])
        let sameHolder = try token([
            "--role", "approver", "--department", "csx-weather", "--name", "值班员 张三", "--approval-role", "duty-leader",
        ])
        let dutyLeader = try token([
            "--role", "approver", "--department", "csx-weather", "--name", "带班领导 李四", "--approval-role", "duty-leader",
        ])
        let government = try token([
            "--role", "approver", "--region", "430121", "--name", "分管副县长 王五", "--approval-role", "government-leader",
        ])
        let refusedToken = try Binaries.warncast(
            ["token", "create", "--role", "approver", "--department", "csx-weather", "--name", "x"], config: config)
        #expect(refusedToken.status != 0)
        #expect(refusedToken.err.contains("--approval-role"))

        let fixture = TestSupport.fixtures.appendingPathComponent("rainstorm-red-csx.xml").path
        let submitted = try cli(["warnings", "submit", fixture], token: issuer)
        let id = try #require(jsonID(Data(submitted.out.utf8)))

        let table = try cli(["approvals", "list"], token: dutyLeader)
        #expect(table.status == 0)
        let row = try #require(table.out.split(separator: "\n").first { $0.hasPrefix(id) })
        #expect(row.contains("\tred\trainstorm\tred\t"))
        #expect(row.contains("duty-leader@department×1 government-leader@government×1"))
        #expect(table.out.contains("1 awaiting a decision"))
        let pending = try cli(["approvals", "list", "--json"], token: dutyLeader)
        #expect(pending.status == 0)
        #expect(pending.out.contains(#""rule":"red""#))
        #expect(pending.out.contains(#""role":"duty-leader""#) && pending.out.contains(#""role":"government-leader""#))
        #expect(pending.out.contains(#""deadline":"#))

        let byIssuer = try cli(["approvals", "approve", id], token: issuer)
        #expect(byIssuer.status != 0 && byIssuer.out.contains("not_an_approver"))
        let bySubmitter = try cli(["approvals", "approve", id], token: sameHolder)
        #expect(bySubmitter.status != 0 && bySubmitter.out.contains("self_approval"))
        #expect(try cli(["approvals", "approve", id], token: dutyLeader).out.contains(#""outcome":"recorded""#))
        let last = try cli(["approvals", "approve", id], token: government)
        #expect(last.status == 0)
        #expect(last.out.contains(#""outcome":"released""#))
        #expect(daemon.log.contains("msg=\"warning released\""))

        // A warning that expires three seconds from now: the daemon's scheduler expires it.
        let expiring = directory.appendingPathComponent("expiring.json")
        let soon = CAPTime.format(Date().addingTimeInterval(3))
        let text = String(decoding: TestSupport.fixture("rainstorm-yellow-csx.json"), as: UTF8.self)
            .replacingOccurrences(of: "2099-07-02T08:00:00+08:00", with: soon)
        try text.write(to: expiring, atomically: true, encoding: .utf8)
        let second = try cli(["warnings", "submit", expiring.path], token: issuer)
        let secondID = try #require(jsonID(Data(second.out.utf8)))
        var expired = false
        let deadline = Date().addingTimeInterval(20)
        while !expired && Date() < deadline {
            expired = try cli(["warnings", "show", secondID], token: issuer).out.contains(#""status":"expired""#)
            if !expired { Thread.sleep(forTimeInterval: 0.25) }
        }
        #expect(expired, "the scheduler did not expire the warning within 20 s")
        let refusedLate = try cli(["approvals", "approve", secondID], token: dutyLeader)
        #expect(refusedLate.out.contains("warning_expired"))

        let verified = try Binaries.warncast(["audit", "verify"], config: config)
        #expect(verified.status == 0, "\(verified.err)")
        let audit = try Binaries.warncast(["audit", "list", "--limit", "1000"], config: config).out
        for action in ["approval.recorded", "warning.released", "warning.expired"] {
            #expect(audit.contains("\"action\":\"\(action)\""), "no \(action) in the audit log")
        }
    }
}
