import Foundation
import Testing
import WarncastConfig
import WarncastCore
import WarncastTestSupport

@Suite("Loading the configuration file")
struct ConfigLoaderTests {
    let file = TestSupport.root.appendingPathComponent("config/test.yaml").path

    func exampleText() throws -> String {
        try String(contentsOfFile: TestSupport.exampleConfig, encoding: .utf8)
    }

    @Test("the shipped example loads with its registries and event catalogue")
    func example() throws {
        let configuration = try TestSupport.exampleConfiguration()
        #expect(configuration.server.port == 8080)
        #expect(configuration.server.maxBodyBytes == 256 * 1024)
        #expect(configuration.node.tier == .province)
        #expect(configuration.registries.regions.first?.within == RegionCode("430000"))
        #expect(configuration.registries.regions.allSatisfy { $0.path.hasPrefix("/") })
        #expect(configuration.store.dataDirectory.hasSuffix("/data"))
        #expect(configuration.events.resolve("暴雨")?.code == "rainstorm")
    }

    func error(replacing old: String, with new: String) throws -> ConfigError? {
        let text = try exampleText()
        #expect(text.contains(old))
        do {
            _ = try ConfigLoader.parse(text.replacingOccurrences(of: old, with: new), file: file)
            return nil
        } catch {
            return error
        }
    }

    @Test(
        "errors name the file, the key and what is wrong",
        arguments: [
            ("port: 8080", "port: 99999", "server.port", "expected a whole number"),
            ("port: 8080", "prot: 8080", "server.prot", "unknown key"),
            ("tier: province", "tier: county", "node.tier", "is 'county' but region 430000 is a province"),
            ("region: \"430000\"", "region: \"4300\"", "node.region", "not a division code"),
            ("departments: departments.example.csv", "departments: nowhere.csv", "registries.departments", "no such file"),
            ("  level: info", "  level: chatty", "logging.level", "not one of"),
            ("    kinds: [forestry]", "    kinds: []", "events[9].kinds", "non-empty list"),
            ("  - code: typhoon", "  - code: rainstorm", "events[1].code", "defined twice"),
        ])
    func namedErrors(old: String, new: String, key: String, reason: String) throws {
        let error = try #require(try self.error(replacing: old, with: new))
        #expect(error.file == file)
        #expect(error.key == key)
        #expect(error.reason.contains(reason))
        #expect(error.description.hasPrefix("\(file): \(key): "))
    }

    @Test("a missing section, an empty file and a missing file are reported")
    func missing() throws {
        #expect(try error(replacing: "store:\n  # The SQLite", with: "stor:\n  # The SQLite")?.key == "store")
        #expect(throws: ConfigError(file: file, key: "", reason: "the file is empty")) {
            try ConfigLoader.parse("", file: file)
        }
        #expect(throws: ConfigError.self) { try ConfigLoader.load(path: "/nonexistent/warncast.yaml") }
    }
}

@Suite("The dispatch section")
struct DispatchConfigTests {
    let file = TestSupport.root.appendingPathComponent("config/test.yaml").path

    func parse(_ change: (String) -> String) throws -> WarncastConfiguration {
        try ConfigLoader.parse(change(try String(contentsOfFile: TestSupport.exampleConfig, encoding: .utf8)), file: file)
    }

    @Test("routing by level, narrowed per event, and the channel's limits")
    func routing() throws {
        let configuration = try parse {
            $0.replacingOccurrences(of: "    blue: []\n", with: "    blue: []\n    events:\n      heat:\n        red: []\n")
        }
        let routing = configuration.dispatch.routing
        #expect(routing.channels(level: .red, event: "rainstorm") == ["loudspeaker"])
        #expect(routing.channels(level: .red, event: "heat") == [])
        #expect(routing.channels(level: .orange, event: "heat") == ["loudspeaker"])
        #expect(routing.channels(level: .blue, event: "rainstorm") == [])
        let channel = try #require(configuration.dispatch.channels["loudspeaker"])
        #expect(channel.concurrency == 256 && channel.retry.maxAttempts == 6 && channel.breakerCooldown == 30)
        #expect(configuration.dispatch.tls.verify)
        #expect(configuration.dispatch.signingKeyFile.hasSuffix("/data/signing-keys.json"))
    }

