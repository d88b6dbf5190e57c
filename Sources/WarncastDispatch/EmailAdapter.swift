import Foundation
import WarncastCore
import WarncastNet

/// Email over SMTP through the libcurl engine: one transaction for up to `batch` mailboxes
/// of one warning, a UTF-8 subject (RFC 2047) and body, and the CAP XML attached. Each
/// recipient's RCPT reply decides its own outcome: 2xx then a 2xx for the message is
/// delivered (the mail server took it), 4xx is tried again later, 5xx is a refusal. The
/// CAP attachment is signed like every outgoing message (headers `Warncast-*`).
///
/// Settings: `url` (`smtp://host:port` or `smtps://host:port`), `from`; optional
/// `from_name`, `security` (`starttls`, the default, or `none` for a trusted relay),
/// `username`, `password`, `batch` (recipients per transaction, default 50).
public struct EmailAdapter: BatchChannelAdapter {
    let url: String
    let from: String
    let fromName: String?
    let security: MailEnvelope.Security
    let username: String?
    let password: String?
    public let batchLimit: Int
    let signer: MessageSigner?
    let now: @Sendable () -> Date

    public static let registration = AdapterRegistration(kind: .email, capabilities: .batches) { try EmailAdapter($0) }

    public init(_ context: AdapterContext) throws(AdapterSettingError) {
        try context.rejectUnknown(except: ["url", "from", "from_name", "security", "username", "password", "batch"])
        url = try context.required("url")
        guard url.hasPrefix("smtp://") || url.hasPrefix("smtps://") else {
            throw AdapterSettingError(channel: context.channel, key: "url", reason: "expected smtp://host:port or smtps://host:port")
        }
        from = try context.required("from")
        guard from.contains("@"), !from.contains("<"), !from.contains(">") else {
            throw AdapterSettingError(channel: context.channel, key: "from", reason: "expected a bare address such as alerts@example.org")
        }
        fromName = context.settings["from_name"]
        guard let security = MailEnvelope.Security(rawValue: context.settings["security"] ?? "starttls") else {
            throw AdapterSettingError(channel: context.channel, key: "security", reason: "expected starttls or none")
        }
        self.security = security
        username = context.settings["username"]
        password = context.settings["password"]
        batchLimit = try context.integer("batch", 1...1000, default: 50)
        signer = context.signer
        now = context.now
    }

    /// The signature travels inside the message, over its CAP attachment.
    public var signsItself: Bool { true }

    public func endpoint(for job: DeliveryJob) -> String { url }

    public func request(for job: DeliveryJob, message: OutgoingMessage) throws -> HTTPRequestSpec {
        try request(for: [job], message: message)
    }

    public func request(for batch: [DeliveryJob], message: OutgoingMessage) throws -> HTTPRequestSpec {
        let mail = try MailMessage.compose(
            message, from: from, fromName: fromName, messageID: "\(message.warning.id).\(batch[0].id)@warncast", date: now(),
            signature: try signer?.headers(
                body: message.cap, idempotencyKey: message.warning.id.rawValue, timestamp: Timestamp.string(now())) ?? [])
        var request = HTTPRequestSpec(method: "SMTP", url: url, body: mail)
        request.mail = MailEnvelope(
            from: from, recipients: batch.map(\.recipient.address), security: security, username: username, password: password)
        return request
    }

    public func outcome(of result: HTTPResult) -> DeliveryOutcome {
        (200..<300).contains(result.status) ? .delivered : .retry("SMTP \(result.status)")
    }

    /// A notice as a plain-text mail to the one contact.
    public func notice(_ text: String, to recipient: Recipient, via endpoint: String) -> HTTPRequestSpec? {
        let mail = MailMessage.notice(
            text, to: recipient.address, from: from, fromName: fromName, messageID: "notice.\(UUID().uuidString)@warncast", date: now())
        var request = HTTPRequestSpec(method: "SMTP", url: endpoint, body: mail)
        request.mail = MailEnvelope(
            from: from, recipients: [recipient.address], security: security, username: username, password: password)
        return request
    }

    public func outcomes(of result: Result<HTTPResult, CurlError>, for batch: [DeliveryJob]) -> [BatchOutcome] {
        let transcript: [String]
        let failure: CurlError?
        switch result {
        case .success(let answer): (transcript, failure) = (answer.transcript, nil)
        case .failure(let error): (transcript, failure) = (error.transcript, error)
        }
        let conversation = SMTPConversation(transcript)
        return batch.map { job in
            guard let reply = conversation.recipientReplies[job.recipient.address.lowercased()] else {
                // Never got as far as this recipient: the connection, TLS or MAIL FROM failed.
                let detail = conversation.lastReply.map { "\($0.code) \($0.text)" } ?? failure?.description ?? "no SMTP answer"
                if let last = conversation.lastReply, last.code >= 500 {
                    return BatchOutcome(.failed(detail), status: last.code, detail: detail)
                }
                return BatchOutcome(.retry(detail), status: conversation.lastReply?.code, detail: detail)
            }
            let rcpt = "\(reply.code) \(reply.text)"
            switch reply.code {
            case 200..<300:
                guard let data = conversation.dataReply else {
                    return BatchOutcome(
                        .retry("message not confirmed after RCPT \(rcpt)"), status: reply.code, detail: failure?.description)
                }
                let text = "\(data.code) \(data.text)"
                switch data.code {
                case 200..<300: return BatchOutcome(.delivered, status: data.code, detail: nil, reference: data.text)
                case 400..<500: return BatchOutcome(.retry(text), status: data.code, detail: text)
                default: return BatchOutcome(.failed(text), status: data.code, detail: text)
                }
            case 400..<500: return BatchOutcome(.retry(rcpt), status: reply.code, detail: rcpt)
            default: return BatchOutcome(.failed(rcpt), status: reply.code, detail: rcpt)
            }
        }
    }
}

/// An SMTP conversation as the engine recorded it (`> ` commands, `< ` replies), read for
/// each RCPT's reply and the reply to the message itself.
struct SMTPConversation {
    struct Reply {
        var code: Int
        var text: String
    }

    var recipientReplies: [String: Reply] = [:]
    var dataReply: Reply?
    var lastReply: Reply?

    init(_ transcript: [String]) {
        var pendingRecipient: String?
        var dataStage = 0
        for line in transcript {
            if line.hasPrefix("> ") {
                let command = line.dropFirst(2)
                if command.uppercased().hasPrefix("RCPT TO:") {
                    pendingRecipient = command.dropFirst("RCPT TO:".count)
                        .trimmingCharacters(in: CharacterSet(charactersIn: "<> ")).lowercased()
                } else if command.uppercased().hasPrefix("DATA") {
                    dataStage = 1
                }
                continue
            }
            // A final reply line is "NNN text" (continuation lines are "NNN-text").
            let body = line.dropFirst(2)
            guard body.count >= 3, let code = Int(body.prefix(3)), body.dropFirst(3).first != "-" else { continue }
            let reply = Reply(code: code, text: String(body.dropFirst(4)))
            lastReply = reply
            if let recipient = pendingRecipient {
                recipientReplies[recipient] = reply
                pendingRecipient = nil
            } else if dataStage == 1 {
                // 354 asks for the message; anything else refuses DATA itself.
                if code == 354 {
                    dataStage = 2
                } else {
                    dataReply = reply
                    dataStage = 0
                }
            } else if dataStage == 2 {
                dataReply = reply
                dataStage = 0
            }
        }
    }
}
