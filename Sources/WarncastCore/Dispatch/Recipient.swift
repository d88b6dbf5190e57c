/// Someone or something a warning is delivered to: a village loudspeaker, an SMS group, an
/// email list, a lower-tier node. The channel names the adapter; `address` and `options`
/// mean what that adapter needs (a URL, a phone number, a mailbox …).
public struct Recipient: Sendable, Codable, Equatable {
    public var id: String
    /// Channel name from the configuration, e.g. `loudspeaker`.
    public var channel: String
    /// Where it is: a village, township, county … A warning reaches the recipients whose
    /// region lies within one of its areas.
    public var region: RegionCode
    public var name: String
    /// URL, phone number or mailbox, by channel.
    public var address: String
    /// Channel-specific settings, e.g. `language=zh-CN`, `repeat=3`.
    public var options: [String: String]

    public init(id: String, channel: String, region: RegionCode, name: String, address: String, options: [String: String] = [:]) {
        self.id = id
        self.channel = channel
        self.region = region
        self.name = name
        self.address = address
        self.options = options
    }
}

/// Where one delivery stands. Every change is timestamped.
public enum DeliveryState: String, Sendable, Codable, CaseIterable {
    /// Planned, waiting for its turn (or its next retry).
    case queued
    /// Leased by a dispatcher; a request is on its way.
    case sending
    /// The gateway or endpoint took it; its acknowledgement is still to come.
    case accepted
    /// The recipient acknowledged it.
    case delivered
    /// A terminal reported broadcasting it (start, end, times played): heard, not only
    /// received. Comes after `delivered`, and counts as delivered wherever reach is counted.
    case played
    /// Given up: a permanent refusal, or every attempt failed.
    case failed
    /// The warning expired before it could be delivered.
    case expired
    /// A newer message of the same warning (Update or Cancel) replaced it before it went out.
    case superseded

    /// No further change will happen.
    public var isFinal: Bool { [.delivered, .played, .failed, .expired, .superseded].contains(self) }

    /// The recipient has it: delivered, or played after that.
    public var isReached: Bool { self == .delivered || self == .played }
}
