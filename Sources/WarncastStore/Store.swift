import Foundation
import WarncastCore

/// Everything Warncast keeps, as the daemon and the CLI use it: the role protocols each
/// caller needs on its own (a dispatcher needs only an `Outbox`), together. One
/// implementation today (`SQLiteStore`); a PostgreSQL store for several daemons sharing one
/// queue can sit behind the same roles later.
///
/// Every method that changes something is one transaction, and its audit entry commits in
/// that same transaction.
public protocol Store: Outbox, WarningStore, RegistryStore, ReportStore, AuditStore, TerminalStore {
    /// Whether the store answers reads.
    func ping() async throws
    /// Whether the store can read and write now; for `/healthz` (which may answer from a
    /// probe that wrote within the last second) and, with `fresh`, the watchdog (which
    /// always writes its probe: a store whose writes hang must not look healthy to it).
    func health(fresh: Bool) async -> StoreHealth
}

extension Store {
    public func health() async -> StoreHealth { await health(fresh: false) }
}

/// Failures of the store that a caller can act on.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownDepartment(String)
    case unknownRegion(String)
    case unknownWarning(String)
    /// A recipient with this id exists in a region outside the caller's.
    case recipientOutOfScope(id: String, region: String)
    case cannotOpen(path: String, reason: String)

    public var description: String {
        switch self {
        case .unknownDepartment(let id): "no department '\(id)'"
        case .unknownRegion(let code): "no region \(code) in the registry"
        case .unknownWarning(let id): "no warning '\(id)'"
        case .recipientOutOfScope(let id, let region):
            "recipient '\(id)' exists in region \(region), outside your region: it cannot be changed, moved or replaced from here"
        case .cannotOpen(let path, let reason): "cannot open the store at \(path): \(reason)"
        }
    }
}
