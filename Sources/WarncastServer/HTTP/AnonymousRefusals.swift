import Foundation
import WarncastCore
import WarncastStore

/// Refusals of callers who proved nothing (no valid token, a forged receipt, an unsigned
/// hand-down) go to the audit log at most `perMinute` times a minute; beyond that they are
/// only counted, and the count is written as one entry when the next minute begins. A
/// stranger can neither flood the log nor store what they like in it (every field is cut
/// and escaped by the log itself).
actor AnonymousRefusals {
    private let store: any AuditStore
    private let perMinute: Int
    private let now: @Sendable () -> Date
    private var windowStart: Date?
    private var written = 0
    private var suppressed = 0

    init(store: any AuditStore, perMinute: Int = 60, now: @escaping @Sendable () -> Date) {
        self.store = store
        self.perMinute = perMinute
        self.now = now
    }

    func record(_ event: AuditEvent) async throws {
        let at = now()
        if let start = windowStart, at.timeIntervalSince(start) < 60 {
            guard written < perMinute else {
                suppressed += 1
                return
            }
        } else {
            let (start, count) = (windowStart, suppressed)
            windowStart = at
            written = 0
            suppressed = 0
            if let start, count > 0 {
                try await store.appendAudit(
                    AuditEvent(
                        actor: .anonymous, action: .refusalsSuppressed, subject: "anonymous",
                        detail: ["count": String(count), "since": Timestamp.string(start), "limit_per_minute": String(perMinute)]),
                    at: at)
            }
        }
        written += 1
        try await store.appendAudit(event, at: at)
    }
}
