import Foundation

/// Which espeak-ng voice speaks which language. A message's language tag finds the entry
/// for its longest matching prefix: `zh-CN` finds `zh-cn`, else `zh`. Tags compare without
/// regard to case, and `_` counts as `-`.
public struct VoiceTable: Sendable, Equatable {
    /// Language prefix (lower case) to voice.
    public private(set) var voices: [String: String]

    public init(_ voices: [String: String]) {
        self.voices = Dictionary(voices.map { (Self.normalised($0.key), $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    /// Mandarin for Chinese, English for English.
    public static let standard = VoiceTable(["zh": "cmn", "en": "en"])

    /// The voice for `language`, or nil when none is configured (the receiver then plays
    /// the alert tone).
    public func voice(for language: String) -> String? {
        var subtags = Self.normalised(language).split(separator: "-", omittingEmptySubsequences: false)
        while !subtags.isEmpty {
            if let voice = voices[subtags.joined(separator: "-")] { return voice }
            subtags.removeLast()
        }
        return nil
    }

    private static func normalised(_ tag: String) -> String {
        tag.lowercased().replacingOccurrences(of: "_", with: "-")
    }
}
