import Foundation
import WarncastCore

/// Reads the `dispatch` section: routing by level, channels, signing key and TLS.
///
/// ```yaml
/// dispatch:
///   signing_key_file: ../data/signing-keys.json
///   routing:
///     red: [loudspeaker]
///     events: { heat: { yellow: [] } }
///   gateways:
///     kannel: { rate_per_second: 50 }
///   channels:
///     loudspeaker: { adapter: loudspeaker, concurrency: 256 }
///     sms-duty: { adapter: kannel, gateway: kannel, settings: { url: …, username: …, password: … } }
///   terminals: { heartbeat_seconds: 20, offline_after: 3 }
/// ```
struct DispatchConfigBuilder {
    let catalogue: EventCatalogue
    let base: URL

    func build(_ section: ConfigSection) throws(ConfigError) -> WarncastConfiguration.Dispatch {
        var gateways: [String: Int] = [:]
        if let gatewaySection = try section.optionalSection("gateways") {
            for name in gatewaySection.keys {
                let gateway = try gatewaySection.section(name)
                guard let rate = try gateway.optionalInt("rate_per_second", range: 1...1_000_000) else {
                    throw gateway.error("rate_per_second", "is required")
                }
                gateways[name] = rate
                try gateway.rejectUnknownKeys()
            }
        }
        var channels: [String: WarncastConfiguration.Channel] = [:]
        let channelSection = try section.section("channels")
        for name in channelSection.keys {
            channels[name] = try channel(name, try channelSection.section(name), gateways: Set(gateways.keys))
        }
        // Which channels cover the divisions inside their recipients' own (lower-tier nodes)
        // is the adapters' to say; the dispatcher's registry fills `routing.covering` in.
        var routing = try self.routing(try section.section("routing"), channels: Set(channels.keys))
        if let terminals = try section.optionalSection("terminals") {
            routing.terminals.heartbeatSeconds = try terminals.optionalInt("heartbeat_seconds", range: 1...3600) ?? 20
            routing.terminals.missedBeats = try terminals.optionalInt("offline_after", range: 1...100) ?? 3
            try terminals.rejectUnknownKeys()
        }
        let keyFile = resolvePath(try section.string("signing_key_file"), against: base)
        let tls = try self.tls(try section.optionalSection("tls"))
        var retryUntilExpiry: Set<Level> = [.red, .orange]
        if section.has("retry_until_expiry") {
            retryUntilExpiry = []
            for name in try section.optionalStringList("retry_until_expiry") {
                guard let level = Level(rawValue: name) else {
                    throw section.error("retry_until_expiry", "unknown level '\(name)' (blue, yellow, orange, red)")
                }
                retryUntilExpiry.insert(level)
            }
        }
        try section.rejectUnknownKeys()
        var dispatch = WarncastConfiguration.Dispatch(
            routing: routing, channels: channels, signingKeyFile: keyFile, tls: tls, gateways: gateways)
        dispatch.retryUntilExpiry = retryUntilExpiry
        return dispatch
    }

    private func channel(
        _ name: String, _ section: ConfigSection, gateways: Set<String>
    ) throws(ConfigError) -> WarncastConfiguration.Channel {
        let gateway = try section.optionalString("gateway")
        if let gateway, !gateways.contains(gateway) {
            throw section.error("gateway", "unknown gateway '\(gateway)' (dispatch.gateways: \(gateways.sorted().joined(separator: ", ")))")
        }
        var settings: [String: String] = [:]
        if let settingSection = try section.optionalSection("settings") {
            for key in settingSection.keys {
                settings[key] = try settingSection.optionalScalar(key)
            }
        }
        // Whether an adapter of this name exists is checked when the dispatcher is built.
        let adapter = AdapterKind(rawValue: try section.string("adapter"))
        let channel = WarncastConfiguration.Channel(
            name: name, adapter: adapter,
            concurrency: try section.optionalInt("concurrency", range: 1...10_000) ?? 256,
            ratePerSecond: try section.optionalInt("rate_per_second", range: 0...1_000_000) ?? 0,
            connectTimeoutMilliseconds: try section.optionalInt("connect_timeout_ms", range: 10...120_000) ?? 3000,
            timeoutMilliseconds: try section.optionalInt("timeout_ms", range: 10...600_000) ?? 10_000,
            retry: RetryPolicy(
                maxAttempts: try section.optionalInt("max_attempts", range: 1...100) ?? 6,
                initialDelay: Double(try section.optionalInt("backoff_initial_ms", range: 1...3_600_000) ?? 1000) / 1000,
                maxDelay: Double(try section.optionalInt("backoff_max_ms", range: 1...86_400_000) ?? 60_000) / 1000),
            breakerFailures: try section.optionalInt("breaker_failures", range: 1...1000) ?? 5,
            breakerCooldown: Double(try section.optionalInt("breaker_cooldown_ms", range: 1...3_600_000) ?? 30_000) / 1000,
            settings: settings, gateway: gateway)
        try section.rejectUnknownKeys()
        return channel
    }

    private func routing(_ section: ConfigSection, channels: Set<String>) throws(ConfigError) -> DeliveryRouting {
        var byLevel: [Level: [String]] = [:]
        for level in Level.allCases where section.has(level.rawValue) {
            byLevel[level] = try names(section, level.rawValue, channels: channels)
        }
        var byEvent: [String: [Level: [String]]] = [:]
        if let events = try section.optionalSection("events") {
            for event in events.keys {
                guard catalogue.event(code: event) != nil else {
                    throw events.error(event, "unknown event type '\(event)'")
                }
                let levels = try events.section(event)
                var overrides: [Level: [String]] = [:]
                for level in Level.allCases where levels.has(level.rawValue) {
                    overrides[level] = try names(levels, level.rawValue, channels: channels)
                }
                try levels.rejectUnknownKeys()
                byEvent[event] = overrides
            }
        }
        try section.rejectUnknownKeys()
        return DeliveryRouting(byLevel: byLevel, byEvent: byEvent)
    }

    /// A list of channel names, possibly empty, each one configured.
    private func names(_ section: ConfigSection, _ key: String, channels: Set<String>) throws(ConfigError) -> [String] {
        let list = try section.optionalStringList(key)
        for name in list where !channels.contains(name) {
            throw section.error(key, "unknown channel '\(name)' (configured: \(channels.sorted().joined(separator: ", ")))")
        }
        return list
    }

    private func tls(_ section: ConfigSection?) throws(ConfigError) -> WarncastConfiguration.TLS {
        guard let section else { return .init(verify: true) }
        let tls = WarncastConfiguration.TLS(
            verify: try section.optionalBool("verify") ?? true,
            caBundle: try section.optionalString("ca_bundle").map { resolvePath($0, against: base) },
            clientCertificate: try section.optionalString("client_certificate").map { resolvePath($0, against: base) },
            clientKey: try section.optionalString("client_key").map { resolvePath($0, against: base) })
        try section.rejectUnknownKeys()
        return tls
    }
}
