import Foundation
import WarncastCore

/// What an adapter declares about itself, beyond building requests.
public struct AdapterCapabilities: OptionSet, Sendable {
    public let rawValue: Int

    public init(rawValue: Int) {
        self.rawValue = rawValue
    }

    /// Its recipients also get warnings for areas inside their own region, not only those
    /// overlapping it (a lower-tier node serves the whole county).
    public static let coversDivisions = AdapterCapabilities(rawValue: 1)
    /// Its recipients are broadcast terminals: they send heartbeats and playback reports.
    public static let broadcastTerminals = AdapterCapabilities(rawValue: 4)
    /// It sends one request for several deliveries (`BatchChannelAdapter`).
    public static let batches = AdapterCapabilities(rawValue: 2)
}

/// One kind of adapter as the registry knows it: its name, what it can do, how to build it
/// for a channel, and, if its gateway reports back, how to read those reports.
public struct AdapterRegistration: Sendable {
    public var kind: AdapterKind
    public var capabilities: AdapterCapabilities
    public var make: @Sendable (AdapterContext) throws -> any ChannelAdapter
    /// Where its gateway reports back and how those reports read, if it does.
    public var receipts: ReceiptRegistration?

    public init(
        kind: AdapterKind, capabilities: AdapterCapabilities = [],
        make: @escaping @Sendable (AdapterContext) throws -> any ChannelAdapter, receipts: ReceiptRegistration? = nil
    ) {
        self.kind = kind
        self.capabilities = capabilities
        self.make = make
        self.receipts = receipts
    }
}

/// The adapters a daemon can use, by kind. Adding a channel type is one file with its
/// adapter and registration, plus one line in `standard`; nothing else names an adapter.
public struct AdapterRegistry: Sendable {
    private var registrations: [AdapterKind: AdapterRegistration] = [:]

    public init(_ registrations: [AdapterRegistration]) {
        for registration in registrations { self.registrations[registration.kind] = registration }
    }

    /// The adapters of this build.
    public static let standard = AdapterRegistry([
        LoudspeakerAdapter.registration,
        KannelAdapter.registration,
        CarrierSMSAdapter.registration,
        EmailAdapter.registration,
        CascadeAdapter.registration,
    ])

    /// This registry with one more adapter (or one replaced).
    public func adding(_ registration: AdapterRegistration) -> AdapterRegistry {
        var copy = self
        copy.registrations[registration.kind] = registration
        return copy
    }

    public var kinds: [AdapterKind] { registrations.keys.sorted() }

    public func registration(_ kind: AdapterKind) -> AdapterRegistration? { registrations[kind] }

    /// Each channel with its adapter, built from the channel's settings; throws naming the
    /// first channel whose adapter does not exist or whose settings are wrong. Also what
    /// `warncastd --check-config` runs.
    public func adapters(
        for channels: [ChannelSettings], callbacks: CallbackSettings, signer: MessageSigner?
    ) throws -> [(ChannelSettings, any ChannelAdapter)] {
        try channels.sorted { $0.name < $1.name }.map { channel in
            let context = AdapterContext(channel: channel.name, settings: channel.settings, callbacks: callbacks, signer: signer)
            return (channel, try registration(for: channel).make(context))
        }
    }

    /// Every route on which some adapter's gateway reports back, whether or not a channel
    /// uses it yet (a report for a channel that is not configured is answered 404).
    public var receiptRoutes: Set<ReceiptRoute> { Set(registrations.values.compactMap(\.receipts?.route)) }

    /// The delivery-report readers of the channels whose gateways report back, by channel,
    /// each with its route.
    public func receiptReaders(for channels: [ChannelSettings]) throws -> [String: (route: ReceiptRoute, reader: any ReceiptReader)] {
        var readers: [String: (route: ReceiptRoute, reader: any ReceiptReader)] = [:]
        for channel in channels {
            if let receipts = try registration(for: channel).receipts {
                readers[channel.name] = (receipts.route, try receipts.reader(channel.name, channel.settings))
            }
        }
        return readers
    }

    /// `routing` with the channels whose adapters cover divisions marked as covering.
    public func routing(_ routing: DeliveryRouting, channels: [ChannelSettings]) -> DeliveryRouting {
        var routing = routing
        routing.covering = Set(channels.filter { registrations[$0.adapter]?.capabilities.contains(.coversDivisions) == true }.map(\.name))
        routing.terminals.channels = channels.filter { registrations[$0.adapter]?.capabilities.contains(.broadcastTerminals) == true }
            .map(\.name).sorted()
        return routing
    }

    private func registration(for channel: ChannelSettings) throws(DispatchError) -> AdapterRegistration {
        guard let registration = registrations[channel.adapter] else {
            throw DispatchError.unknownAdapter(channel: channel.name, adapter: channel.adapter.rawValue, available: kinds.map(\.rawValue))
        }
        return registration
    }
}
