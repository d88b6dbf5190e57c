import Foundation
import Testing
import WarncastNet
import WarncastTestSupport

/// Province → city → county as three warncastd processes: a provincial red warning is
/// handed down signed, node by node, reaches the county's village loudspeakers, and the
/// province's report shows the county's villages through the city's.
@Suite("Cascade through three nodes", .serialized, .ownThreads)
struct CascadeEndToEndTests {
    struct Node {
        var name: String
        var region: String
        var tier: String
        var directory: URL
        var config: String
        var port: Int
        var url: String { "http://127.0.0.1:\(port)" }
    }

    /// A node's configuration: the example's, with its name, region and port, a `nodes`
    /// cascade channel routed for red, its recipients, and the upper node it trusts.
    static func node(
        _ name: String, region: String, tier: String, port: Int, recipients: String,
        upstream: (name: String, region: String, key: String)?
    ) throws -> Node {
        let directory = try TestSupport.temporaryDirectory()
        let config = try testConfiguration(in: directory)
        let file = directory.appendingPathComponent("recipients.csv")
        try ("id,channel,region,name,address,secret,options\n" + recipients).write(to: file, atomically: true, encoding: .utf8)
        var text = try String(contentsOfFile: config, encoding: .utf8)
            .replacingOccurrences(of: "port: 0", with: "port: \(port)")
            .replacingOccurrences(
                of: "  name: hunan-provincial-centre\n  tier: province\n  region: \"430000\"",
                with: "  name: \(name)\n  tier: \(tier)\n  region: \"\(region)\""
            )
            .replacingOccurrences(of: "  # recipients: recipients.csv", with: "  recipients: \(file.path)")
            .replacingOccurrences(of: "    red: [loudspeaker]", with: "    red: [loudspeaker, nodes]")
            .replacingOccurrences(of: "  channels:\n", with: "  channels:\n    nodes:\n      adapter: cascade\n      concurrency: 4\n")
        if let upstream {
            text += """

                cascade:
                  upstream:
                    - name: \(upstream.name)
                      region: "\(upstream.region)"
                      public_keys: ["\(upstream.key)"]
                      approval: pre-approved

                """
        }
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        return Node(name: name, region: region, tier: tier, directory: directory, config: config, port: port)
    }

    /// Generates a node's signing keyring with the CLI and returns its public key.
    static func publicKey(config: String) throws -> String {
        let generated = try Binaries.warncast(["keys", "generate"], config: config)
        guard generated.status == 0 else { throw CLIFailure(output: generated.err) }
        let shown = try Binaries.warncast(["keys", "show"], config: config)
        let keys = (try JSONSerialization.jsonObject(with: Data(shown.out.utf8)) as? [String: [[String: Any]]])?["keys"]
        guard let key = keys?.first?["publicKey"] as? String else { throw CLIFailure(output: shown.out + shown.err) }
        return key
    }

