import Foundation
import NIOPosix
import Synchronization
import WarncastCore
import WarncastStore

/// Wrong passwords per user name and address: after `limit` within `window`, sign-ins for
/// that name from that address wait until the oldest of them is `window` old. Keyed on the
/// address too (an IPv6 address with the rest of its /64), so that someone guessing from
/// elsewhere cannot keep a leader out. Many addresses guessing one name together are held
/// to `nameLimit` within `window`, from wherever they come: past that the name is locked
/// for everyone until the oldest is `window` old. In memory: a restart forgets them.
final class SignInThrottle: Sendable {
    let limit = 5
    let nameLimit = 50
    let window: TimeInterval = 15 * 60
    /// Past this many keys, those with nothing recent are dropped, then new keys are
    /// refused until some expire: a flood of made-up names cannot grow the table or wipe it.
    let capacity = 20_000
    private let failures = Mutex<[String: [Date]]>([:])

    enum Refusal: Equatable {
        /// Too many from this address for this name.
        case here(TimeInterval)
        /// Too many for this name from everywhere, or the table is full.
        case everywhere(TimeInterval)

        var wait: TimeInterval {
            switch self {
            case .here(let wait), .everywhere(let wait): wait
            }
        }
    }

    /// Counts an attempt for `username` from `client` as a failure (until `succeeded`), or
    /// says why and how long to wait when a limit is reached.
    func attempt(_ username: String, from client: String, at now: Date) -> Refusal? {
        let key = Self.key(username, client)
        let total = Self.key(username, "*")
        return failures.withLock { failures in
            var recent = (failures[key] ?? []).filter { now.timeIntervalSince($0) < window }
            var all = (failures[total] ?? []).filter { now.timeIntervalSince($0) < window }
            if recent.count >= limit, let oldest = recent.first {
                failures[key] = recent
                return .here(window - now.timeIntervalSince(oldest))
            }
            if all.count >= nameLimit, let oldest = all.first {
                failures[total] = all
                return .everywhere(window - now.timeIntervalSince(oldest))
            }
            if failures[key] == nil || failures[total] == nil, failures.count >= capacity - 1 {
                failures = failures.filter { $0.value.contains { now.timeIntervalSince($0) < window } }
                if failures.count >= capacity - 1 { return .everywhere(60) }
            }
            recent.append(now)
            all.append(now)
            failures[key] = recent
            failures[total] = all
            return nil
        }
    }

    /// The attempt at `at` was not a try of the password after all (refused for load).
    func forget(_ username: String, from client: String, at: Date) {
        failures.withLock { failures in
            for key in [Self.key(username, client), Self.key(username, "*")] {
                if let index = failures[key]?.lastIndex(of: at) { failures[key]?.remove(at: index) }
            }
        }
    }

    /// The password matched: this address starts afresh, and the attempt at `at` is taken
    /// off the name's count (others' failures stay on it).
    func succeeded(_ username: String, from client: String, at: Date) {
        failures.withLock { failures in
            failures.removeValue(forKey: Self.key(username, client))
            let total = Self.key(username, "*")
            if let index = failures[total]?.lastIndex(of: at) { failures[total]?.remove(at: index) }
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
