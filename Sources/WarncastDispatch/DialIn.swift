import Foundation
import ServiceLifecycle
import Synchronization
import WarncastCore

/// Terminals that dial in: behind 4G or a village's NAT nobody can reach them, so they keep
/// a connection open to the node (`GET /v1/terminals/{id}/stream`, Server-Sent Events) and
/// their warnings are pushed down it. The terminal acknowledges each on
/// `POST /v1/terminals/{id}/ack`. One connection per terminal: a new one replaces the old.
///
/// A delivery to a dial-in terminal goes through the channel like any other (lease, rate
/// limit, signature, the recorder); `DialInTransport` hands it to the hub instead of
/// libcurl. A terminal not connected defers its delivery, which does not count as an
/// attempt, and its reconnection makes every delivery waiting for it due at once.
public final class DialInHub: Sendable {
    /// One message pushed down a connection: the signed request's headers and exact body.
    public struct Push: Sendable {
        public var idempotencyKey: String
        public var headers: [String: String]
        public var body: Data

        public init(idempotencyKey: String, headers: [String: String], body: Data) {
            self.idempotencyKey = idempotencyKey
            self.headers = headers
            self.body = body
        }

        /// Not a message: the comment line every connection gets every `keepAliveInterval`.
        public static let keepAlive = Push(idempotencyKey: "", headers: [:], body: Data())
        public var isKeepAlive: Bool { idempotencyKey.isEmpty }
    }

    /// How often every connection carries a comment line: it keeps NAT mappings and proxies
    /// open, and finds connections the terminal dropped (the write fails).
    public static let keepAliveInterval: Duration = .seconds(15)

    /// What became of a push.
    public enum Answer: Sendable, Equatable {
        case acknowledged
        case notConnected
        /// Pushed, but no acknowledgement within the time allowed.
        case noAnswer
        /// The terminal refused it, with the status and reason a pushed terminal would
        /// answer (`401 stale`, say, when its clock is off).
        case refused(status: Int, reason: String)
    }

    private struct Connection {
        var number: UInt64
        var continuation: AsyncStream<Push>.Continuation
        /// Hashes of the secret it connected with (warncastd gives the plain SHA-256 only):
        /// an acknowledgement must present one of them.
        var secretHashes: Set<String>
    }

    /// A push waiting for its acknowledgement: what was pushed (to push it again down a
    /// connection that replaces this one) and who waits.
    private struct Waiter {
        var push: Push
        var continuation: CheckedContinuation<Answer, Never>
        /// When it goes unanswered.
        var deadline: ContinuousClock.Instant
    }

    private struct State {
        var connections: [String: Connection] = [:]
        var next: UInt64 = 0
        /// Pushes waiting for their acknowledgement, by terminal, then idempotency key: a
        /// terminal's waiters are found without looking at anyone else's (15,000 pushes
        /// timing out together, or as many terminals dropping at once, each look once).
        var waiting: [String: [String: Waiter]] = [:]
        /// The node is stopping: no new connections.
        var closed = false
        /// Terminals a push found away since they last connected, or whose connection went
        /// with pushes still waiting on it (answered `notConnected`, so deferred).
        var missed: Set<String> = []
        /// The task watching the waiters' deadlines (`watchDeadlines`).
        var watcher = TimerCharge()

        /// Removes the waiters of `terminal`.
        mutating func removeWaiters(of terminal: String) -> [Waiter] {
            waiting.removeValue(forKey: terminal).map { Array($0.values) } ?? []
        }

        /// Removes the push of `key` waiting on `terminal`.
        mutating func removeWaiter(_ key: String, of terminal: String) -> Waiter? {
            guard let waiter = waiting[terminal]?.removeValue(forKey: key) else { return nil }
            if waiting[terminal]?.isEmpty == true { waiting.removeValue(forKey: terminal) }
            return waiter
        }

        /// Removes `terminal`'s connection and its waiters.
        mutating func drop(_ terminal: String) -> (Connection?, [Waiter]) {
            (connections.removeValue(forKey: terminal), removeWaiters(of: terminal))
        }
    }

