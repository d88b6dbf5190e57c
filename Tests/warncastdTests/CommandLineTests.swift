import Foundation
import Testing
import WarncastNet
import WarncastTestSupport

/// The CLI as a new operator meets it: where it finds the daemon, what it says about a bad
/// file or a mistyped command, one recipient at a time, a large import.
@Suite("warncast on the command line", .serialized, .ownThreads)
struct CommandLineTests {
    @Test("API commands find warncastd at the configuration's server.host and server.port; --url still overrides")
    func addressFromConfiguration() throws {
        let directory = try TestSupport.temporaryDirectory()
        let config = try testConfiguration(in: directory)
        let port = PeerProcess.freePort()
        let text = try String(contentsOfFile: config, encoding: .utf8)
            .replacingOccurrences(of: "port: 0", with: "port: \(port)")
            .replacingOccurrences(of: "host: 127.0.0.1", with: "host: 0.0.0.0")
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try DaemonProcess(config: config, directory: directory)
        defer { daemon.stop() }
        let token = try Binaries.createToken(["--role", "auditor", "--region", "430000", "--name", "审计员"], config: config)
        let listed = try Binaries.warncast(["warnings", "list", "--token", token], config: config)
        #expect(listed.status == 0, "\(listed.out)\(listed.err)")
        #expect(listed.out.contains(#""warnings""#))
        let elsewhere = try Binaries.warncast(["warnings", "list", "--token", token, "--url", "http://127.0.0.1:9"], config: config)
        #expect(elsewhere.status != 0 && elsewhere.err.contains("cannot reach warncastd at http://127.0.0.1:9"), "\(elsewhere.err)")
        // A configuration that lets the daemon pick its port cannot say where it is.
        let picked = try testConfiguration(in: TestSupport.temporaryDirectory())
        let unknown = try Binaries.warncast(["warnings", "list", "--token", token], config: picked)
        #expect(unknown.status != 0 && unknown.err.contains("server.port: 0"), "\(unknown.err)")
        // Help says which configuration is in use.
        let help = try Binaries.warncast(["--help"], config: config)
        let unwrapped = help.out.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(unwrapped.contains("Configuration in use: \(config), from $WARNCAST_CONFIG"), "\(help.out)")
    }

    @Test("console accounts: added with a password from standard input, listed, refused twice, changed, removed")
    func consoleUsers() throws {
        let directory = try TestSupport.temporaryDirectory()
        let config = try testConfiguration(in: directory)
        // The daemon loads the registries the accounts name.
        let daemon = try DaemonProcess(config: config, directory: directory)
        defer { daemon.stop() }
        let add = [
            "users", "add", "li4", "--role", "approver", "--department", "csx-weather", "--approval-role", "duty-leader", "--name",
            "带班领导 李四",
        ]
        let short = try Binaries.warncast(add, config: config, input: "short\n")
        #expect(short.status != 0 && short.err.contains("at least 10 characters"), "\(short.err)")
        let noRole = try Binaries.warncast(
            ["users", "add", "li4", "--role", "approver", "--department", "csx-weather", "--name", "x"], config: config,
            input: "long enough pw\n")
        #expect(noRole.status != 0 && noRole.err.contains("--approval-role"), "\(noRole.err)")
        let added = try Binaries.warncast(add, config: config, input: "leader one password\n")
        #expect(added.status == 0 && added.out.contains("li4: approver in 430121"), "\(added.err)")
        let twice = try Binaries.warncast(add, config: config, input: "leader one password\n")
        #expect(twice.status != 0 && twice.err.contains("--replace"), "\(twice.err)")
        let listed = try Binaries.warncast(["users", "list"], config: config)
        #expect(listed.out == "li4\tapprover\tduty-leader\tcsx-weather\t430121\t带班领导 李四\n")
        #expect(try Binaries.warncast(["users", "password", "li4"], config: config, input: "a new password\n").status == 0)
        #expect(try Binaries.warncast(["users", "remove", "li4"], config: config).out == "removed li4\n")
        let gone = try Binaries.warncast(["users", "remove", "li4"], config: config)
        #expect(gone.status != 0 && gone.err.contains("no account 'li4'"), "\(gone.err)")
        #expect(try Binaries.warncast(["users", "list"], config: config).out.isEmpty)
    }

