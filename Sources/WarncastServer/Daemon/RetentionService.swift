import Foundation
import Logging
import ServiceLifecycle
import WarncastCore
import WarncastStore

/// Deletes attempt-by-attempt detail and gateway reports older than `store.retention_days`,
/// once an hour. The deletion is in the audit log; the audit log itself, warnings and
/// deliveries (with every state's time and the last status) are never deleted.
public struct RetentionService: Service {
    let store: any Store
    let days: Int
    let logger: Logger
    let now: @Sendable () -> Date

    public init(store: any Store, days: Int, logger: Logger, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.days = days
        self.logger = logger
        self.now = now
    }

    public func run() async throws {
        guard days > 0 else {
            // Nothing to do, but a service that returns would stop the daemon with it.
            try? await gracefulShutdown()
            return
        }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await prune()
            } catch {
                logger.error("retention pass failed; retrying in an hour", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(3600)) }
        }
    }

    /// One pass; returns what was deleted.
    @discardableResult
    public func prune() async throws -> (attempts: Int, receipts: Int) {
        let at = now()
        let cutoff = at.addingTimeInterval(-Double(days) * 86_400)
        let pruned = try await store.prune(before: cutoff, actor: .retention, at: at)
        if pruned.attempts + pruned.receipts > 0 {
            logger.notice(
                "retention: old attempts and reports deleted",
                metadata: [
                    "attempts": .stringConvertible(pruned.attempts), "receipts": .stringConvertible(pruned.receipts),
                    "days": .stringConvertible(days),
                ])
        }
        return pruned
    }
}
