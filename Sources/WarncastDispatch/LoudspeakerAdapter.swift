import Foundation
import WarncastCore
import WarncastNet

/// Village broadcast terminals (大喇叭, 村村响): POSTs the CAP XML with the text to broadcast
/// and how often to repeat it. A 2xx whose JSON says `"ack": true` means it was played;
/// any other 2xx means taken, with the acknowledgement to come on `POST /v1/receipts/ack`.
public struct LoudspeakerAdapter: ChannelAdapter {
    public init() {}

    /// The JSON a terminal receives.
    public struct Payload: Codable, Sendable {
        public var warning: String
        public var idempotencyKey: String
        public var msgType: String
        public var level: String
        public var event: String
        public var headline: String?
        /// What to broadcast.
        public var text: String
        /// How many times to play it.
        public var `repeat`: Int
        public var language: String
        /// The CAP 1.2 XML of the warning.
        public var cap: String
    }

    /// Repeats by level unless the recipient's `repeat` option says otherwise.
    static func repeats(for level: Level) -> Int {
        switch level {
        case .red: 3
        case .orange: 2
        case .yellow, .blue: 1
        }
    }

    public func request(for job: DeliveryJob, message: OutgoingMessage) throws -> HTTPRequestSpec {
        let options = job.recipient.options
        let payload = Payload(
            warning: message.warning.id, idempotencyKey: job.idempotencyKey, msgType: message.warning.msgType.rawValue,
            level: message.warning.level.rawValue, event: message.warning.event, headline: message.warning.headline,
            text: message.text, repeat: options["repeat"].flatMap(Int.init) ?? Self.repeats(for: message.warning.level),
            language: options["language"] ?? "zh-CN", cap: String(decoding: message.cap, as: UTF8.self))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return HTTPRequestSpec(
            method: "POST", url: job.recipient.address, headers: ["Content-Type: application/json"],
            body: try encoder.encode(payload))
    }

    struct Ack: Decodable {
        var ack: Bool?
    }

    public func outcome(of result: HTTPResult) -> DeliveryOutcome {
        let acknowledged = (try? JSONDecoder().decode(Ack.self, from: result.body))?.ack == true
        return standardOutcome(of: result, acknowledged: acknowledged)
    }
}
