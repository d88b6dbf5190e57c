import Foundation
import GRDB
import Synchronization

/// Whether the store can still write, as its writes and a probe find it. A store that can
/// only read (a full disk, a read-only mount, an I/O error) must not look healthy: nothing
/// accepted could be recorded, no receipt stored.
final class WriteMonitor: Sendable {
    /// How long a failed write keeps the store unhealthy when no write succeeds after it.
    static let window: TimeInterval = 30

    private struct State {
        var lastSuccess: Date?
        var lastFailure: (at: Date, reason: String)?
        /// When the last probe that wrote finished (a monotonic clock: a step of the wall
        /// clock changes nothing).
        var lastProbeWritten: ContinuousClock.Instant?
    }

    /// How often, at most, `/healthz` writes its probe row: anyone may ask, and each probe is
    /// a write transaction synced to disk on the one writer that intake and deliveries use.
    static let probeInterval: TimeInterval = 1

    /// Whether a probe wrote, and finished, less than `probeInterval` ago, so that another
    /// is not needed. A probe that failed, or has not finished (a write that hangs), stands
    /// for nothing: the next caller asks the disk again.
    func probedRecently() -> Bool {
        state.withLock { state in
            guard let written = state.lastProbeWritten else { return false }
            return ContinuousClock.now - written < .seconds(Self.probeInterval)
        }
    }

    func probed(wrote: Bool) {
        state.withLock { $0.lastProbeWritten = wrote ? ContinuousClock.now : nil }
    }

    private let state = Mutex(State())

    func succeeded(at date: Date) {
        state.withLock { $0.lastSuccess = date }
    }

    func failed(at date: Date, reason: String) {
        state.withLock { $0.lastFailure = (date, reason) }
    }

    /// Why the store is not writing, or nil when it is: a write failed within the window
    /// and none succeeded since.
    func problem(at date: Date) -> String? {
        state.withLock { state in
            guard let failure = state.lastFailure, date.timeIntervalSince(failure.at) < Self.window else { return nil }
            if let success = state.lastSuccess, success > failure.at { return nil }
            return failure.reason
        }
    }

    /// Errors that say the database cannot be written at all, as opposed to a refusal of
    /// one write (a constraint, a domain rule).
    static func isStorageFailure(_ error: any Error) -> Bool {
        guard let error = error as? DatabaseError else { return false }
        return [.SQLITE_FULL, .SQLITE_IOERR, .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_CORRUPT, .SQLITE_NOMEM, .SQLITE_NOTADB]
            .contains(error.resultCode)
    }
}

/// What `/healthz` and the watchdog are told about the store.
public struct StoreHealth: Sendable, Equatable {
    /// Nil when reads and writes work; else why not.
    public var problem: String?

    public var isHealthy: Bool { problem == nil }

    public init(problem: String?) {
        self.problem = problem
    }
}
