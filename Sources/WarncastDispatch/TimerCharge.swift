/// Which of an object's timer tasks is in charge of its deadlines, and when that one looks
/// next; kept inside the object's locked state (a doorbell, the dial-in hub). A new
/// deadline starts a new timer task only when the one in charge would look later; a
/// replaced task finds it is no longer in charge when it wakes, and ends.
struct TimerCharge {
    private var current: UInt64 = 0
    /// When the timer in charge looks next; nil when none runs.
    private(set) var wake: ContinuousClock.Instant?

    /// The id of a timer task to start for `deadline`, or nil when the one in charge looks
    /// by then.
    mutating func take(for deadline: ContinuousClock.Instant) -> UInt64? {
        guard wake.map({ $0 > deadline }) ?? true else { return nil }
        current += 1
        wake = deadline
        return current
    }

    func isInCharge(_ id: UInt64) -> Bool { id == current }

    /// The timer in charge looks next at `next`, or ends (nil).
    mutating func looks(at next: ContinuousClock.Instant?) { wake = next }
}
