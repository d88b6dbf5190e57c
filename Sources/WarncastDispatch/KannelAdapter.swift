import Foundation
import WarncastCore
import WarncastNet

/// SMS through Kannel's smsbox (`/cgi-bin/sendsms`). Chinese text goes out as UCS-2
/// (`coding=2`, the text given in UTF-8 with `charset=UTF-8`); a text longer than one SMS
/// is split by Kannel into concatenated parts (the sendsms user needs `max-messages` > 1).
/// Each message asks for delivery reports (`dlr-mask`) to a `dlr-url` on this node that
/// names the delivery and carries its token, so a report cannot be forged for another
/// delivery. Kannel answering 202 means taken (accepted); the DLR then makes it delivered
/// or failed.
///
/// Settings: `url` (the sendsms URL), `username`, `password`; optional `fallback_urls`
/// (comma-separated sendsms URLs of other Kannels, with the same user, tried in order while
/// the gateways before them have their breakers open), `from` (sender number), `smsc` (route through one SMSC id), `dlr_mask` (default 27: delivered, failed,
/// SMSC accepted, SMSC rejected), `max_characters` (default 670, ten UCS-2 parts).
public struct KannelAdapter: ChannelAdapter {
    let url: String
    /// Further sendsms URLs (a second Kannel) used while the first's breaker is open.
    let fallbackURLs: [String]
    let username: String
    let password: String
    let from: String?
    let smsc: String?
    let dlrMask: Int
    let maxCharacters: Int
    let context: AdapterContext

    /// Where Kannel sends its delivery reports on this node.
    public static let reportPath = "/v1/receipts/sms"

    public static let registration = AdapterRegistration(
        kind: .kannel, make: { try KannelAdapter($0) },
        receipts: ReceiptRegistration(route: ReceiptRoute(method: "GET", path: reportPath)) { _, _ in KannelReports() })

    public init(_ context: AdapterContext) throws(AdapterSettingError) {
        try context.rejectUnknown(except: ["url", "fallback_urls", "username", "password", "from", "smsc", "dlr_mask", "max_characters"])
        url = try context.required("url")
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw AdapterSettingError(channel: context.channel, key: "url", reason: "expected the http(s) URL of Kannel's /cgi-bin/sendsms")
        }
        username = try context.required("username")
        fallbackURLs = try context.urls("fallback_urls", describing: "a Kannel's /cgi-bin/sendsms")
        password = try context.required("password")
        from = context.settings["from"]
        smsc = context.settings["smsc"]
        dlrMask = try context.integer("dlr_mask", 1...31, default: 27)
        maxCharacters = try context.integer("max_characters", 70...1530, default: 670)
        self.context = context
    }

    /// One breaker for the gateway, not one per phone number.
    public func endpoint(for job: DeliveryJob) -> String { url }

    /// The gateway, then the fallback gateways, each with a breaker of its own.
    public func endpoints(for job: DeliveryJob) -> [String] { [url] + fallbackURLs }

    public func request(for job: DeliveryJob, message: OutgoingMessage) throws -> HTTPRequestSpec {
        try request(for: job, message: message, via: url)
    }

    public func request(for job: DeliveryJob, message: OutgoingMessage, via endpoint: String) throws -> HTTPRequestSpec {
        // Kannel fills in %d (report type) and %A (the SMSC's answer) when it calls back.
        let report = context.callbackURL(Self.reportPath, deliveryID: job.id) + "&type=%d&reason=%A"
        return sendsms(
            to: job.recipient.address, text: SMSText.compose(message, for: job.recipient, limit: maxCharacters), via: endpoint,
            report: [("dlr-mask", String(dlrMask)), ("dlr-url", report)])
    }

    /// A notice as a plain SMS, without a delivery report.
    public func notice(_ text: String, to recipient: Recipient, via endpoint: String) -> HTTPRequestSpec? {
        sendsms(to: recipient.address, text: String(text.prefix(maxCharacters)), via: endpoint, report: [])
    }

    /// smsbox's sendsms GET for one phone, through `endpoint`.
    private func sendsms(to phone: String, text: String, via endpoint: String, report: [(String, String)]) -> HTTPRequestSpec {
        var query: [(String, String)] =
            [("username", username), ("password", password), ("to", phone), ("text", text), ("coding", "2"), ("charset", "UTF-8")]
            + report
        if let from { query.append(("from", from)) }
        if let smsc { query.append(("smsc", smsc)) }
        let separator = endpoint.contains("?") ? "&" : "?"
        return HTTPRequestSpec(method: "GET", url: endpoint + separator + FormEncoding.encode(query), headers: [], body: nil)
    }

    /// 202 (accepted, or queued for later delivery while the SMSC is away) is taken; 4xx
    /// (bad credentials, a refused number) a refusal; 5xx worth retrying.
    public func outcome(of result: HTTPResult) -> DeliveryOutcome {
        HTTPStatusClass(result.status).outcome(taken: .accepted, reason: "Kannel HTTP \(result.status): \(Self.answer(result))")
    }

    private static func answer(_ result: HTTPResult) -> String {
        String(decoding: result.body.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// What a Kannel report type (`%d`) means for the delivery: 1 delivered, 2 and 16
    /// failed, 8 taken by the SMSC, 4 (buffered) nothing yet.
    public static func state(forReportType type: Int) -> DeliveryState? {
        switch type {
        case 1: .delivered
        case 2, 16: .failed
        case 8: .accepted
        default: nil
        }
    }
}

/// The text of a warning as an SMS: the issuer in 【】 (as Chinese SMS carry their signature),
/// then headline and instruction, cut at `limit` characters with an ellipsis.
public enum SMSText {
    public static func compose(_ message: OutgoingMessage, for recipient: Recipient, limit: Int) -> String {
        let (info, body) = message.info(for: recipient)
        let signature = info?.senderName.map { "【\($0)】" } ?? ""
        let text = signature + body
        guard text.count > limit else { return text }
        return String(text.prefix(limit - 1)) + "…"
    }
}

/// `application/x-www-form-urlencoded` pairs, every byte but the unreserved ones escaped.
public enum FormEncoding {
    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    public static func escape(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    public static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }
}

extension AdapterKind {
    public static let kannel: AdapterKind = "kannel"
}

/// Kannel's delivery reports: `GET /v1/receipts/sms?d=ID&t=TOKEN&type=%d&reason=%A`.
struct KannelReports: ReceiptReader {
    func read(_ callback: ReceiptCallback) throws(ReceiptReadError) -> GatewayReport {
        guard let typeText = callback.query["type"], let type = Int(typeText) else {
            throw ReceiptReadError("type must be Kannel's report type (%d)")
        }
        let reason = callback.query["reason"].flatMap { $0.isEmpty ? nil : $0 }
        guard let state = KannelAdapter.state(forReportType: type) else {
            // Buffered (4) and the like: on record, no change of state.
            return GatewayReport(state: nil, detail: "Kannel report type \(type)" + (reason.map { ": \($0)" } ?? ""), source: "kannel")
        }
        return GatewayReport(state: state, detail: reason.map { "SMSC: \($0)" } ?? "Kannel report type \(type)", source: "kannel")
    }
}
