import Foundation
import WarncastCore
import WarncastNet

/// What an adapter is built from: its channel's `settings` from the configuration, and
/// how gateways report back to this node.
public struct AdapterContext: Sendable {
    public var channel: String
    public var settings: [String: String]
    /// This node's base URL as gateways reach it (e.g. `http://127.0.0.1:8080`) and the
    /// tokens that authenticate reports.
    public var callbacks: CallbackSettings
    /// For adapters that sign inside the message (email); others are signed by the dispatcher.
    public var signer: MessageSigner?
    /// The daemon's clock, for adapters that stamp times into messages.
    public var now: @Sendable () -> Date

    public init(
        channel: String, settings: [String: String] = [:], callbacks: CallbackSettings, signer: MessageSigner? = nil,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.now = now
        self.channel = channel
        self.settings = settings
        self.callbacks = callbacks
        self.signer = signer
    }

    /// A setting the adapter cannot work without.
    public func required(_ key: String) throws(AdapterSettingError) -> String {
        guard let value = settings[key], !value.isEmpty else {
            throw AdapterSettingError(channel: channel, key: key, reason: "is required")
        }
        return value
    }

    /// A comma-separated list of http(s) URLs (`fallback_urls`), empty when absent.
    public func urls(_ key: String, describing what: String) throws(AdapterSettingError) -> [String] {
        let list = (settings[key] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for url in list where !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
            throw AdapterSettingError(channel: channel, key: key, reason: "'\(url)' is not the http(s) URL of \(what)")
        }
        return list
    }

    /// A whole-number setting within `range`, or `fallback` when absent.
    public func integer(_ key: String, _ range: ClosedRange<Int>, default fallback: Int) throws(AdapterSettingError) -> Int {
        guard let text = settings[key] else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw AdapterSettingError(
                channel: channel, key: key, reason: "expected a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// Settings the adapter does not know are refused, so a misspelt one is not silently ignored.
    public func rejectUnknown(except known: Set<String>, prefixes: [String] = []) throws(AdapterSettingError) {
        for key in settings.keys.sorted() where !known.contains(key) && !prefixes.contains(where: key.hasPrefix) {
            throw AdapterSettingError(
                channel: channel, key: key, reason: "unknown setting (known: \(known.sorted().joined(separator: ", ")))")
        }
    }

    /// The URL a gateway calls to report on delivery `id`: `path` on this node with the
    /// delivery's id and its token.
    public func callbackURL(_ path: String, deliveryID id: Int64) -> String {
        "\(callbacks.base)\(path)?d=\(id)&t=\(callbacks.tokens.token(forDelivery: id))"
    }
}

/// A channel setting that is missing or wrong; the daemon refuses to start with it.
public struct AdapterSettingError: Error, CustomStringConvertible {
    public var channel: String
    public var key: String
    public var reason: String

    public init(channel: String, key: String, reason: String) {
        self.channel = channel
        self.key = key
        self.reason = reason
    }

    public var description: String { "dispatch.channels.\(channel).settings.\(key): \(reason)" }
}
