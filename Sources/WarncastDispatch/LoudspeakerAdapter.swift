import Foundation
import WarncastCore
import WarncastNet

/// Village broadcast terminals (大喇叭, 村村响): POSTs the CAP XML with the text to broadcast
/// and how often to repeat it. A 2xx whose JSON says `"ack": true` means it was played;
/// any other 2xx means taken, with the acknowledgement to come on `POST /v1/receipts/ack`.
/// A terminal whose address is `dial-in` connects to the node instead, and the same signed
/// message is pushed down its connection (`DialInHub`).
public struct LoudspeakerAdapter: ChannelAdapter {
    public init() {}

    public static let registration = AdapterRegistration(kind: .loudspeaker, capabilities: .broadcastTerminals) { context in
        try context.rejectUnknown(except: [])
        return LoudspeakerAdapter()
    }

    /// The JSON a terminal receives.
    public struct Payload: Codable, Sendable {
        public var warning: String
        public var idempotencyKey: String
        public var msgType: String
        public var level: String
        public var event: String
        /// When the warning stops being news (CAP `<expires>`); null when it has none.
        /// A terminal that was off plays nothing past it.
        public var expires: String?
        public var headline: String?
        /// What to broadcast.
        public var text: String
        /// How many times to play it.
        public var `repeat`: Int
        /// The language of `headline` and `text`: the `<info>` block in the terminal's
        /// `language` option, else in the node's language.
        public var language: String
        /// The CAP 1.2 XML of the warning, every language.
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

    /// The fields every terminal gets alike, as JSON members, built once per warning: a
    /// province-wide warning to 100,000 terminals must not encode its CAP 100,000 times.
    /// Headline, language and text are built once per `<info>` block (`block<i>`).
    public func prepare(warning: Warning, cap: Data, text: String) -> [String: String] {
        var prepared = [
            "head": "\"cap\":\(JSONText.quote(String(decoding: cap, as: UTF8.self))),\"event\":\(JSONText.quote(warning.event)),"
                + "\"expires\":\(warning.expires.map { JSONText.quote($0.text) } ?? "null")",
            "middle": [
                "\"level\":\(JSONText.quote(warning.level.rawValue))",
                "\"msgType\":\(JSONText.quote(warning.msgType.rawValue))",
            ].joined(separator: ","),
            "warning": "\"warning\":\(JSONText.quote(warning.id.rawValue))",
        ]
        for (index, info) in warning.alert.info.enumerated() {
            prepared["headline\(index)"] = "\"headline\":\(info.headline.map(JSONText.quote) ?? "null")"
            if let language = info.language { prepared["language\(index)"] = "\"language\":\(JSONText.quote(language))" }
            prepared["text\(index)"] = "\"text\":\(JSONText.quote(OutgoingMessage.text(of: info)))"
        }
        return prepared
    }

    public func request(for job: DeliveryJob, message: OutgoingMessage) throws -> HTTPRequestSpec {
        let options = job.recipient.options
        let repeats = options["repeat"].flatMap(Int.init) ?? Self.repeats(for: message.warning.level)
        let prepared =
            message.prepared.isEmpty
            ? prepare(warning: message.warning, cap: message.cap, text: message.text) : message.prepared
        let block = message.infoIndex(for: job.recipient)
        // Members in sorted key order, as `Payload` documents them.
        let body =
            "{\(prepared["head"]!),\(prepared["headline\(block)"] ?? "\"headline\":null"),"
            + "\"idempotencyKey\":\(JSONText.quote(job.idempotencyKey)),"
            + "\(prepared["language\(block)"] ?? "\"language\":\(JSONText.quote(options["language"] ?? message.defaultLanguage))"),"
            + "\(prepared["middle"]!),"
            + "\"repeat\":\(repeats),\(prepared["text\(block)"] ?? "\"text\":\"\""),\(prepared["warning"]!)}"
        return HTTPRequestSpec(method: "POST", url: endpoint(for: job), headers: ["Content-Type: application/json"], body: Data(body.utf8))
    }

    struct Ack: Decodable {
        var ack: Bool?
    }

    /// The address of a terminal that dials in.
    public static let dialIn = "dial-in"

    /// A dial-in terminal is an endpoint of its own (its circuit breaker is its own), not
    /// the shared address `dial-in`.
    public func endpoint(for job: DeliveryJob) -> String {
        job.recipient.address == Self.dialIn ? DialInTransport.scheme + job.recipient.id : job.recipient.address
    }

    /// How long a delivery to a dial-in terminal that is not connected waits before it is
    /// looked at again; its reconnection makes it due at once.
    static let absentWait: TimeInterval = 600

    public func outcome(of result: HTTPResult) -> DeliveryOutcome {
        if result.headers.contains(where: { $0.name == DialInTransport.absentHeader }) {
            return .deferred(until: Date().addingTimeInterval(Self.absentWait))
        }
        // Most terminals answer exactly {"ack":true}; anything else is decoded properly.
        let acknowledged =
            result.body == Self.plainAck
            || (try? JSONDecoder().decode(Ack.self, from: result.body))?.ack == true
        return standardOutcome(of: result, acknowledged: acknowledged)
    }

    private static let plainAck = Data(#"{"ack":true}"#.utf8)
}

extension AdapterKind {
    public static let loudspeaker: AdapterKind = "loudspeaker"
}
