import Foundation
import WarncastCore

/// The warning a node pushes to the terminal: the JSON body of the loudspeaker channel
/// (`LoudspeakerAdapter.Payload` in WarncastDispatch). Only what the receiver uses is read;
/// `cap` (the whole CAP XML) is left alone.
public struct BroadcastMessage: Sendable, Equatable, Decodable {
    /// The warning's id at the node.
    public var warning: String?
    /// Stable per warning and terminal: a repeat is a retry, never played twice.
    public var idempotencyKey: String
    public var level: String?
    public var event: String?
    public var headline: String?
    /// What to broadcast.
    public var text: String
    /// How many times to play it.
    public var `repeat`: Int
    /// The language of `headline` and `text`, e.g. `zh-CN`.
    public var language: String
    /// When the warning expires (CAP `<expires>`, as the node writes timestamps); nil when
    /// it does not say.
    public var expires: String?

    public init(
        idempotencyKey: String, text: String, repeat: Int = 1, language: String = "zh-CN", headline: String? = nil,
        warning: String? = nil, level: String? = nil, event: String? = nil, expires: String? = nil
    ) {
        self.expires = expires
        self.idempotencyKey = idempotencyKey
        self.text = text
        self.repeat = `repeat`
        self.language = language
        self.headline = headline
        self.warning = warning
        self.level = level
        self.event = event
    }

    /// What is spoken: the text, else the headline.
    public var spokenText: String {
        let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? (headline ?? "").trimmingCharacters(in: .whitespacesAndNewlines) : text
    }

    /// True once `expires` has passed at `now`; a message without it never expires here.
    public func hasExpired(at now: Date) -> Bool {
        guard let expires, let date = Timestamp.parse(expires) else { return false }
        return date <= now
    }

    /// How many times it is played: `repeat`, at least once and at most `maxRepeats`.
    public var timesToPlay: Int { min(Self.maxRepeats, max(1, self.repeat)) }

    /// A bound on repeats so a mistaken option cannot tie up the loudspeaker for hours.
    public static let maxRepeats = 10
}
