import Foundation
import WarncastCore
import WarncastNet

/// SMS through a carrier's own HTTP/JSON gateway, described entirely in the channel's
/// settings: where to POST, the JSON body as a template, extra headers, where the message
/// id and (optionally) a success code are in the answer, and how the carrier's status
/// callbacks read.
///
/// Settings:
/// - `url` (required): the gateway's send URL.
/// - `fallback_urls`: send URLs of other gateways taking the same request (comma-separated),
///   tried in order while the gateways before them have their breakers open.
/// - `body` (required): the JSON body, with `{{to}}`, `{{text}}`, `{{callback}}`, `{{key}}`
///   (idempotency key) and `{{warning}}` replaced by JSON-escaped text, so the template puts
///   them inside quotes: `{"mobile":"{{to}}","content":"{{text}}","notify":"{{callback}}"}`.
/// - `header.<Name>`: an extra request header, e.g. `header.Authorization: Bearer …`.
/// - `message_id`: dotted path of the message id in the answer, e.g. `data.msgId`.
/// - `success_path` and `success_value`: a 2xx answer counts only if this field has this
///   value (carriers that answer 200 with `{"code":"ERR_…"}`); otherwise it is refused.
/// - `status_path` (default `status`), `delivered_values` (default `DELIVERED,DELIVRD`),
///   `failed_values` (default `FAILED,UNDELIVERABLE,UNDELIV,REJECTED,REJECTD,EXPIRED`),
///   `reason_path` (default `reason`): how to read a status callback's JSON.
public struct CarrierSMSAdapter: ChannelAdapter {
    let url: String
    let fallbackURLs: [String]
    let template: String
    let headers: [String]
    let messageIDPath: [String]?
    let success: (path: [String], value: String)?
    let maxCharacters: Int
    let context: AdapterContext

    public static func reportPath(channel: String) -> String { "/v1/receipts/carrier/\(channel)" }

    public static let registration = AdapterRegistration(
        kind: .carrierSMS, make: { try CarrierSMSAdapter($0) },
        receipts: ReceiptRegistration(route: ReceiptRoute(method: "POST", path: "/v1/receipts/carrier/{channel}")) { channel, settings in
            try CarrierStatus(settings, channel: channel)
        })

    public init(_ context: AdapterContext) throws(AdapterSettingError) {
        let known: Set<String> = [
            "url", "fallback_urls", "body", "message_id", "success_path", "success_value", "max_characters",
            "status_path", "delivered_values", "failed_values", "reason_path",
        ]
        try context.rejectUnknown(except: known, prefixes: ["header."])
        url = try context.required("url")
        fallbackURLs = try context.urls("fallback_urls", describing: "a gateway")
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw AdapterSettingError(channel: context.channel, key: "url", reason: "expected an http(s) URL")
        }
        template = try context.required("body")
        guard template.contains("{{to}}"), template.contains("{{text}}") else {
            throw AdapterSettingError(channel: context.channel, key: "body", reason: "the template must place {{to}} and {{text}}")
        }
        // The template must be JSON once its placeholders are filled.
        let sample = Self.fill(template, ["to": "1", "text": "t", "callback": "c", "key": "k", "warning": "w"])
        guard (try? JSONSerialization.jsonObject(with: Data(sample.utf8))) != nil else {
            throw AdapterSettingError(channel: context.channel, key: "body", reason: "is not JSON once its placeholders are filled")
        }
        headers = context.settings.filter { $0.key.hasPrefix("header.") }.sorted { $0.key < $1.key }
            .map { "\($0.key.dropFirst("header.".count)): \($0.value)" }
        messageIDPath = context.settings["message_id"].map { $0.split(separator: ".").map(String.init) }
        if let path = context.settings["success_path"] {
            success = (path.split(separator: ".").map(String.init), try context.required("success_value"))
        } else {
            success = nil
        }
        maxCharacters = try context.integer("max_characters", 70...1530, default: 670)
        _ = try CarrierStatus(context.settings, channel: context.channel)
        self.context = context
    }

    /// A gateway, not a phone number, is what a breaker protects.
    public func endpoint(for job: DeliveryJob) -> String { url }

    /// The gateway, then the fallback gateways, each with a breaker of its own.
    public func endpoints(for job: DeliveryJob) -> [String] { [url] + fallbackURLs }

    public func request(for job: DeliveryJob, message: OutgoingMessage) throws -> HTTPRequestSpec {
        try request(for: job, message: message, via: url)
    }

    public func request(for job: DeliveryJob, message: OutgoingMessage, via endpoint: String) throws -> HTTPRequestSpec {
        let body = Self.fill(
            template,
            [
                "to": job.recipient.address, "text": SMSText.compose(message, for: job.recipient, limit: maxCharacters),
                "callback": context.callbackURL(Self.reportPath(channel: context.channel), deliveryID: job.id),
                "key": job.idempotencyKey, "warning": message.warning.id.rawValue,
            ])
        return post(body, to: endpoint)
    }

    /// A notice through the same template, with no status callback.
    public func notice(_ text: String, to recipient: Recipient, via endpoint: String) -> HTTPRequestSpec? {
        let body = Self.fill(
            template,
            [
                "to": recipient.address, "text": String(text.prefix(maxCharacters)), "callback": "", "key": "notice-" + UUID().uuidString,
                "warning": "",
            ])
        return post(body, to: endpoint)
    }

    /// The filled-in template as the gateway takes it.
    private func post(_ body: String, to endpoint: String) -> HTTPRequestSpec {
        HTTPRequestSpec(method: "POST", url: endpoint, headers: ["Content-Type: application/json"] + headers, body: Data(body.utf8))
    }

    public func outcome(of result: HTTPResult) -> DeliveryOutcome {
        switch HTTPStatusClass(result.status) {
        case .taken:
            if let success, Self.value(at: success.path, in: result.body) != success.value {
                return .failed("carrier refused: \(String(decoding: result.body.prefix(200), as: UTF8.self))")
            }
            return .accepted
        case .retryable: return .retry("HTTP \(result.status)")
        case .refused: return .failed("HTTP \(result.status): \(String(decoding: result.body.prefix(200), as: UTF8.self))")
        }
    }

    public func reference(in result: HTTPResult) -> String? {
        messageIDPath.flatMap { Self.value(at: $0, in: result.body) }
    }

    /// The template with each `{{name}}` replaced by the JSON-escaped value.
    static func fill(_ template: String, _ values: [String: String]) -> String {
        var text = template
        for (name, value) in values {
            let quoted = JSONText.quote(value)
            text = text.replacingOccurrences(of: "{{\(name)}}", with: String(quoted.dropFirst().dropLast()))
        }
        return text
    }

    /// The text of the JSON value at a dotted path (strings as they are, numbers printed).
    static func value(at path: [String], in body: Data) -> String? {
        var node = try? JSONSerialization.jsonObject(with: body)
        for key in path { node = (node as? [String: Any])?[key] }
        switch node {
        case let text as String: return text
        case let number as NSNumber: return number.stringValue
        default: return nil
        }
    }
}

