import Foundation
import Synchronization
import WarncastCore
import WarncastStore

/// Whether a warning has been replaced by an Update or lifted by a Cancel, asked just
/// before each request: deliveries leased before the replacement was released (waiting for
/// a slot or for the rate limit, a minute on a slow SMS gateway) must not go out after it.
/// An answer is kept until the next Update or Cancel is released (`replacementReleased`);
/// a warning found replaced stays so.
final class WarningStanding: Sendable {
    private let outbox: any Outbox

    private struct Known {
        /// The count of replacements released when this was asked.
        var generation: UInt64
        var withdrawn: Bool
    }

    private struct State {
        var generation: UInt64 = 0
        var known: [String: Known] = [:]
    }

    private let state = Mutex(State())

    init(outbox: any Outbox) {
        self.outbox = outbox
    }

    /// An Update or a Cancel was released (and committed): every warning is asked again.
    func replacementReleased() {
        state.withLock { $0.generation += 1 }
    }

    /// Whether `warningID` was replaced or lifted. When the store cannot answer, the
    /// delivery goes out as it would have (and a later answer says otherwise).
    func isWithdrawn(_ warningID: Warning.ID) async -> Bool {
        let (known, generation) = state.withLock { ($0.known[warningID.rawValue], $0.generation) }
        if let known, known.withdrawn || known.generation == generation { return known.withdrawn }
        guard let withdrawn = try? await outbox.withdrawnWarnings([warningID]).contains(warningID) else { return false }
        state.withLock { state in
            if state.known.count >= 4096 { state.known.removeAll() }
            state.known[warningID.rawValue] = Known(generation: generation, withdrawn: withdrawn)
        }
        return withdrawn
    }
}
