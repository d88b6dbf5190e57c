import Foundation
import Logging
import ServiceLifecycle
import WarncastConfig
import WarncastCore
import WarncastStore

/// Finds warnings whose approval is overdue, marks them late and escalates them (again every
/// `escalationRepeat`), and expires warnings past their `expires`. Its timers are columns
/// of the store, so a restart loses none.
public struct ApprovalScheduler: Service {
    let store: any Store
    let interval: TimeInterval
    let escalationRepeat: TimeInterval
    let contacts: [String]
    let notifier: any EscalationNotifier
    let logger: Logger
    let now: @Sendable () -> Date

    public init(
        store: any Store, approval: WarncastConfiguration.Approval, notifier: any EscalationNotifier, logger: Logger,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.store = store
        interval = approval.checkInterval
        escalationRepeat = approval.escalationRepeat
        contacts = approval.escalationContacts
        self.notifier = notifier
        self.logger = logger
        self.now = now
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await tick()
            } catch {
                logger.error("approval check failed; retrying at the next interval", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(interval)) }
        }
    }

    /// One pass: expire, then escalate what is overdue. Returns the escalations made.
    @discardableResult
    public func tick() async throws -> [Escalation] {
        let at = now()
        for id in try await store.expireWarnings(at: at) {
            logger.notice("warning expired", metadata: ["warning": .string(id)])
        }
        let escalations = try await store.escalateOverdue(at: at, repeatEvery: escalationRepeat, contacts: contacts)
        for escalation in escalations {
            await notifier.notify(escalation)
        }
        return escalations
    }
}
