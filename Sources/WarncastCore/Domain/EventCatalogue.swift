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

    public init(code: String, names: [String], kinds: [String]) {
        self.code = code
        self.names = names
        self.kinds = kinds
    }
}

/// The configurable list of event types Warncast accepts.
public struct EventCatalogue: Sendable, Equatable {
    public private(set) var events: [EventType]

    public init(_ events: [EventType]) {
        self.events = events
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
