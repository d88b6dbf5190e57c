import Foundation
import Testing
import WarncastNet
import WarncastTestSupport

/// A warncastd over `terminals` loudspeakers of a fleet (the example configuration, its
/// own data directory) with tokens for the issuer and both approvers of a red warning.
/// The crash and soak tests kill and restart its daemon.
final class FanOutNode {
    let directory: URL
    let config: String
    let fleet: LoudspeakerFleet
    var daemon: DaemonProcess
    let issuer: String
    private let leader: String
    private let government: String

    /// `settings` replaces lines of the loudspeaker channel's configuration (for example
    /// `concurrency: 256` with `concurrency: 64`).
    init(fleet: LoudspeakerFleet, terminals: Int, settings: [String: String] = [:]) throws {
        self.fleet = fleet
        directory = try TestSupport.temporaryDirectory()
        let recipients = directory.appendingPathComponent("recipients.csv")
        var csv = "id,channel,region,name,address,secret,options\n"
        for index in 0..<terminals {
            // The warning covers townships 430121001 and 430121002: ten villages each.
            let village = "430121\(String(format: "%03d", index % 2 + 1))\(String(format: "%03d", index / 2 % 10 + 1))"
            csv += "ls-\(index),loudspeaker,\(village),大喇叭 \(index),\(fleet.url(String(index))),,repeat=3\n"
        }
        try csv.write(to: recipients, atomically: true, encoding: .utf8)
        config = try testConfiguration(in: directory)
        var text = try String(contentsOfFile: config, encoding: .utf8)
            .replacingOccurrences(of: "  # recipients: recipients.csv", with: "  recipients: \(recipients.path)")
        for (line, replacement) in settings {
            guard text.contains(line) else { throw CLIFailure(output: "the example configuration has no '\(line)'") }
            text = text.replacingOccurrences(of: line, with: replacement)
        }
        try text.write(toFile: config, atomically: true, encoding: .utf8)

        daemon = try DaemonProcess(config: config, directory: directory)
        let keys = try CurlTransfer.perform(HTTPRequestSpec(url: daemon.url + "/.well-known/warncast-keys"))
        let published = (try JSONSerialization.jsonObject(with: keys.body) as? [String: [[String: Any]]])?["keys"]
        guard let key = (published?.first?["publicKey"] as? String).flatMap({ Data(base64Encoded: $0) }) else {
            throw CLIFailure(output: String(decoding: keys.body, as: UTF8.self))
        }
        fleet.trust(publicKey: key)
        issuer = try Binaries.createToken(["--role", "issuer", "--department", "csx-weather", "--name", "值班员"], config: config)
        leader = try Binaries.createToken(
            ["--role", "approver", "--department", "csx-weather", "--name", "带班领导", "--approval-role", "duty-leader"], config: config)
        government = try Binaries.createToken(
            ["--role", "approver", "--region", "430121", "--name", "副县长", "--approval-role", "government-leader"], config: config)
    }

    /// Submits the county's red rainstorm warning and has both leaders approve it; its id.
    func releaseRedWarning() throws -> String {
        let submitted = try daemon.api(
            "POST", "/v1/warnings", token: issuer, body: TestSupport.fixture("rainstorm-red-csx.xml"), type: "application/cap+xml")
        guard let id = jsonID(submitted.body) else { throw CLIFailure(output: String(decoding: submitted.body, as: UTF8.self)) }
        for approver in [leader, government] {
            let approved = try daemon.api("POST", "/v1/warnings/\(id)/approve", token: approver)
            guard approved.status == 200 else { throw CLIFailure(output: String(decoding: approved.body, as: UTF8.self)) }
        }
        return id
    }

    /// kill -9, then a new daemon on the same store.
    func killAndRestart() throws {
        daemon.stop(signal: SIGKILL)
        daemon = try DaemonProcess(config: config, directory: directory)
    }

    /// The warning's deliveries counted by state, as the API reports them.
    func summary(_ id: String) throws -> [String: Int] {
        let answer = try daemon.api("GET", "/v1/warnings/\(id)/deliveries?limit=1", token: issuer)
        return (try JSONSerialization.jsonObject(with: answer.body) as? [String: Any])?["summary"] as? [String: Int] ?? [:]
    }

    /// Waits (at most `seconds`) until `count` deliveries are delivered; how many were.
    func waitDelivered(_ id: String, count: Int, seconds: TimeInterval) async throws -> Int {
        var delivered = 0
        let finish = Date().addingTimeInterval(seconds)
        while delivered < count && Date() < finish {
            try await Task.sleep(for: .milliseconds(200))
            delivered = try summary(id)["delivered"] ?? 0
        }
        return delivered
    }

    /// `warncast audit verify` on the node's store: whether it says the log and receipts are intact.
    func auditVerifies() throws -> Bool {
        let verified = try Binaries.warncast(["audit", "verify"], config: config, timeout: 300)
        return verified.status == 0 && verified.out.contains("audit log intact")
    }

    deinit { daemon.stop() }
}
