import Foundation
import WarncastCore
import Yams

/// Reads and validates a YAML configuration file.
public enum ConfigLoader {
    public static func load(path: String) throws(ConfigError) -> WarncastConfiguration {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        let text: String
        do {
            text = try TextFile.utf8(absolute)
        } catch {
            throw ConfigError(file: path, key: "", reason: error.reason)
        }
        return try parse(text, file: absolute)
    }

    /// Parses YAML `text` as if read from `file` (which anchors relative paths).
    public static func parse(_ text: String, file: String) throws(ConfigError) -> WarncastConfiguration {
        let root: Yams.Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ConfigError(file: file, key: "", reason: "the file is empty")
            }
            root = node
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(file: file, key: "", reason: "not valid YAML: \(error)")
        }
        let base = URL(fileURLWithPath: file).deletingLastPathComponent()
        let reader = try ConfigSection(root, path: "", file: file)
        return try ConfigBuilder(file: file, base: base).build(reader)
    }
}

/// Turns the sections of the file into `WarncastConfiguration`, one named step per section.
struct ConfigBuilder {
    let file: String
    let base: URL

    func build(_ root: ConfigSection) throws(ConfigError) -> WarncastConfiguration {
        let server = try root.section("server")
        let store = try root.section("store")
        let node = try root.section("node")
        let registries = try root.section("registries")
        let logging = try root.optionalSection("logging")
        let events = try self.events(root.list("events"), codeNames: try root.optionalStringList("event_code_names"))
        let configuration = WarncastConfiguration(
            file: file,
            server: try self.server(server),
            store: .init(
                dataDirectory: resolve(try store.string("data_dir")),
                retentionDays: try store.optionalInt("retention_days", range: 0...36_500) ?? 0),
            node: try self.node(node),
            registries: try self.registries(registries),
            events: events,
            approval: try ApprovalConfigBuilder(catalogue: events).build(root.section("approval")),
            dispatch: try DispatchConfigBuilder(catalogue: events, base: base).build(root.section("dispatch")),
            logLevel: try logging?.optionalString("level", allowed: Self.logLevels) ?? "info",
            cascade: try self.cascade(try root.optionalSection("cascade")),
            timeliness: try self.timeliness(try root.optionalSection("timeliness")),
            notify: try self.notify(try root.optionalSection("notify")))
        for section in [server, store, node, registries, root] + [logging].compactMap({ $0 }) {
            try section.rejectUnknownKeys()
        }
        return configuration
    }

