import Logging
import WarncastCore

/// The one place a release is announced: every subscriber (the dispatch engine, later) hears
/// of each released warning exactly once, after the release is committed.
public struct ReleaseAnnouncer: Sendable {
    let subscribers: [any ReleaseSubscriber]

    public init(subscribers: [any ReleaseSubscriber]) {
        self.subscribers = subscribers
    }

    func announce(_ warning: Warning) async {
        for subscriber in subscribers {
            await subscriber.warningReleased(warning)
        }
    }
}

/// Logs each release; the default subscriber until the dispatch engine subscribes.
public struct LogReleaseSubscriber: ReleaseSubscriber {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public func warningReleased(_ warning: Warning) async {
        logger.notice(
            "warning released",
            metadata: [
                "warning": .string(warning.id.rawValue), "level": .string(warning.level.rawValue),
                "event": .string(warning.event), "msgType": .string(warning.msgType.rawValue),
                "areas": .string(warning.areas.map(\.rawValue).joined(separator: " ")),
            ])
    }
}

/// Logs each escalation; the channel adapters will deliver them to the contacts.
public struct LogEscalationNotifier: EscalationNotifier {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public func notify(_ escalation: Escalation) async {
        logger.warning(
            "approval overdue: escalated",
            metadata: [
                "warning": .string(escalation.warningID), "number": .stringConvertible(escalation.number),
                "deadline": .string(escalation.deadline.text), "rule": .string(escalation.rule),
                "contacts": .string(escalation.contacts.joined(separator: "; ")),
                "missing": .string(escalation.missing.map { "\($0.role)@\($0.scope.rawValue)" }.joined(separator: " ")),
            ])
    }
}

/// Several escalation notifiers, each told in turn (the log, then the duty contacts), in a
/// task of their own: a notice tried again on a failing gateway may take half a minute, and
/// the approval scheduler that hands escalations over must not wait for it (its next pass
/// expires warnings and escalates the next overdue ones).
public struct EscalationNotifiers: EscalationNotifier {
    let all: [any EscalationNotifier]

    public init(_ all: [any EscalationNotifier]) {
        self.all = all
    }

    public func notify(_ escalation: Escalation) async {
        let all = all
        Task { for notifier in all { await notifier.notify(escalation) } }
    }
}
