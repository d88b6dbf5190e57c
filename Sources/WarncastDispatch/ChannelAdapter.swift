import Foundation
import WarncastCore
import WarncastNet

/// What every adapter gets to build its request from: the released warning, its CAP XML,
/// and the text a person hears or reads. Built once per warning and shared by reference by
/// all its deliveries.
public final class OutgoingMessage: Sendable {
    public let warning: Warning
    /// CAP 1.2 XML, whichever format the warning arrived in.
    public let cap: Data
    /// Headline and instruction, for broadcast and SMS.
    public let text: String
    /// Adapters' per-warning work, done once and shared by every delivery of the warning
    /// (for the loudspeaker adapter: the JSON of the fields all terminals get alike).
    public let prepared: [String: String]

    public init(warning: Warning, preparedBy adapter: (any ChannelAdapter)? = nil) {
        let cap = CAPWriter.xml(warning.alert)
        let info = warning.alert.info.first
        let text = [info?.headline, info?.instruction].compactMap { $0 }.joined(separator: "。")
        self.warning = warning
        self.cap = cap
        self.text = text
        prepared = adapter?.prepare(warning: warning, cap: cap, text: text) ?? [:]
    }
}

/// One way of reaching recipients: builds the request for a delivery and reads what the
/// response means. The dispatcher signs, sends, retries and records; adapters know nothing
/// of that, and the dispatcher knows nothing of any adapter.
public protocol ChannelAdapter: Sendable {
    /// Work that is the same for every delivery of a message, done once per warning;
    /// the result is handed back in `message.prepared`.
    func prepare(warning: Warning, cap: Data, text: String) -> [String: String]

    /// The unsigned request for `job`; the dispatcher adds the signature and idempotency headers.
    func request(for job: DeliveryJob, message: OutgoingMessage) throws -> HTTPRequestSpec

    /// What an answer means for the delivery.
    func outcome(of result: HTTPResult) -> DeliveryOutcome
}

extension ChannelAdapter {
    public func prepare(warning: Warning, cap: Data, text: String) -> [String: String] { [:] }

    /// The usual reading of HTTP statuses: 2xx taken, 408 / 429 / 5xx worth retrying, any
    /// other status a refusal.
    public func standardOutcome(of result: HTTPResult, acknowledged: Bool) -> DeliveryOutcome {
        switch result.status {
        case 200..<300: acknowledged ? .delivered : .accepted
        case 408, 429, 500...599: .retry("HTTP \(result.status)")
        default: .failed("HTTP \(result.status)")
        }
    }
}

/// The adapters this build knows, by the name the configuration uses.
public enum AdapterCatalogue {
    public static func make(_ name: String) -> (any ChannelAdapter)? {
        switch name {
        case "loudspeaker": LoudspeakerAdapter()
        default: nil
        }
    }

    public static let names = ["loudspeaker"]
}