    private func notify(_ section: ConfigSection?) throws(ConfigError) -> WarncastConfiguration.Notify {
        guard let section else { return .init() }
        let notify = WarncastConfiguration.Notify(
            contacts: try section.optionalStringList("contacts"),
            minInterval: TimeInterval(try section.optionalInt("min_interval_seconds", range: 0...86_400) ?? 300))
        try section.rejectUnknownKeys()
        return notify
    }

    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    private func server(_ section: ConfigSection) throws(ConfigError) -> WarncastConfiguration.Server {
        let port = try section.optionalInt("port", range: 0...65535) ?? 8080
        let limit = try section.optionalInt("max_body_bytes", range: 1024...(64 << 20)) ?? 256 * 1024
        let publicURL = try section.optionalString("public_url")
        if let publicURL, !(publicURL.hasPrefix("http://") || publicURL.hasPrefix("https://")) {
            throw section.error("public_url", "expected an http:// or https:// URL")
        }
        var server = WarncastConfiguration.Server(
            host: try section.optionalString("host") ?? "127.0.0.1", port: port, maxBodyBytes: limit,
            publicURL: publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 })
        server.idleTimeoutSeconds = try section.optionalInt("idle_timeout_seconds", range: 1...86_400) ?? 120
        for address in try section.optionalStringList("trusted_proxies") {
            guard let canonical = IPAddressText.canonical(address) else {
                throw section.error("trusted_proxies", "'\(address)' is not an IPv4 or IPv6 address (a proxy's own, e.g. 127.0.0.1)")
            }
            server.trustedProxies.append(canonical)
        }
        return server
    }

    /// ```yaml
    /// cascade:
    ///   upstream:
    ///     - { name: hunan-province, region: "430000", public_keys: [base64…], approval: pre-approved }
    /// ```
    private func cascade(_ section: ConfigSection?) throws(ConfigError) -> WarncastConfiguration.Cascade {
        guard let section else { return .init() }
        var upstream: [WarncastConfiguration.Upstream] = []
        for entry in try section.list("upstream") {
            let name = try entry.string("name")
            guard !upstream.contains(where: { $0.name == name }) else {
                throw entry.error("name", "upstream node '\(name)' is listed twice")
            }
            let keys = try entry.strings("public_keys")
            for key in keys where Data(base64Encoded: key)?.count != 32 {
                throw entry.error("public_keys", "'\(key)' is not a base64 Ed25519 public key (32 bytes)")
            }
            let approval =
                try entry.optionalString("approval", allowed: ["pre-approved", "local"])
                .flatMap(WarncastConfiguration.Upstream.Approval.init(rawValue:)) ?? .local
            upstream.append(.init(name: name, region: try entry.region("region"), publicKeys: keys, approval: approval))
            try entry.rejectUnknownKeys()
        }
        try section.rejectUnknownKeys()
        return .init(upstream: upstream)
    }

    /// ```yaml
    /// timeliness:
    ///   red: { approval_minutes: 10, coverage_percent: 95, coverage_minutes: 5 }
    /// ```
    private func timeliness(_ section: ConfigSection?) throws(ConfigError) -> [Level: TimelinessThreshold] {
        guard let section else { return [:] }
        var thresholds: [Level: TimelinessThreshold] = [:]
        for level in Level.allCases where section.has(level.rawValue) {
            let entry = try section.section(level.rawValue)
            thresholds[level] = TimelinessThreshold(
                approval: try entry.optionalInt("approval_minutes", range: 1...10_080).map { TimeInterval($0 * 60) },
                coveragePercent: try entry.optionalInt("coverage_percent", range: 1...100) ?? 95,
                coverage: try entry.optionalInt("coverage_minutes", range: 1...10_080).map { TimeInterval($0 * 60) })
            try entry.rejectUnknownKeys()
        }
        try section.rejectUnknownKeys()
        return thresholds
    }

    private func node(_ section: ConfigSection) throws(ConfigError) -> WarncastConfiguration.Node {
        let region = try section.region("region")
        if let tier = try section.optionalString("tier", allowed: Tier.allCases.map(\.rawValue)),
            tier != region.tier.rawValue
        {
            throw section.error("tier", "is '\(tier)' but region \(region) is a \(region.tier.rawValue)")
        }
        let language = try section.optionalString("language") ?? "zh-CN"
        guard CAPConformance.isLanguageTag(language) else {
            throw section.error("language", "'\(language)' is not a language tag such as zh-CN, mn-Mong or en")
        }
        let zoneName = try section.optionalString("time_zone") ?? "Asia/Shanghai"
        guard let zone = TimeZone(identifier: zoneName) else {
            throw section.error(
                "time_zone", "'\(zoneName)' is not a time zone this machine knows (an IANA name such as Asia/Shanghai; Debian's tzdata)")
        }
        let name = try section.string("name")
        return .init(
            name: name, region: region, language: language, title: try section.optionalString("title") ?? name, timeZone: zone)
    }

    private func registries(_ section: ConfigSection) throws(ConfigError) -> WarncastConfiguration.Registries {
        var sources: [WarncastConfiguration.RegionSource] = []
        for entry in try section.list("regions") {
            let path = resolve(try entry.string("file"))
            let within = try entry.has("within") ? entry.region("within") : nil
            try entry.rejectUnknownKeys()
            guard FileManager.default.fileExists(atPath: path) else {
                throw entry.error("file", "no such file: \(path)")
            }
            sources.append(.init(path: path, within: within))
        }
        var departments: String?
        if let path = try section.optionalString("departments").map(resolve) {
            guard FileManager.default.fileExists(atPath: path) else {
                throw section.error("departments", "no such file: \(path)")
            }
            departments = path
        }
        var recipients: String?
        if let path = try section.optionalString("recipients").map(resolve) {
            guard FileManager.default.fileExists(atPath: path) else {
                throw section.error("recipients", "no such file: \(path)")
            }
            recipients = path
        }
        return .init(regions: sources, departments: departments, recipients: recipients)
    }

    private func events(_ entries: [ConfigSection], codeNames: [String]) throws(ConfigError) -> EventCatalogue {
        var events: [EventType] = []
        for entry in entries {
            let code = try entry.string("code")
            guard !events.contains(where: { $0.code == code }) else {
                throw entry.error("code", "event '\(code)' is defined twice")
            }
            events.append(
                EventType(
                    code: code, names: try entry.strings("names"), kinds: try entry.strings("kinds"),
                    codes: try entry.optionalStringList("codes")))
            try entry.rejectUnknownKeys()
        }
        return EventCatalogue(events, codeNames: codeNames)
    }

    private func resolve(_ path: String) -> String { resolvePath(path, against: base) }
}

/// `path` if absolute, else relative to the configuration file's directory.
func resolvePath(_ path: String, against base: URL) -> String {
    if path.hasPrefix("/") { return path }
    return base.appendingPathComponent(path).standardizedFileURL.path
}
