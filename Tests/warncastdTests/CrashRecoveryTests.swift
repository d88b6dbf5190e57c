import Foundation
import Testing
import WarncastNet
import WarncastTestSupport

/// The promise of the durable outbox, tested the hard way: kill -9 in the middle of a
/// 10,000-loudspeaker fan-out, restart, and count at the loudspeakers.
@Suite("Crash recovery of a large fan-out", .serialized)
struct CrashRecoveryTests {
    @Test("after kill -9 mid-way and a restart, each of 10,000 loudspeakers has the warning exactly once")
    func killDuringFanOut() async throws {
        let directory = try TestSupport.temporaryDirectory()
        let fleet = try await LoudspeakerFleet()
        fleet.setDefault(.slow(milliseconds: 5))
        let recipients = directory.appendingPathComponent("recipients.csv")
        var csv = "id,channel,region,name,address,secret,options\n"
        for index in 0..<10_000 {
            // The warning covers townships 430121001 and 430121002: ten villages each.
            let village = "430121\(String(format: "%03d", index % 2 + 1))\(String(format: "%03d", index / 2 % 10 + 1))"
            csv += "ls-\(index),loudspeaker,\(village),大喇叭 \(index),\(fleet.url(String(index))),,repeat=3\n"
        }
        try csv.write(to: recipients, atomically: true, encoding: .utf8)
        let config = try testConfiguration(in: directory)
        let text = try String(contentsOfFile: config, encoding: .utf8)
            .replacingOccurrences(of: "  # recipients: recipients.csv", with: "  recipients: \(recipients.path)")
            .replacingOccurrences(of: "concurrency: 256", with: "concurrency: 64")
            .replacingOccurrences(of: "timeout_ms: 10000", with: "timeout_ms: 2000")
        try text.write(toFile: config, atomically: true, encoding: .utf8)

        var daemon = try DaemonProcess(config: config, directory: directory)
        let keys = try CurlTransfer.perform(HTTPRequestSpec(url: daemon.url + "/.well-known/warncast-keys"))
        let published = try #require((try JSONSerialization.jsonObject(with: keys.body) as? [String: [[String: Any]]])?["keys"])
        fleet.trust(publicKey: try #require(Data(base64Encoded: published[0]["publicKey"] as? String ?? "")))

        func token(_ arguments: [String]) throws -> String { try Binaries.createToken(arguments, config: config) }
        let issuer = try token(["--role", "issuer", "--department", "csx-weather", "--name", "值班员"])
        let leader = try token(["--role", "approver", "--department", "csx-weather", "--name", "带班领导", "--approval-role", "duty-leader"])
        let government = try token(["--role", "approver", "--region", "430121", "--name", "副县长", "--approval-role", "government-leader"])
        func api(_ method: String, _ path: String, token: String, body: Data? = nil, type: String = "application/json") throws -> HTTPResult
        {
            try daemon.api(method, path, token: token, body: body, type: type)
        }
        let submitted = try api(
            "POST", "/v1/warnings", token: issuer, body: TestSupport.fixture("rainstorm-red-csx.xml"), type: "application/cap+xml")
        let id = try #require(jsonID(submitted.body))
        #expect(try api("POST", "/v1/warnings/\(id)/approve", token: leader).status == 200)
        #expect(try api("POST", "/v1/warnings/\(id)/approve", token: government).status == 200)

        let deadline = Date().addingTimeInterval(60)
        while fleet.uniqueDeliveries < 2000 && Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
        daemon.stop(signal: SIGKILL)
        let atKill = fleet.uniqueDeliveries
        #expect(atKill >= 2000 && atKill < 10_000, "the kill did not land in the middle of the fan-out (\(atKill))")

        daemon = try DaemonProcess(config: config, directory: directory)
        defer { daemon.stop() }
        var delivered = 0
        let finish = Date().addingTimeInterval(120)
        while delivered < 10_000 && Date() < finish {
            try await Task.sleep(for: .milliseconds(200))
            let answer = try api("GET", "/v1/warnings/\(id)/deliveries?limit=1", token: issuer)
            let summary = (try JSONSerialization.jsonObject(with: answer.body) as? [String: Any])?["summary"] as? [String: Int]
            delivered = summary?["delivered"] ?? 0
        }
        #expect(delivered == 10_000)
        #expect(fleet.uniqueDeliveries == 10_000)
        let perEndpoint = fleet.keysByEndpoint
        #expect(perEndpoint.count == 10_000)
        #expect(perEndpoint.values.allSatisfy { $0.count == 1 })
        #expect(fleet.badSignatures == 0)
        // Requests in flight at the kill are sent again after the restart; the loudspeakers
        // recognise the idempotency key and drop them.
        print("kill -9 after \(atKill) deliveries; \(fleet.repeats) repeat(s) dropped by the receivers")
    }
}