    @Test("a mistyped command, a missing file, a directory and broken XML are each said in words")
    func plainErrors() throws {
        let directory = try TestSupport.temporaryDirectory()
        let config = try testConfiguration(in: directory)
        let unknown = try Binaries.warncast(["warnigns", "list"], config: config)
        #expect(unknown.status == 64)
        #expect(unknown.err.contains("unknown command 'warncast warnigns'") && unknown.err.contains("warnings"), "\(unknown.err)")
        let nested = try Binaries.warncast(["warnings", "histroy", "x"], config: config)
        #expect(nested.status == 64 && nested.err.contains("unknown command 'warncast warnings histroy'"), "\(nested.err)")

        let missing = directory.appendingPathComponent("no-such-warning.xml").path
        let submitted = try Binaries.warncast(
            ["warnings", "submit", missing, "--token", "x", "--url", "http://127.0.0.1:9"], config: config)
        #expect(submitted.status != 0 && submitted.err.contains("\(missing): no such file"), "\(submitted.err)")
        let imported = try Binaries.warncast(["recipients", "import", directory.path], config: config)
        #expect(imported.status != 0 && imported.err.contains("\(directory.path): is a directory"), "\(imported.err)")
        let noConfig = try Binaries.warncast(["recipients", "list", "--config", missing], config: config)
        #expect(noConfig.status != 0 && noConfig.err.contains("no such file"), "\(noConfig.err)")
        for output in [submitted.err, imported.err, noConfig.err] {
            #expect(!output.contains("NSCocoaErrorDomain") && !output.contains("UserInfo"), "\(output)")
        }

        let daemon = try DaemonProcess(config: config, directory: directory)
        defer { daemon.stop() }
        let token = try Binaries.createToken(["--role", "issuer", "--department", "csx-weather", "--name", "值班员"], config: config)
        let broken = directory.appendingPathComponent("broken.xml")
        try Data("<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\"><identifier>x</identifier>".utf8).write(to: broken)
        let refused = try Binaries.warncast(["warnings", "submit", broken.path, "--url", daemon.url, "--token", token], config: config)
        #expect(refused.status != 0)
        #expect(!refused.out.contains("NSXMLParserErrorDomain"), "\(refused.out)")
        #expect(refused.out.contains("line 1, column"), "\(refused.out)")
    }

