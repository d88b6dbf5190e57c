import Foundation
import WarncastCore

/// The email of a warning: RFC 5322 headers, a text part and the CAP XML attached.
enum MailMessage {
    static func compose(
        _ message: OutgoingMessage, from: String, fromName: String?, messageID: String, date: Date, signature: [String]
    ) throws -> Data {
        let warning = message.warning
        let boundary = "warncast-\(UUID().uuidString)"
        let (subject, text) = self.text(of: message)
        let sender = fromName.map { "\(encodedWord($0)) <\(from)>" } ?? from
        var lines = [
            "From: \(sender)",
            "To: undisclosed-recipients:;",
            "Subject: \(encodedWord(subject))",
            "Date: \(rfc5322Date(date))",
            "Message-ID: <\(messageID)>",
            "MIME-Version: 1.0",
            "X-Warncast-Warning: \(warning.id)",
        ]
        lines += signature
        lines += [
            "Content-Type: multipart/mixed; boundary=\"\(boundary)\"",
            "",
            "--\(boundary)",
            "Content-Type: text/plain; charset=UTF-8",
            "Content-Transfer-Encoding: base64",
            "",
            base64Lines(Data(text.utf8)),
            "--\(boundary)",
            "Content-Type: application/cap+xml; charset=UTF-8; name=\"\(attachmentName(warning))\"",
            "Content-Disposition: attachment; filename=\"\(attachmentName(warning))\"",
            "Content-Transfer-Encoding: base64",
            "",
            base64Lines(message.cap),
            "--\(boundary)--",
            "",
        ]
        return Data(lines.joined(separator: "\r\n").utf8)
    }

    /// The subject and the text part of the warning's email.
    static func text(of message: OutgoingMessage) -> (subject: String, body: String) {
        let warning = message.warning
        let main = warning.alert.infoIndex(for: nil, fallback: message.defaultLanguage)
        let info = warning.alert.info.indices.contains(main) ? warning.alert.info[main] : nil
        let levelName = ["red": "红色", "orange": "橙色", "yellow": "黄色", "blue": "蓝色"][warning.level.rawValue] ?? warning.level.rawValue
        let subject = "【\(levelName)预警】" + (info?.headline ?? "\(info?.senderName ?? warning.sender) \(warning.event)")
        var body: [String] = []
        if let headline = info?.headline { body.append(headline) }
        if let description = info?.description { body.append(description) }
        if let instruction = info?.instruction { body.append("防御指南：" + instruction) }
        body.append(
            [
                "发布单位：\(info?.senderName ?? warning.sender)",
                "预警级别：\(levelName)（\(warning.level.rawValue)）",
                "影响区域：\(info?.area.map(\.areaDesc).joined(separator: "、") ?? warning.areas.map(\.description).joined(separator: ", "))",
                "发布时间：\(warning.sent)",
                // As the issuer wrote it, with its offset, like the time it was sent.
                (info?.expires ?? warning.expires?.text).map { "有效期至：\($0)" },
                "消息类型：\(warning.msgType.rawValue)，编号 \(warning.identifier)",
            ].compactMap { $0 }.joined(separator: "\r\n"))
        // Every other language the warning was issued in follows, each under its tag.
        for (index, other) in warning.alert.info.enumerated() where index != main {
            let parts = [other.headline, other.description, other.instruction].compactMap { $0 }
            if !parts.isEmpty { body.append((["[\(other.language ?? "en-US")]"] + parts).joined(separator: "\r\n")) }
        }
        body.append("本邮件附有 CAP 1.2 格式的预警原文（\(warning.identifier).xml），由 Warncast 签名，公钥见发布节点的 /.well-known/warncast-keys。")
        return (subject, body.joined(separator: "\r\n\r\n"))
    }

    /// A short notice to a person on duty: plain text, no attachment, the first line of
    /// `text` as its subject.
    static func notice(_ text: String, to address: String, from: String, fromName: String?, messageID: String, date: Date) -> Data {
        let firstLine = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? text
        let subject = firstLine.count > 80 ? String(firstLine.prefix(79)) + "…" : firstLine
        let sender = fromName.map { "\(encodedWord($0)) <\(from)>" } ?? from
        let lines = [
            "From: \(sender)",
            "To: <\(address)>",
            "Subject: \(encodedWord(subject))",
            "Date: \(rfc5322Date(date))",
            "Message-ID: <\(messageID)>",
            "MIME-Version: 1.0",
            "Auto-Submitted: auto-generated",
            "Content-Type: text/plain; charset=UTF-8",
            "Content-Transfer-Encoding: base64",
            "",
            base64Lines(Data(text.utf8)),
            "",
        ]
        return Data(lines.joined(separator: "\r\n").utf8)
    }

    /// The identifier, reduced to characters safe in a file name.
    static func attachmentName(_ warning: Warning) -> String {
        let safe = warning.identifier.unicodeScalars.map {
            CharacterSet.alphanumerics.contains($0) && $0.isASCII || "-_.".unicodeScalars.contains($0) ? Character($0) : "_"
        }
        return String(safe) + ".xml"
    }

    /// RFC 2047 encoded words (`=?UTF-8?B?…?=`), each at most 75 characters and never
    /// splitting a character, folded onto continuation lines.
    static func encodedWord(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { !$0.isASCII || $0 == "=" || $0 == "?" }) else { return text }
        var words: [String] = []
        var chunk = Data()
        for character in text {
            let bytes = Data(String(character).utf8)
            // 45 bytes make 60 base64 characters: 72 with the =?UTF-8?B? and ?= around them.
            if chunk.count + bytes.count > 45 {
                words.append("=?UTF-8?B?\(chunk.base64EncodedString())?=")
                chunk = Data()
            }
            chunk.append(bytes)
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?\(chunk.base64EncodedString())?=") }
        return words.joined(separator: "\r\n ")
    }

    static func base64Lines(_ data: Data) -> String {
        data.base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
    }

    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Asia/Shanghai")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter.string(from: date)
    }
}

extension AdapterKind {
    public static let email: AdapterKind = "email"
}