extension AdapterKind {
    public static let carrierSMS: AdapterKind = "carrier-sms"
}

/// How a carrier's status callback reads: which field holds the status, which values mean
/// delivered or failed, and where the reason is. Callbacks arrive as
/// `POST /v1/receipts/carrier/{channel}?d=ID&t=TOKEN` with the carrier's JSON.
public struct CarrierStatus: ReceiptReader {
    let channel: String
    let statusPath: [String]
    let delivered: Set<String>
    let failed: Set<String>
    let reasonPath: [String]

    public init(_ settings: [String: String], channel: String) throws(AdapterSettingError) {
        self.channel = channel
        func list(_ key: String, _ fallback: String) -> Set<String> {
            Set((settings[key] ?? fallback).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).uppercased() })
        }
        statusPath = (settings["status_path"] ?? "status").split(separator: ".").map(String.init)
        reasonPath = (settings["reason_path"] ?? "reason").split(separator: ".").map(String.init)
        delivered = list("delivered_values", "DELIVERED,DELIVRD")
        failed = list("failed_values", "FAILED,UNDELIVERABLE,UNDELIV,REJECTED,REJECTD,EXPIRED")
        guard delivered.isDisjoint(with: failed) else {
            throw AdapterSettingError(channel: channel, key: "failed_values", reason: "shares values with delivered_values")
        }
    }

    public func read(_ callback: ReceiptCallback) throws(ReceiptReadError) -> GatewayReport {
        guard let (state, detail) = read(callback.body) else {
            throw ReceiptReadError("the report has no status where the channel's status_path says")
        }
        return GatewayReport(state: state, detail: detail, source: "carrier:\(channel)")
    }

    /// What a callback body means: the state (nil when the status is neither, e.g. an
    /// intermediate one) and the carrier's status and reason as text.
    public func read(_ body: Data) -> (state: DeliveryState?, detail: String)? {
        guard let status = CarrierSMSAdapter.value(at: statusPath, in: body) else { return nil }
        let reason = CarrierSMSAdapter.value(at: reasonPath, in: body)
        let detail = "carrier: \(status)" + (reason.map { " \($0)" } ?? "")
        let upper = status.uppercased()
        if delivered.contains(upper) { return (.delivered, detail) }
        if failed.contains(upper) { return (.failed, detail) }
        return (nil, detail)
    }
}