    @Test("a provincial red warning reaches the county's loudspeakers through the city, and the province sees them")
    func provinceCityCounty() async throws {
        let fleet = try await LoudspeakerFleet()
        var speakers = ""
        for index in 1...12 {
            let village = "430121\(String(format: "%03d", (index - 1) % 2 + 1))\(String(format: "%03d", (index - 1) / 2 % 10 + 1))"
            speakers += "ls-\(index),loudspeaker,\(village),村大喇叭 \(index),\(fleet.url("county-\(index)")),,\n"
        }
        let countyPort = PeerProcess.freePort()
        let cityPort = PeerProcess.freePort()
        // Keys first: each node trusts the key of the node above it.
        let province = try Self.node(
            "hunan-province", region: "430000", tier: "province", port: PeerProcess.freePort(),
            recipients: "changsha-city,nodes,430100,长沙市预警信息发布中心,http://127.0.0.1:\(cityPort),,\n", upstream: nil)
        let provinceKey = try Self.publicKey(config: province.config)
        let city = try Self.node(
            "changsha-city", region: "430100", tier: "city", port: cityPort,
            recipients: "changsha-county,nodes,430121,长沙县预警信息发布中心,http://127.0.0.1:\(countyPort),,\n",
            upstream: ("hunan-province", "430000", provinceKey))
        let cityKey = try Self.publicKey(config: city.config)
        let county = try Self.node(
            "changsha-county", region: "430121", tier: "county", port: countyPort, recipients: speakers,
            upstream: ("changsha-city", "430100", cityKey))
        fleet.trust(publicKey: try #require(Data(base64Encoded: try Self.publicKey(config: county.config))))

        let countyDaemon = try DaemonProcess(config: county.config, directory: county.directory)
        defer { countyDaemon.stop() }
        let cityDaemon = try DaemonProcess(config: city.config, directory: city.directory)
        defer { cityDaemon.stop() }
        let provinceDaemon = try DaemonProcess(config: province.config, directory: province.directory)
        defer { provinceDaemon.stop() }

        func token(_ node: Node, _ arguments: [String]) throws -> String { try Binaries.createToken(arguments, config: node.config) }
        let issuer = try token(province, ["--role", "issuer", "--department", "hn-weather", "--name", "省气象台值班员"])
        let leader = try token(
            province, ["--role", "approver", "--department", "hn-weather", "--name", "带班领导", "--approval-role", "duty-leader"])
        let government = try token(
            province, ["--role", "approver", "--region", "430000", "--name", "副省长", "--approval-role", "government-leader"])
        // The issuer signs its own CAP (an enveloped XML signature); the nodes hand it down as it came.
        let signed = Data(
            String(decoding: TestSupport.fixture("rainstorm-red-province.xml"), as: UTF8.self).replacingOccurrences(
                of: "</alert>",
                with:
                    #"<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo/><SignatureValue>c2ln</SignatureValue></Signature></alert>"#
            ).utf8)
        let submitted = try provinceDaemon.api("POST", "/v1/warnings", token: issuer, body: signed, type: "application/cap+xml")
        let id = try #require(jsonID(submitted.body), "\(String(decoding: submitted.body, as: UTF8.self))")
        #expect(try provinceDaemon.api("POST", "/v1/warnings/\(id)/approve", token: leader).status == 200)
        #expect(try provinceDaemon.api("POST", "/v1/warnings/\(id)/approve", token: government).status == 200)

        // Every county loudspeaker plays it once, signed by the county node.
        let deadline = Date().addingTimeInterval(60)
        while fleet.uniqueDeliveries < 12 && Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(fleet.uniqueDeliveries == 12, "\(countyDaemon.log)")
        #expect(fleet.badSignatures == 0)

        // The county holds the issuer's message byte for byte, its signature with it.
        let auditor = try token(county, ["--role", "auditor", "--region", "430121", "--name", "县审计员"])
        let listed = try JSONSerialization.jsonObject(with: try countyDaemon.api("GET", "/v1/warnings", token: auditor).body)
        let countyID = try #require(((listed as? [String: Any])?["warnings"] as? [[String: Any]])?.first?["id"] as? String)
        let held = try countyDaemon.api("GET", "/v1/warnings/\(countyID)/cap", token: auditor).body
        #expect(held == signed, "\(String(decoding: held, as: UTF8.self))")

        // The province's report holds the city's, which holds the county's villages.
        var villages: [[String: Any]] = []
        let reportDeadline = Date().addingTimeInterval(30)
        var report: [String: Any] = [:]
        while Date() < reportDeadline {
            let answer = try provinceDaemon.api("GET", "/v1/warnings/\(id)/report?depth=village", token: issuer)
            report = try JSONSerialization.jsonObject(with: answer.body) as? [String: Any] ?? [:]
            let cityReport = ((report["downstream"] as? [[String: Any]])?.first?["report"] as? [String: Any])
            let countyReport = ((cityReport?["downstream"] as? [[String: Any]])?.first?["report"] as? [String: Any])
            villages = (countyReport?["tiers"] as? [[String: Any]] ?? []).filter { $0["tier"] as? String == "village" }
            let delivered = villages.reduce(0) { $0 + ($1["delivered"] as? Int ?? 0) }
            if delivered == 12 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(villages.count == 12, "\(report)")
        #expect(villages.allSatisfy { $0["delivered"] as? Int == 1 && $0["targeted"] as? Int == 1 })
        let cityEntry = (report["downstream"] as? [[String: Any]])?.first
        #expect(cityEntry?["recipient"] as? String == "长沙市预警信息发布中心")
        #expect((cityEntry?["report"] as? [String: Any])?["node"] as? String == "changsha-city")

        // The province's own rows count the county's villages, in place of the hand-down to
        // the city: twelve recipients, not the one node it sent the warning to.
        let own = Dictionary(
            (report["tiers"] as? [[String: Any]] ?? []).map { ($0["region"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(own.keys.filter { $0.count == 12 }.count == 12, "\(report["tiers"] ?? "")")
        #expect(
            own["430000"]?["targeted"] as? Int == 12 && own["430000"]?["delivered"] as? Int == 12, "\(String(describing: own["430000"]))")
        #expect(own["430121"]?["delivered"] as? Int == 12)
        #expect(own["430121001001"]?["p95Seconds"] != nil)
        // The hand-down itself stays in its channel's rows.
        let handDowns = (report["byChannel"] as? [String: [[String: Any]]])?["nodes"]
        #expect(handDowns?.first { $0["region"] as? String == "430100" }?["targeted"] as? Int == 1)
        // Its timeline counts the twelve villages as its divisions, each reached when its
        // loudspeaker was, not the city as reached when it accepted the hand-down.
        let timeline =
            try JSONSerialization.jsonObject(
                with: try provinceDaemon.api("GET", "/v1/warnings/\(id)/timeline", token: issuer).body) as? [String: Any]
        let all = (timeline?["coverage"] as? [[String: Any]])?.first { $0["channel"] == nil }
        #expect(all?["divisions"] as? Int == 12 && all?["reached"] as? Int == 12, "\(timeline ?? [:])")
        #expect((timeline?["coverage"] as? [[String: Any]])?.contains { $0["channel"] as? String == "loudspeaker" } == true)

        // `warncast report` prints the province's tables, then the city's, then the county's.
        let printed = try Binaries.warncast(
            ["report", id, "--depth", "village", "--url", provinceDaemon.url, "--token", issuer], config: province.config)
        #expect(printed.status == 0, "\(printed.err)")
        #expect(printed.out.hasPrefix("timeliness: on time"))
        #expect(printed.out.contains("== handed down to 长沙市预警信息发布中心"))
        #expect(printed.out.contains("node changsha-county"))
        #expect(printed.out.contains("430121001001"))

        // The county filed it under the city, pre-approved, with the path it came along.
        let countyAudit = try Binaries.warncast(["audit", "list"], config: county.config)
        #expect(countyAudit.out.contains("upstream:changsha-city"))
        #expect(countyAudit.out.contains("rule 'upstream:changsha-city' releases at once"))
    }

    @Test("a county node down during a release gets the warning when it returns, and the province's report shows its villages")
    func countyComesBack() async throws {
        let fleet = try await LoudspeakerFleet()
        var speakers = ""
        for index in 1...6 { speakers += "ls-\(index),loudspeaker,43012100100\(index),村大喇叭 \(index),\(fleet.url("back-\(index)")),,\n" }
        let countyPort = PeerProcess.freePort()
        let province = try Self.node(
            "hunan-province", region: "430000", tier: "province", port: PeerProcess.freePort(),
            recipients: "changsha-county,nodes,430121,长沙县预警信息发布中心,http://127.0.0.1:\(countyPort),,\n", upstream: nil)
        // Retries a second apart at most, so the test need not wait out the default minute.
        let text = try String(contentsOfFile: province.config, encoding: .utf8).replacingOccurrences(
            of: "    nodes:\n      adapter: cascade\n",
            with: "    nodes:\n      adapter: cascade\n      backoff_max_ms: 1000\n      breaker_cooldown_ms: 1000\n")
        try text.write(toFile: province.config, atomically: true, encoding: .utf8)
        let provinceKey = try Self.publicKey(config: province.config)
        let county = try Self.node(
            "changsha-county", region: "430121", tier: "county", port: countyPort, recipients: speakers,
            upstream: ("hunan-province", "430000", provinceKey))
        fleet.trust(publicKey: try #require(Data(base64Encoded: try Self.publicKey(config: county.config))))
        let provinceDaemon = try DaemonProcess(config: province.config, directory: province.directory)
        defer { provinceDaemon.stop() }

        func token(_ arguments: [String]) throws -> String { try Binaries.createToken(arguments, config: province.config) }
        let issuer = try token(["--role", "issuer", "--department", "hn-weather", "--name", "省气象台值班员"])
        let leader = try token(["--role", "approver", "--department", "hn-weather", "--name", "带班领导", "--approval-role", "duty-leader"])
        let government = try token(["--role", "approver", "--region", "430000", "--name", "副省长", "--approval-role", "government-leader"])
        let submitted = try provinceDaemon.api(
            "POST", "/v1/warnings", token: issuer, body: TestSupport.fixture("rainstorm-red-province.xml"), type: "application/cap+xml")
        let id = try #require(jsonID(submitted.body))
        #expect(try provinceDaemon.api("POST", "/v1/warnings/\(id)/approve", token: leader).status == 200)
        #expect(try provinceDaemon.api("POST", "/v1/warnings/\(id)/approve", token: government).status == 200)

        // The county is down: the hand-down is retried, not given up.
        try await Task.sleep(for: .seconds(6))
        let waiting = try provinceDaemon.deliveries(of: id, token: issuer)
        #expect(waiting.summary["failed"] == nil && waiting.summary["delivered"] == nil, "\(waiting.summary)")
        #expect((waiting.byRecipient["changsha-county"]?["attempts"] as? Int ?? 0) >= 2)

        let countyDaemon = try DaemonProcess(config: county.config, directory: county.directory)
        defer { countyDaemon.stop() }
        let deadline = Date().addingTimeInterval(60)
        while fleet.uniqueDeliveries < 6 && Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(fleet.uniqueDeliveries == 6 && fleet.repeats == 0, "\(countyDaemon.log)")
        var villages: [[String: Any]] = []
        while Date() < deadline {
            let answer = try provinceDaemon.api("GET", "/v1/warnings/\(id)/report?depth=village", token: issuer)
            let report = try JSONSerialization.jsonObject(with: answer.body) as? [String: Any] ?? [:]
            let countyReport = (report["downstream"] as? [[String: Any]])?.first?["report"] as? [String: Any]
            villages = (countyReport?["tiers"] as? [[String: Any]] ?? []).filter { $0["tier"] as? String == "village" }
            if villages.reduce(0, { $0 + ($1["delivered"] as? Int ?? 0) }) == 6 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(villages.count == 6 && villages.allSatisfy { $0["delivered"] as? Int == 1 }, "\(villages)")
        // And in the province's own rows: six villages reached, the county counted by them.
        let report =
            try JSONSerialization.jsonObject(
                with: try provinceDaemon.api("GET", "/v1/warnings/\(id)/report?depth=village", token: issuer).body) as? [String: Any]
        let own = (report?["tiers"] as? [[String: Any]] ?? [])
        #expect(own.filter { ($0["region"] as? String)?.count == 12 && $0["delivered"] as? Int == 1 }.count == 6, "\(own)")
        #expect(own.first { $0["region"] as? String == "430121" }?["targeted"] as? Int == 6)
    }
}
