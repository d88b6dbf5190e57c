import Foundation
import Synchronization
import WarncastCore

/// Trouble in delivery that the people on duty should hear of.
public enum DispatchTrouble: Sendable, Equatable {
    /// A gateway a channel's deliveries share (an SMS centre, a carrier's gateway, a mail
    /// server) failed `breaker_failures` times in a row and is left alone for its cooldown.
    case gatewayDown(channel: String, endpoint: String, error: String)
    /// A delivery was given up: refused for good, or out of attempts.
    case givenUp(channel: String, warning: String, recipient: String, error: String)
}

/// Hears of dispatch trouble (the duty notifier).
public protocol DispatchTroubleListener: Sendable {
    func heard(_ trouble: DispatchTrouble)
}

/// Passes trouble on to the listener set after the dispatcher was built (the notifier needs
/// the dispatcher's adapters); nothing is passed on while none is set.
final class TroubleRelay: Sendable {
    private let listener = Mutex<(any DispatchTroubleListener)?>(nil)

    func set(_ listener: any DispatchTroubleListener) { self.listener.withLock { $0 = listener } }

    func report(_ trouble: DispatchTrouble) { listener.withLock { $0 }?.heard(trouble) }
}
