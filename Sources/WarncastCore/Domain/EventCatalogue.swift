import Foundation

/// One kind of warning event (暴雨, 台风, 地质灾害 …) and the department kinds allowed to
/// issue it.
public struct EventType: Sendable, Codable, Equatable {
    /// Stable code used in configs and APIs, e.g. `rainstorm`.
    public var code: String
    /// Names that a CAP `<event>` may use for it, e.g. `暴雨`, `Rainstorm`.
    public var names: [String]
    /// Department kinds allowed to issue this event, e.g. `weather`.
    public var kinds: [String]
    /// Values besides `code` a CAP `<eventCode>` may carry for it (under one of the
    /// catalogue's `codeNames`), e.g. its code in a national warning-type table.
    public var codes: [String]

    public init(code: String, names: [String], kinds: [String], codes: [String] = []) {
        self.code = code
        self.names = names
        self.kinds = kinds
        self.codes = codes
    }
}

/// What the catalogue reads from one `<info>` block: the event, and the level its name's
/// colour or its eventCode says, if any.
public struct RecognisedEvent: Sendable, Equatable {
    public var event: EventType
    /// The level a colour in the name (`暴雨红色预警`) says.
    public var level: Level?

    public init(event: EventType, level: Level?) {
        self.event = event
        self.level = level
    }
}

/// The configurable list of event types Warncast accepts.
public struct EventCatalogue: Sendable, Equatable {
    public private(set) var events: [EventType]
    /// The `<eventCode>` value names whose values are looked up in the events' `codes`.
    public private(set) var codeNames: [String]

    public init(_ events: [EventType], codeNames: [String] = []) {
        self.events = events
        self.codeNames = codeNames
    }

    /// The colour words of Chinese warning names and their levels.
    static let colours: [(String, Level)] = [("红色", .red), ("橙色", .orange), ("黄色", .yellow), ("蓝色", .blue)]

    /// The event of an `<info>` block as release systems write it: an `<eventCode>` under one
    /// of `codeNames`, the event's code or one of its names, or a name with its colour and
    /// 预警 (信号) after it (`暴雨红色预警`, `地质灾害气象风险黄色预警`, `大风蓝色预警信号`).
    /// `nil` when nothing is known, or when the eventCode and the name disagree.
    public func recognise(_ info: CAPInfo) -> RecognisedEvent? {
        let coded = info.eventCode.lazy
            .filter { value in codeNames.contains { $0.caseInsensitiveCompare(value.valueName) == .orderedSame } }
            .compactMap { value in events.first { $0.code == value.value || $0.codes.contains(value.value) } }
            .first
        var named = resolve(info.event).map { RecognisedEvent(event: $0, level: nil) }
        if named == nil, let (base, level) = Self.colourSuffix(of: info.event), let event = resolve(base) {
            named = RecognisedEvent(event: event, level: level)
        }
        switch (coded, named) {
        case (nil, nil): return nil
        case (let event?, nil): return RecognisedEvent(event: event, level: nil)
        case (nil, let named?): return named
        case (let event?, let named?): return event.code == named.event.code ? named : nil
        }
    }

    /// `(暴雨, red)` for `暴雨红色预警` or `暴雨红色预警信号`.
    static func colourSuffix(of text: String) -> (String, Level)? {
        var name = text.trimmingCharacters(in: .whitespacesAndNewlines)
        for suffix in ["信号", "预警"] where name.hasSuffix(suffix) { name.removeLast(suffix.count) }
        guard name.count < text.count else { return nil }
        for (word, level) in colours where name.hasSuffix(word) {
            let base = String(name.dropLast(word.count))
            return base.isEmpty ? nil : (base, level)
        }
        return nil
    }

    /// The event type a CAP `<event>` text or code refers to, matched on the code or any
    /// of its names (case-insensitive for Latin text).
    public func resolve(_ text: String) -> EventType? {
        let wanted = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        return events.first { event in
            event.code.lowercased() == wanted || event.names.contains { $0.lowercased() == wanted }
        }
    }

    public func event(code: String) -> EventType? { events.first { $0.code == code } }
}