    private let state = Mutex(State())
    /// Told of every (re)connection: the dispatcher makes its waiting deliveries due. (A
    /// protocol, not a stored async closure: the release build turned a closure kept in a
    /// Mutex into two reabstraction thunks calling each other without end.)
    private let listener = Mutex<(any DialInListener)?>(nil)

    public init() {}

    /// Sends the keep-alive down every connection every `keepAliveInterval` until cancelled.
    public func keepConnectionsAlive() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: Self.keepAliveInterval) } catch { return }
            let all = state.withLock { $0.connections.values.map(\.continuation) }
            for continuation in all { continuation.yield(.keepAlive) }
        }
    }

    /// Tells `listener` of each terminal that connects from now on.
    public func tell(_ listener: any DialInListener) {
        self.listener.withLock { $0 = listener }
    }

    /// Registers a connection of `terminal` (already authenticated); pushes come on the
    /// returned stream until it is replaced, dropped, or `disconnect` is called with its
    /// number. Pushes waiting on a connection it replaces are pushed down this one. Once the
    /// hub is closed the stream ends at once.
    public func connect(terminal: String, secretHashes: [String]) async -> (number: UInt64, pushes: AsyncStream<Push>) {
        let (stream, continuation) = AsyncStream.makeStream(of: Push.self, bufferingPolicy: .unbounded)
        let (number, replaced, missed) = state.withLock { state -> (UInt64, Connection?, Bool) in
            guard !state.closed else { return (0, nil, false) }
            state.next += 1
            let old = state.connections[terminal]
            state.connections[terminal] = Connection(
                number: state.next, continuation: continuation, secretHashes: Set(secretHashes))
            for waiter in state.waiting[terminal, default: [:]].values { continuation.yield(waiter.push) }
            return (state.next, old, state.missed.remove(terminal) != nil)
        }
        guard number != 0 else {
            continuation.finish()
            return (0, stream)
        }
        replaced?.continuation.finish()
        if let listener = listener.withLock({ $0 }) { await listener.terminalConnected(terminal, missedPushes: missed) }
        return (number, stream)
    }

    /// Forgets connection `number` of `terminal`, if it is still the current one. Pushes
    /// still waiting on it are answered `notConnected`: they wait for the next connection
    /// without spending an attempt, and that connection is told it has missed pushes (the
    /// deferral may be written only after it has connected).
    public func disconnect(terminal: String, number: UInt64) {
        let (gone, waiters) = state.withLock { state -> (Connection?, [Waiter]) in
            guard state.connections[terminal]?.number == number else { return (nil, []) }
            let (gone, waiters) = state.drop(terminal)
            if !waiters.isEmpty { state.missed.insert(terminal) }
            return (gone, waiters)
        }
        gone?.continuation.finish()
        for waiter in waiters { waiter.continuation.resume(returning: .notConnected) }
    }

    /// Ends every connection and takes no more, as the node stops; pushes still waiting are
    /// answered `notConnected`.
    public func hangUpAll() {
        let (connections, waiters) = state.withLock { state in
            state.closed = true
            defer {
                state.connections.removeAll()
                state.waiting.removeAll()
            }
            return (Array(state.connections.values), state.waiting.values.flatMap(\.values))
        }
        for connection in connections { connection.continuation.finish() }
        for waiter in waiters { waiter.continuation.resume(returning: .notConnected) }
    }

    /// Terminals connected now.
    public var connectedCount: Int { state.withLock { $0.connections.count } }

    public func isConnected(_ terminal: String) -> Bool { state.withLock { $0.connections[terminal] != nil } }

    /// Pushes `push` to `terminal` and waits up to `timeout` for its acknowledgement. A
    /// connection that lets a push go unanswered is dropped: one the terminal lost without
    /// a word (its writes still succeed for minutes) would swallow every push; a terminal
    /// that is alive dials again, and gets what waits for it then.
    public func push(_ push: Push, to terminal: String, timeout: Duration) async -> Answer {
        let key = push.idempotencyKey
        let deadline = ContinuousClock.now + timeout
        return await withCheckedContinuation { (waiter: CheckedContinuation<Answer, Never>) in
            let (pushed, earlier, watcher) = state.withLock { state -> (Bool, Waiter?, UInt64?) in
                guard let connection = state.connections[terminal] else {
                    state.missed.insert(terminal)
                    return (false, nil, nil)
                }
                // A push still waiting under the same key (a retry after a lease ran out)
                // gives way to this one: the acknowledgement answers whichever waits.
                let earlier = state.waiting[terminal, default: [:]].updateValue(
                    Waiter(push: push, continuation: waiter, deadline: deadline), forKey: key)
                if case .terminated = connection.continuation.yield(push) {
                    _ = state.removeWaiter(key, of: terminal)
                    state.missed.insert(terminal)
                    return (false, earlier, nil)
                }
                // A new watcher only if none would look by this deadline (none runs, or it
                // sleeps until a later deadline of a longer timeout).
                return (true, earlier, state.watcher.take(for: deadline))
            }
            earlier?.continuation.resume(returning: .noAnswer)
            guard pushed else {
                waiter.resume(returning: .notConnected)
                return
            }
            if let watcher { Task { await self.watchDeadlines(watcher) } }
        }
    }

    /// Answers pushes whose time ran out `noAnswer` and drops their connections, for as long
    /// as any push waits. One task for all of them, started by the first push and ending
    /// with the last (a push with an earlier deadline than it sleeps to starts a new one):
    /// a timer task per push cost a 15,000-terminal warning as much CPU as writing its
    /// messages. A deadline is seen at most `deadlineSlack` late.
    private func watchDeadlines(_ id: UInt64) async {
        while true {
            let now = ContinuousClock.now
            let (late, next) = state.withLock {
                state -> ([(late: [Waiter], gone: Connection?, others: [Waiter])], ContinuousClock.Instant?) in
                // A newer watcher has taken over.
                guard state.watcher.isInCharge(id) else { return ([], nil) }
                var lateTerminals: [String] = []
                var next: ContinuousClock.Instant?
                for (terminal, waiters) in state.waiting {
                    guard let earliest = waiters.values.lazy.map(\.deadline).min() else { continue }
                    if earliest <= now {
                        lateTerminals.append(terminal)
                    } else {
                        next = min(next ?? earliest, earliest)
                    }
                }
                // A terminal that let a push go unanswered loses its connection, and with it
                // the pushes still in time.
                let late = lateTerminals.map { terminal in
                    let (gone, waiters) = state.drop(terminal)
                    let others = waiters.filter { $0.deadline > now }
                    if !others.isEmpty { state.missed.insert(terminal) }
                    return (waiters.filter { $0.deadline <= now }, gone, others)
                }
                next = next.map { max($0, now + Self.deadlineSlack) }
                state.watcher.looks(at: next)
                return (late, next)
            }
            for (lateOnes, gone, others) in late {
                for waiter in lateOnes { waiter.continuation.resume(returning: .noAnswer) }
                gone?.continuation.finish()
                for other in others { other.continuation.resume(returning: .notConnected) }
            }
            guard let next else { return }
            try? await Task.sleep(until: next, clock: .continuous)
        }
    }

    /// How often, at most, the deadlines of waiting pushes are looked at.
    static let deadlineSlack: Duration = .milliseconds(50)

    /// `terminal` answers the push with `idempotencyKey` (acknowledged by default, or
    /// refused), presenting a secret that hashes to `secretHashes` (in the form given at
    /// `connect`). False when no push of that key waits on this terminal, or the secret is
    /// not the one it connected with.
    public func acknowledge(
        terminal: String, idempotencyKey: String, secretHashes: [String], answer: Answer = .acknowledged
    ) -> Bool {
        let waiter = state.withLock { state -> Waiter? in
            guard let connection = state.connections[terminal], !connection.secretHashes.isDisjoint(with: secretHashes) else {
                return nil
            }
            return state.removeWaiter(idempotencyKey, of: terminal)
        }
        waiter?.continuation.resume(returning: answer)
        return waiter != nil
    }
}

/// As a service of warncastd, the hub sends the keep-alive until the daemon stops.
/// As it stops, it ends every connection (the terminals dial again, elsewhere or once the
/// node is back): the HTTP server waits for open responses before it can stop.
extension DialInHub: Service {
    public func run() async throws {
        await cancelWhenGracefulShutdown { await self.keepConnectionsAlive() }
        hangUpAll()
    }
}