    @Test("a CLI write is audited as the account it runs as, whatever $USER says, and with who ran sudo when sudo did")
    func auditedAccount() throws {
        let directory = try TestSupport.temporaryDirectory()
        let config = try testConfiguration(in: directory)
        // The daemon's first start loads the region registry the token is scoped by.
        try DaemonProcess(config: config, directory: directory).stop()
        let account = try #require(getpwuid(getuid()).flatMap { $0.pointee.pw_name.map { String(cString: $0) } })
        func actor(_ environment: [String: String], name: String) throws -> String? {
            let made = try Binaries.warncast(
                ["token", "create", "--role", "auditor", "--region", "430121", "--name", name], config: config, environment: environment)
            #expect(made.status == 0, "\(made.err)")
            let listed = try Binaries.warncast(["audit", "list"], config: config).out
            let line = listed.split(separator: "\n").last { $0.contains("token.created") && $0.contains(name) }
            return line.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }?["actor"] as? String
        }
        #expect(try actor(["USER": "mallory", "SUDO_USER": ""], name: "审计一") == "cli:\(account)")
        // Through sudo (to root, or `sudo -u warncast` to the service account): both names.
        #expect(try actor(["USER": "mallory", "SUDO_USER": "alice"], name: "审计二") == "cli:\(account) (sudo: alice)")
    }

    @Test(
        "run as root, the CLI leaves the daemon's files to the daemon's user: a new store and keyring take the state directory's owner, a rotated keyring and an existing store keep theirs",
        .enabled(if: geteuid() == 0, "giving files to another user needs root")
    )
    func rootKeepsOwners() throws {
        let directory = try TestSupport.temporaryDirectory()
        let config = try testConfiguration(in: directory)
        let data = directory.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        // The state directory as systemd makes it for the unit's user (a uid with no name
        // will do); the CLI runs as root.
        let daemonUser: uid_t = 4242
        let other: uid_t = 4343
        try #require(chown(data.path, daemonUser, daemonUser) == 0)
        func owner(_ name: String) throws -> (uid: uid_t, gid: gid_t, mode: Int) {
            let info = try FileManager.default.attributesOfItem(atPath: data.appendingPathComponent(name).path)
            let uid = try #require((info[.ownerAccountID] as? NSNumber)?.uint32Value)
            let gid = try #require((info[.groupOwnerAccountID] as? NSNumber)?.uint32Value)
            return (uid, gid, try #require((info[.posixPermissions] as? NSNumber)?.intValue))
        }

        let generated = try Binaries.warncast(["keys", "generate"], config: config)
        try #require(generated.status == 0, "\(generated.err)")
        #expect(try owner("signing-keys.json") == (daemonUser, daemonUser, 0o600), "a new keyring is the daemon user's")
        #expect(try owner("warncast.sqlite") == (daemonUser, daemonUser, 0o600), "a new store is the daemon user's")

        try #require(chown(data.appendingPathComponent("signing-keys.json").path, other, other) == 0)
        try #require(chown(data.appendingPathComponent("warncast.sqlite").path, other, other) == 0)
        let rotated = try Binaries.warncast(["keys", "rotate"], config: config)
        try #require(rotated.status == 0, "\(rotated.err)")
        #expect(try owner("signing-keys.json") == (other, other, 0o600), "a rotated keyring keeps its owner")
        #expect(try owner("warncast.sqlite").uid == other, "an existing store keeps its owner")
        let shown = try Binaries.warncast(["keys", "show"], config: config)
        #expect(shown.status == 0 && shown.out.contains("retired"), "\(shown.out)")
    }

    @Test("history lists who did what to a warning; one recipient is added, replaced and removed, and the API removes one too")
    func historyAndOneRecipient() throws {
        let directory = try TestSupport.temporaryDirectory()
        let config = try testConfiguration(in: directory)
        let daemon = try DaemonProcess(config: config, directory: directory)
        defer { daemon.stop() }
        let issuer = try Binaries.createToken(["--role", "issuer", "--department", "csx-weather", "--name", "值班员 张三"], config: config)
        let submitted = try daemon.api(
            "POST", "/v1/warnings", token: issuer, body: TestSupport.fixture("rainstorm-red-csx.xml"), type: "application/cap+xml")
        let id = try #require(jsonID(submitted.body))
        let history = try Binaries.warncast(["warnings", "history", id, "--url", daemon.url, "--token", issuer], config: config)
        #expect(history.status == 0, "\(history.err)")
        #expect(history.out.hasPrefix("TIME\tWHO\tWHAT\tDETAIL"))
        #expect(history.out.contains("warning.accepted") && history.out.contains("值班员 张三"), "\(history.out)")

        func cli(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
            try Binaries.warncast(["recipients"] + arguments, config: config)
        }
        let added = try cli([
            "add", "ls-new-1", "--channel", "loudspeaker", "--region", "430121001001", "--name", "新村大喇叭",
            "--address", "http://127.0.0.1:9/speaker", "--options", "language=zh-CN;repeat=2",
        ])
        #expect(added.status == 0 && added.out.contains("added recipient ls-new-1"), "\(added.err)")
        let bad = try cli(["add", "ls-new-2", "--channel", "pager", "--region", "430121001001", "--name", "x", "--address", "y"])
        #expect(bad.status != 0 && bad.err.contains("unknown channel 'pager'"), "\(bad.err)")
        let injected = try cli([
            "add", "ls-new-3", "--channel", "loudspeaker", "--region", "430121001001", "--name", "x", "--address", "a@b>\r\nBcc: c@d",
        ])
        #expect(injected.status != 0 && injected.err.contains("which no address has"), "\(injected.err)")
        let replaced = try cli([
            "add", "ls-new-1", "--channel", "loudspeaker", "--region", "430121001002", "--name", "新村大喇叭",
            "--address", "http://127.0.0.1:9/speaker",
        ])
        #expect(replaced.out.contains("replaced recipient ls-new-1"))
        #expect(try cli(["list", "--region", "430121001002"]).out.contains("ls-new-1"))
        let removed = try cli(["remove", "ls-new-1", "--reason", "设备拆除"])
        #expect(removed.status == 0 && removed.out.contains("removed recipient ls-new-1"), "\(removed.err)")
        #expect(!(try cli(["list"]).out.contains("ls-new-1")))
        #expect(try cli(["remove", "ls-new-1"]).err.contains("no recipient 'ls-new-1'"))

        // Over the API: an operator of the county removes one of its own, not one elsewhere.
        #expect(
            try cli(["add", "ls-api", "--channel", "loudspeaker", "--region", "430121001001", "--name", "a", "--address", "b"]).status == 0)
        #expect(
            try cli(["add", "ls-far", "--channel", "loudspeaker", "--region", "430102001001", "--name", "c", "--address", "d"]).status == 0)
        let operatorToken = try Binaries.createToken(["--role", "operator", "--region", "430121", "--name", "县运维"], config: config)
        let far = try daemon.api("DELETE", "/v1/recipients/ls-far", token: operatorToken)
        #expect(far.status == 403 && String(decoding: far.body, as: UTF8.self).contains("recipient_out_of_scope"))
        let near = try daemon.api("DELETE", "/v1/recipients/ls-api", token: operatorToken)
        #expect(near.status == 200 && String(decoding: near.body, as: UTF8.self).contains(#""removed":true"#))
        #expect(try daemon.api("DELETE", "/v1/recipients/ls-api", token: operatorToken).status == 404)
        // Added back after its removal: in planning again, and on record as a change.
        #expect(
            try cli([
                "add", "ls-new-1", "--channel", "loudspeaker", "--region", "430121001002", "--name", "新村大喇叭", "--address",
                "http://127.0.0.1:9/speaker",
            ])
            .status == 0)
        let audit = try Binaries.warncast(["audit", "list", "--limit", "1000"], config: config).out
        #expect(audit.contains(#""action":"recipient.removed""#) && audit.contains("设备拆除"))
        let entries = audit.split(separator: "\n").filter { $0.contains("ls-new-1") }
        #expect(entries.contains { $0.contains(#""action":"recipient.added""#) && $0.contains("430121001001") }, "who put it where")
        #expect(entries.contains { $0.contains(#""action":"recipient.changed""#) && $0.contains("active.new") }, "\(entries)")
    }

    @Test("an import streams: 50,000 rows with a progress line, and one bad row (or a repeated id) imports nothing")
    func largeImport() throws {
        let directory = try TestSupport.temporaryDirectory()
        let config = try testConfiguration(in: directory)
        let file = directory.appendingPathComponent("recipients.csv")
        var csv = "id,channel,region,name,address,secret,options\n"
        for index in 0..<50_000 {
            csv +=
                "ls-\(index),loudspeaker,430121001\(String(format: "%03d", index % 10 + 1)),大喇叭 \(index),http://10.1.0.1/s/\(index),s\(index),repeat=3\n"
        }
        try csv.write(to: file, atomically: true, encoding: .utf8)
        let imported = try Binaries.warncast(["recipients", "import", file.path], config: config, timeout: 300)
        #expect(imported.status == 0, "\(imported.err)")
        #expect(imported.out.contains("imported 50000 recipient(s)"))
        #expect(imported.err.contains("read 50000 row(s)") && imported.err.contains("rows/s") && imported.err.contains("0 rejected"))

        // Two bad rows and a repeated id: reported with their lines, and nothing changes.
        let broken = directory.appendingPathComponent("broken.csv")
        try
            (csv.replacingOccurrences(of: "ls-7,loudspeaker,", with: "ls-7,pager,")
            .replacingOccurrences(of: ",大喇叭 3,", with: ",大喇叭 3 改,")
            .replacingOccurrences(of: "ls-9,loudspeaker,430121001010", with: "ls-9,loudspeaker,43x")
            + "ls-5,loudspeaker,430121001001,again,http://10.1.0.1/again,,\n").write(to: broken, atomically: true, encoding: .utf8)
        let refused = try Binaries.warncast(["recipients", "import", broken.path], config: config, timeout: 300)
        #expect(refused.status != 0)
        #expect(refused.err.contains("3 bad row(s); nothing was imported"), "\(refused.err)")
        #expect(refused.err.contains(":9: unknown channel 'pager'") && refused.err.contains(":11: '43x' is not a division code"))
        #expect(refused.err.contains(":50002: duplicate id ls-5"), "\(refused.err)")
        let list = try Binaries.warncast(["recipients", "list", "--limit", "1"], config: config)
        #expect(list.out.contains("50000 in all"))
        // The good rows of the refused file were not saved either: ls-3 kept its name.
        let three = try Binaries.warncast(["recipients", "list", "--region", "430121001004", "--limit", "10000"], config: config)
        #expect(three.out.contains("ls-3\tloudspeaker\t430121001004\t大喇叭 3\t"), "\(three.out.prefix(300))")
        #expect(!three.out.contains("大喇叭 3 改"))
    }

    @Test(
        "a recipient removed with the CLI stays removed when the daemon re-imports its configured file; an explicit import brings it back")
    func removedStaysRemoved() throws {
        let directory = try TestSupport.temporaryDirectory()
        let file = directory.appendingPathComponent("recipients.csv")
        try """
        id,channel,region,name,address,secret,options
        ls-keep,loudspeaker,430121001001,留下的大喇叭,http://10.1.0.1/keep,,
        ls-gone,loudspeaker,430121001002,拆除的大喇叭,http://10.1.0.1/gone,,

        """.write(to: file, atomically: true, encoding: .utf8)
        let config = try testConfiguration(in: directory)
        let text = try String(contentsOfFile: config, encoding: .utf8)
            .replacingOccurrences(of: "  # recipients: recipients.csv", with: "  recipients: \(file.path)")
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        var daemon = try DaemonProcess(config: config, directory: directory)
        #expect(try Binaries.warncast(["recipients", "remove", "ls-gone"], config: config).status == 0)
        daemon.stop()
        daemon = try DaemonProcess(config: config, directory: directory)
        defer { daemon.stop() }
        let listed = try Binaries.warncast(["recipients", "list"], config: config).out
        #expect(listed.contains("ls-keep") && !listed.contains("ls-gone"), "\(listed)")
        #expect(try Binaries.warncast(["recipients", "import", file.path], config: config).status == 0)
        #expect(try Binaries.warncast(["recipients", "list"], config: config).out.contains("ls-gone"))
    }
}
