import Foundation
import WarncastCore

/// What recipients of a warning get, as each channel writes it, in the node's language:
/// the console shows it while a warning is composed. Made by the same code the adapters
/// send with.
public struct MessagePreview: Codable, Sendable, Equatable {
    /// What a village loudspeaker speaks.
    public var loudspeaker: String
    /// The SMS, cut as the SMS channel cuts it.
    public var sms: String
    public var emailSubject: String
    /// The email's text part (the CAP XML is attached to the real one).
    public var emailBody: String

    /// The preview of `warning` for a node whose language is `language`, with SMS cut at
    /// `smsLimit` characters (the SMS channel's `max_characters`).
    public init(of warning: Warning, language: String, smsLimit: Int) {
        let message = OutgoingMessage(warning: warning, defaultLanguage: language)
        loudspeaker = message.text
        // A recipient without a language of its own gets the node's.
        let recipient = Recipient(
            id: "preview", channel: "sms", region: warning.areas.first ?? RegionCode("110000")!, name: "", address: "")
        sms = SMSText.compose(message, for: recipient, limit: smsLimit)
        (emailSubject, emailBody) = MailMessage.text(of: message)
    }
}
