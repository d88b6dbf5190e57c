import Foundation
import Testing
import WarncastNet
import WarncastTestSupport

/// The console in a real browser: Chromium, driven by Debian's python3-selenium through
/// chromium-driver (Tests/Browser/console.py), against a running warncastd and a loopback
/// fleet of village loudspeakers. Screenshots go to .build/test-artefacts/console/.
@Suite("The console in Chromium", .serialized, .ownThreads)
struct ConsoleBrowserTests {
    static let passwords = [
        "zhang3": "duty officer pw 1", "li4": "leader one password", "wang5": "leader two password", "zhao6": "auditor password 1",
    ]

    @Test("a duty officer composes a red warning, two leaders approve it on phones, coverage reaches 100%")
    func composeApproveWatch() async throws {
        for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
            #expect(FileManager.default.isExecutableFile(atPath: tool), "\(tool) is missing: run make test, which installs it")
        }
        let directory = try TestSupport.temporaryDirectory()
        let fleet = try await LoudspeakerFleet()
        var rows = ""
        for index in 1...20 {
            let township = index <= 10 ? "430121001" : "430121002"
            rows +=
                "ls-\(index),loudspeaker,\(township)\(String(format: "%03d", index % 10 + 1)),大喇叭 \(index),\(fleet.url("s\(index)")),,\n"
        }
        let config = try testConfiguration(in: directory, recipients: rows, channels: "", red: [])
        let daemon = try DaemonProcess(config: config, directory: directory)
        defer { daemon.stop() }
        let keys = try CurlTransfer.perform(HTTPRequestSpec(url: daemon.url + "/.well-known/warncast-keys"))
        let published = try #require((try JSONSerialization.jsonObject(with: keys.body) as? [String: [[String: Any]]])?["keys"])
        fleet.trust(publicKey: try #require(Data(base64Encoded: published[0]["publicKey"] as? String ?? "")))

        let accounts = [
            ("zhang3", ["--role", "issuer", "--department", "csx-weather", "--name", "值班员 张三"]),
            ("li4", ["--role", "approver", "--department", "csx-weather", "--approval-role", "duty-leader", "--name", "带班领导 李四"]),
            ("wang5", ["--role", "approver", "--region", "430121", "--approval-role", "government-leader", "--name", "副县长 王五"]),
            ("zhao6", ["--role", "auditor", "--region", "430000", "--name", "审计员 赵六"]),
        ]
        for (username, arguments) in accounts {
            let added = try Binaries.warncast(
                ["users", "add", username] + arguments, config: config, input: Self.passwords[username]! + "\n")
            #expect(added.status == 0, "users add \(username): \(added.err)")
        }

        let artefacts = TestSupport.root.appendingPathComponent(".build/test-artefacts/console")
        try? FileManager.default.removeItem(at: artefacts)
        let script = TestSupport.root.appendingPathComponent("Tests/Browser/console.py").path
        let environment = ["CONSOLE_PASSWORDS": String(decoding: try JSONSerialization.data(withJSONObject: Self.passwords), as: UTF8.self)]
        let run = try await Self.python([script, daemon.url, artefacts.path], environment: environment, timeout: 300)
        #expect(run.status == 0, "console.py: \(run.out)\n\(run.err)")
        let id = try #require(
            run.out.split(separator: "\n").first { $0.hasPrefix("warning ") }.map { String($0.dropFirst("warning ".count)) },
            "console.py printed no warning id: \(run.out)")

        // What the browser did is what the store holds.
        let auditor = try Binaries.createToken(["--role", "auditor", "--region", "430000", "--name", "审计员"], config: config)
        let warning =
            try JSONSerialization.jsonObject(with: try daemon.api("GET", "/v1/warnings/\(id)", token: auditor).body) as? [String: Any]
        #expect(warning?["status"] as? String == "released")
        #expect(warning?["level"] as? String == "red")
        #expect(warning?["areas"] as? [String] == ["430121001", "430121002"])
        let approvals = (warning?["approval"] as? [String: Any])?["approvals"] as? [[String: Any]] ?? []
        #expect(approvals.compactMap { $0["name"] as? String }.sorted() == ["副县长 王五", "带班领导 李四"], "each leader approved once, by name")
        #expect(fleet.uniqueDeliveries == 20, "every loudspeaker got the warning once")
        let history = String(decoding: try daemon.api("GET", "/v1/warnings/\(id)/history", token: auditor).body, as: UTF8.self)
        #expect(history.contains("值班员 张三"), "the audit log names who submitted from the console")
        let audit = String(decoding: try daemon.api("GET", "/v1/export/audit?format=json", token: auditor).body, as: UTF8.self)
        for user in ["zhang3", "li4", "wang5", "zhao6"] {
            #expect(audit.contains("\"console:\(user)\""), "\(user)'s sign-in is audited")
        }
        for page in [
            "1-sign-in-refused", "2-compose-preview", "3-compose-submitted", "4-duty-leader-warning", "5-government-leader-coverage",
            "6-audit", "7-public-phone",
        ] {
            let file = artefacts.appendingPathComponent(page + ".png")
            let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
            #expect(size > 10_000, "screenshot \(page).png")
        }
    }

    /// Runs Debian's python3 (it sees python3-selenium) to completion.
    static func python(
        _ arguments: [String], environment: [String: String], timeout: TimeInterval
    ) async throws -> (status: Int32, out: String, err: String) {
        // It waits without holding a thread: the suites running beside this one (and peers
        // inside this process, such as the carrier gateway) need the few the machine has.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let printed = PipeDrain(out)
        let complained = PipeDrain(err)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: printed.data, as: UTF8.self), String(decoding: complained.data, as: UTF8.self))
    }
}
