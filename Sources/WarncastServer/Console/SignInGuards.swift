import Foundation
import NIOPosix
import Synchronization
import WarncastCore
import WarncastStore

/// Wrong passwords per user name and address: after `limit` within `window`, sign-ins for
/// that name from that address wait until the oldest of them is `window` old. Keyed on the
/// address too (an IPv6 address with the rest of its /64), so that someone guessing from
/// elsewhere cannot keep a leader out. Many addresses guessing one name together are held
/// to `nameLimit` within `window`: past that the name is refused from every address except
/// those it signed in from within `knownFor` (so a crowd of guessers cannot lock the leader
/// out of the desk they use), until the oldest failure is `window` old. In memory: a
/// restart forgets them.
final class SignInThrottle: Sendable {
    let limit = 5
    let nameLimit = 50
    let window: TimeInterval = 15 * 60
    let knownFor: TimeInterval = 30 * 24 * 3600
    /// Past this many keys, those with nothing recent are dropped, then new keys are
    /// refused until some expire: a flood of made-up names cannot grow the table or wipe it.
    let capacity = 20_000
    private let state = Mutex(State())

    private struct State {
        var failures: [String: [Date]] = [:]
        /// When each name last signed in from each address, by the same key as `failures`.
        var known: [String: Date] = [:]
    }

    enum Refusal: Equatable {
        /// Too many from this address for this name.
        case here(TimeInterval)
        /// Too many for this name from everywhere.
        case everywhere(TimeInterval)
        /// Too many names and addresses are being tried at once to count another.
        case full(TimeInterval)
        /// Not the throttle's: too many passwords are being checked at once.
        case busy

        var wait: TimeInterval {
            switch self {
            case .here(let wait), .everywhere(let wait), .full(let wait): wait
            case .busy: 1
            }
        }

        /// Why, as the audit entry of the refused sign-in says it.
        var why: String {
            switch self {
            case .here: "locked"
            case .everywhere: "locked everywhere"
            case .full: "too many names"
            case .busy: "busy"
            }
        }

        /// What the 429 tells the person signing in.
        var detail: String {
            let seconds = Int(wait.rounded(.up))
            return switch self {
            case .here: "too many wrong passwords for this user from here: try again in \(seconds) s"
            case .everywhere: "too many wrong passwords for this user from many places: try again in \(seconds) s"
            case .full: "too many user names are being tried at once: try again in \(seconds) s"
            case .busy: "too many sign-ins at once: try again in a moment"
            }
        }
    }

    /// Counts an attempt for `username` from `client` as a failure (until `succeeded`), or
    /// says why and how long to wait when a limit is reached.
    func attempt(_ username: String, from client: String, at now: Date) -> Refusal? {
        let key = Self.key(username, client)
        let total = Self.key(username, "*")
        return state.withLock { state in
            var recent = (state.failures[key] ?? []).filter { now.timeIntervalSince($0) < window }
            var all = (state.failures[total] ?? []).filter { now.timeIntervalSince($0) < window }
            if recent.count >= limit, let oldest = recent.first {
                state.failures[key] = recent
                return .here(window - now.timeIntervalSince(oldest))
            }
            let known = state.known[key].map { now.timeIntervalSince($0) < knownFor } ?? false
            if all.count >= nameLimit, !known, let oldest = all.first {
                state.failures[total] = all
                return .everywhere(window - now.timeIntervalSince(oldest))
            }
            if state.failures[key] == nil || state.failures[total] == nil, state.failures.count >= capacity - 1 {
                state.failures = state.failures.filter { $0.value.contains { now.timeIntervalSince($0) < window } }
                if state.failures.count >= capacity - 1 { return .full(60) }
            }
            recent.append(now)
            all.append(now)
            state.failures[key] = recent
            state.failures[total] = all
            return nil
        }
    }

    /// The attempt at `at` was not a try of the password after all (refused for load).
    func forget(_ username: String, from client: String, at: Date) {
        state.withLock { state in
            for key in [Self.key(username, client), Self.key(username, "*")] {
                if let index = state.failures[key]?.lastIndex(of: at) { state.failures[key]?.remove(at: index) }
            }
        }
    }

    /// The password matched: this address starts afresh and is known for the name from now
    /// on; the name's count across addresses keeps every earlier failure (this address's
    /// too) and loses only the attempt at `at`.
    func succeeded(_ username: String, from client: String, at: Date) {
        state.withLock { state in
            let key = Self.key(username, client)
            state.failures.removeValue(forKey: key)
            let total = Self.key(username, "*")
            if let index = state.failures[total]?.lastIndex(of: at) { state.failures[total]?.remove(at: index) }
            if state.known[key] == nil, state.known.count >= capacity {
                state.known = state.known.filter { at.timeIntervalSince($0.value) < knownFor }
                guard state.known.count < capacity else { return }
            }
            state.known[key] = at
        }
    }

    private static func key(_ username: String, _ client: String) -> String {
        "\(username.prefix(64))\n\(IPAddressText.neighbourhood(client))"
    }
}

/// bcrypt checks, on NIO's pool for blocking work and at most `limit` at once: nil when
/// that many are already running.
final class PasswordChecks: Sendable {
    let limit = 4
    private let running = Mutex(0)

    func verify(_ password: String, hash: String) async throws -> Bool? {
        let admitted = running.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
        guard admitted else { return nil }
        defer { running.withLock { $0 -= 1 } }
        return try await NIOThreadPool.singleton.runIfActive { ConsolePassword.verify(password, hash: hash) }
    }
}
