import Foundation
import WarncastCore
import WarncastNet

/// What every adapter gets to build its request from: the released warning, its CAP XML,
/// and the text a person hears or reads.
public struct OutgoingMessage: Sendable {
    public var warning: Warning
    /// CAP 1.2 XML, whichever format the warning arrived in.
    public var cap: Data
    /// Headline and instruction, for broadcast and SMS.
    public var text: String

    public init(warning: Warning) {
        self.warning = warning
        cap = CAPWriter.xml(warning.alert)
        let info = warning.alert.info.first
        text = [info?.headline, info?.instruction].compactMap { $0 }.joined(separator: "。")
    }
}

/// One way of reaching recipients: builds the request for a delivery and reads what the
/// response means. The dispatcher signs, sends, retries and records; adapters know nothing
/// of that, and the dispatcher knows nothing of any adapter.
public protocol ChannelAdapter: Sendable {
    /// The unsigned request for `job`; the dispatcher adds the signature and idempotency headers.
    func request(for job: DeliveryJob, message: OutgoingMessage) throws -> HTTPRequestSpec

    /// What an answer means for the delivery.
    func outcome(of result: HTTPResult) -> DeliveryOutcome
}

extension ChannelAdapter {
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
