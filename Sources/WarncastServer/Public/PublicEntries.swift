import Foundation
import WarncastCore

/// What the public channel shows, chosen from the released messages: every public, actual
/// Alert, Update and Cancel, each until it ends. An updated or cancelled warning keeps its
/// entry, marked so, until its own `expires`, so that an aggregator polling the feed sees
/// the change instead of an entry that vanished.
struct PublicEntries {
    /// How a message stands now.
    enum Standing: Equatable {
        /// Released and in force.
        case inForce
        /// A newer message (Update) replaced it.
        case updated(by: Warning.ID?)
        /// A Cancel (解除) lifted it.
        case cancelled(by: Warning.ID?)

        /// The word the feeds use (`category` term, JSON `standing`).
        var term: String {
            switch self {
            case .inForce: "in_force"
            case .updated: "updated"
            case .cancelled: "cancelled"
            }
        }
    }

    struct Entry {
        var warning: Warning
        var standing: Standing
        /// When the entry last changed: its release, or the release of the message that
        /// updated or cancelled it.
        var changed: Date
        /// When it leaves the feed; nil while a warning without `expires` is in force.
        var until: Date?

        var released: Date { PublicEntries.released(warning) }
        /// A warning people are to act on now: an Alert or Update in force.
        var isInForce: Bool { standing == .inForce && warning.msgType != .cancel }
    }

    /// Entries in the feed now, most recently changed first.
    let entries: [Entry]
    /// The last change to the feed: the newest entry's change, or an entry leaving it.
    let lastModified: Date

    /// How long a message without any `expires` of its own or of what it replaced stays
    /// after it (or the message replacing it) was released.
    static let unboundedStay: TimeInterval = 24 * 3600
    /// How far back the feed looks for messages.
    static let lookBack: TimeInterval = 30 * 86400

    /// The entries of `messages` (the store's released messages) as they stand at `now`,
    /// those overlapping `region` only when given.
    init(messages: [Warning], at now: Date, region: RegionCode? = nil) {
        let shown = messages.filter { $0.capStatus == "Actual" && $0.alert.scope == "Public" }
        var byReference: [String: Warning] = [:]
        for message in shown { byReference[message.sender + "," + message.identifier] = message }
        // The newest message naming each earlier one in its `references`.
        var replacer: [Warning.ID: Warning] = [:]
        for message in shown where message.msgType != .alert {
            for reference in message.references {
                guard let earlier = byReference[reference.sender + "," + reference.identifier] else { continue }
                if let known = replacer[earlier.id], Self.released(known) >= Self.released(message) { continue }
                replacer[earlier.id] = message
            }
        }
        var entries: [Entry] = []
        var lastModified = Date(timeIntervalSince1970: 0)
        for message in shown {
            let released = Self.released(message)
            let by = replacer[message.id]
            let standing: Standing
            switch message.status {
            case .superseded: standing = .updated(by: by?.id)
            case .cancelled: standing = .cancelled(by: by?.id)
            default: standing = .inForce
            }
            let changed = standing == .inForce ? released : max(released, by.map(Self.released) ?? released)
            var until = message.expires?.date
            if until == nil, message.msgType != .alert {
                // An Update or Cancel without `expires` stays while what it replaced would have.
                let bounds = message.references.compactMap { byReference[$0.sender + "," + $0.identifier]?.expires?.date }
                until = bounds.max() ?? released.addingTimeInterval(Self.unboundedStay)
            }
            if until == nil, standing != .inForce { until = changed.addingTimeInterval(Self.unboundedStay) }
            if let until, until <= now {
                lastModified = max(lastModified, until)
                continue
            }
            lastModified = max(lastModified, changed)
            guard region.map({ code in message.areas.contains { $0.overlaps(code) } }) ?? true else { continue }
            entries.append(Entry(warning: message, standing: standing, changed: changed, until: until))
        }
        self.entries = entries.sorted { ($0.changed, $0.warning.id.rawValue) > ($1.changed, $1.warning.id.rawValue) }
        // HTTP dates have whole seconds.
        self.lastModified = Date(timeIntervalSince1970: lastModified.timeIntervalSince1970.rounded(.down))
    }

    /// When a message was released (its receipt, for one released at once without a record).
    static func released(_ warning: Warning) -> Date {
        warning.approval?.releasedAt?.date ?? warning.receivedAt.date
    }
}
