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
    /// The message exactly as this node received it, when it arrived as CAP XML (with any
    /// enveloped `<Signature>` of its sender): what a lower node is handed, unchanged.
    public let original: Data?
    /// Headline and instruction in the node's language, for broadcast and SMS.
    public let text: String
    /// The same for each `<info>` block, in the blocks' order.
    public let texts: [String]
    /// The node's language, for recipients without a language of their own.
    public let defaultLanguage: String
    /// Adapters' per-warning work, done once and shared by every delivery of the warning
    /// (for the loudspeaker adapter: the JSON of the fields all terminals get alike).
    public let prepared: [String: String]

    public init(
        warning: Warning, original: Data? = nil, defaultLanguage: String = "zh-CN", preparedBy adapter: (any ChannelAdapter)? = nil
    ) {
        let cap = CAPWriter.xml(warning.alert)
        self.original = warning.format == .xml ? original : nil
        let texts = warning.alert.info.map(Self.text(of:))
        self.warning = warning
        self.cap = cap
        self.texts = texts
        self.defaultLanguage = defaultLanguage
        let index = warning.alert.infoIndex(for: nil, fallback: defaultLanguage)
        self.text = texts.indices.contains(index) ? texts[index] : ""
        prepared = adapter?.prepare(warning: warning, cap: cap, text: text) ?? [:]
    }

    /// What a person hears or reads of a block: its headline and instruction.
    public static func text(of info: CAPInfo) -> String {
        [info.headline, info.instruction].compactMap { $0 }.joined(separator: "。")
    }

    /// Which `<info>` block `recipient` gets: the one in its `language` option (exact tag,
    /// then primary language), else the node's language.
    public func infoIndex(for recipient: Recipient) -> Int {
        warning.alert.infoIndex(for: recipient.options["language"], fallback: defaultLanguage)
    }

    /// The block `recipient` gets, and its text.
    public func info(for recipient: Recipient) -> (info: CAPInfo?, text: String) {
        let index = infoIndex(for: recipient)
        guard warning.alert.info.indices.contains(index) else { return (nil, text) }
        return (warning.alert.info[index], texts[index])
    }
}
