import Foundation

extension CAPAlert {
    /// The `<info>` block for a reader of `language`: the block with that tag, else one in
    /// the same primary language (`mn` finds `mn-Mong`, `zh-TW` finds `zh-CN`), else the same
    /// for `fallback` (the node's language), else the first block. Tags compare without
    /// regard to case; a block without `<language>` is `en-US`, as CAP 1.2 says. The order of
    /// the blocks does not matter.
    public func infoIndex(for language: String?, fallback: String) -> Int {
        let tags = info.map { ($0.language ?? "en-US").lowercased() }
        func primary(_ tag: String) -> Substring { tag.split(separator: "-").first ?? "" }
        for wanted in [language, fallback].compactMap({ $0?.lowercased() }) where !wanted.isEmpty {
            if let exact = tags.firstIndex(of: wanted) { return exact }
            if let same = tags.firstIndex(where: { primary($0) == primary(wanted) }) { return same }
        }
        return 0
    }

    /// The block for readers of `language` (the node's), by the rule of `infoIndex`.
    public func info(in language: String) -> CAPInfo? {
        info.isEmpty ? nil : info[infoIndex(for: nil, fallback: language)]
    }

    /// Every block's index, the block for `language` first and the others in their order:
    /// how a page or feed that shows all languages lists them.
    public func orderedInfoIndices(leading language: String) -> [Int] {
        guard !info.isEmpty else { return [] }
        let lead = infoIndex(for: nil, fallback: language)
        return [lead] + info.indices.filter { $0 != lead }
    }

    /// Every block as a page or feed shows it, the block for `language` first: with its
    /// language tag (`en-US` when it has none, as CAP 1.2 says) and how its text is set.
    public func languageBlocks(leading language: String) -> [LanguageBlock] {
        orderedInfoIndices(leading: language).map { index in
            let block = info[index]
            let text = [block.headline, block.description, block.instruction].compactMap { $0 }.joined()
            return LanguageBlock(info: block, tag: block.language ?? "en-US", mode: WritingMode.of(language: block.language, text: text))
        }
    }
}

extension CAPAlert {
    /// The `<parameter>` name by which a message keeps itself off channels (the convention
    /// of IPAWS, where the values are CMAS, EAS, NWEM, PUBLIC): in Warncast the values are
    /// channel names of the configuration, e.g. `sms-public`.
    public static let blockChannelParameter = "BLOCKCHANNEL"

    /// The channels this message's `BLOCKCHANNEL` parameters (in any `<info>` block, name
    /// compared without regard to case) keep it off.
    public var blockedChannels: Set<String> {
        Set(
            info.flatMap(\.parameter).filter { $0.valueName.uppercased() == Self.blockChannelParameter }
                .map { $0.value.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    }
}

/// One `<info>` block as a page shows it: its text, its language tag and its writing mode.
public struct LanguageBlock: Sendable {
    public var info: CAPInfo
    public var tag: String
    public var mode: WritingMode
}