    @Test("a route to an unknown channel or an unknown event is named")
    func unknownNames() throws {
        #expect(throws: ConfigError(file: file, key: "dispatch.routing.red", reason: "unknown channel 'sms' (configured: loudspeaker)")) {
            _ = try parse { $0.replacingOccurrences(of: "    red: [loudspeaker]", with: "    red: [sms]") }
        }
        #expect(throws: ConfigError.self) {
            _ = try parse {
                $0.replacingOccurrences(of: "    blue: []\n", with: "    blue: []\n    events:\n      hail:\n        red: []\n")
            }
        }
    }

    static let smsChannel = """
            sms-duty:
              adapter: kannel
              gateway: kannel
              rate_per_second: 5
              settings:
                url: http://127.0.0.1:13013/cgi-bin/sendsms
                username: warncast
                password: 12345
                dlr_mask: 27

        """

    @Test("a channel's adapter settings and its shared gateway are read; an unknown gateway is named")
    func gatewaysAndSettings() throws {
        let configuration = try parse {
            $0.replacingOccurrences(
                of: "  channels:\n", with: "  gateways:\n    kannel: { rate_per_second: 20 }\n  channels:\n" + Self.smsChannel)
        }
        #expect(configuration.dispatch.gateways == ["kannel": 20])
        let sms = try #require(configuration.dispatch.channels["sms-duty"])
        #expect(sms.gateway == "kannel" && sms.ratePerSecond == 5)
        // Numbers in settings are read as the text they are written as.
        #expect(
            sms.settings == [
                "url": "http://127.0.0.1:13013/cgi-bin/sendsms", "username": "warncast", "password": "12345", "dlr_mask": "27",
            ])
        #expect(
            throws: ConfigError(
                file: file, key: "dispatch.channels.sms-duty.gateway", reason: "unknown gateway 'kannel' (dispatch.gateways: )")
        ) {
            _ = try parse { $0.replacingOccurrences(of: "  channels:\n", with: "  channels:\n" + Self.smsChannel) }
        }
        #expect(throws: ConfigError(file: file, key: "dispatch.gateways.kannel.rate_per_second", reason: "is required")) {
            _ = try parse { $0.replacingOccurrences(of: "  channels:\n", with: "  gateways:\n    kannel: {}\n  channels:\n") }
        }
    }

    @Test("server.public_url must be an http(s) URL; without it, callbacks go to the listener")
    func publicURL() throws {
        let plain = try parse { $0 }
        #expect(plain.server.callbackBase() == "http://127.0.0.1:8080")
        #expect(plain.server.callbackBase(boundPort: 41000) == "http://127.0.0.1:41000")
        let set = try parse {
            $0.replacingOccurrences(of: "  port: 8080\n", with: "  port: 8080\n  public_url: https://warn.example.cn/\n")
        }
        #expect(set.server.callbackBase(boundPort: 41000) == "https://warn.example.cn")
        #expect(throws: ConfigError.self) {
            _ = try parse { $0.replacingOccurrences(of: "  port: 8080\n", with: "  port: 8080\n  public_url: warn.example.cn\n") }
        }
    }

    @Test("server.trusted_proxies takes IP addresses, written one way; anything else is refused naming the key")
    func trustedProxies() throws {
        #expect(try parse { $0 }.server.trustedProxies.isEmpty)
        let set = try parse {
            $0.replacingOccurrences(of: "  port: 8080\n", with: "  port: 8080\n  trusted_proxies: [127.0.0.1, \"0:0:0:0:0:0:0:1\"]\n")
        }
        #expect(set.server.trustedProxies == ["127.0.0.1", "::1"])
        let error = #expect(throws: ConfigError.self) {
            _ = try parse { $0.replacingOccurrences(of: "  port: 8080\n", with: "  port: 8080\n  trusted_proxies: [nginx.local]\n") }
        }
        #expect(error?.key == "server.trusted_proxies", "\(String(describing: error))")
    }

    @Test("red and orange are retried until expiry by default; dispatch.retry_until_expiry changes that and refuses unknown levels")
    func retryUntilExpiry() throws {
        #expect(try TestSupport.exampleConfiguration().dispatch.retryUntilExpiry == [.red, .orange])
        let marker = "  signing_key_file:"
        let onlyRed = try parse { $0.replacingOccurrences(of: marker, with: "  retry_until_expiry: [red]\n" + marker) }
        #expect(onlyRed.dispatch.retryUntilExpiry == [.red])
        #expect(
            throws: ConfigError(
                file: file, key: "dispatch.retry_until_expiry", reason: "unknown level 'crimson' (blue, yellow, orange, red)")
        ) {
            _ = try parse { $0.replacingOccurrences(of: marker, with: "  retry_until_expiry: [crimson]\n" + marker) }
        }
    }
}
