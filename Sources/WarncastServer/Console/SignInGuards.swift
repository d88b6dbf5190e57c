import Foundation
import NIOPosix
import Synchronization
import WarncastStore

/// Wrong passwords per user name and address: after `limit` within `window`, sign-ins for
/// that name from that address wait until the oldest of them is `window` old. Keyed on the
/// address too, so that someone guessing from elsewhere cannot keep a leader out. In memory:
/// a restart forgets them.
final class SignInThrottle: Sendable {
    let limit = 5
    let window: TimeInterval = 15 * 60
    /// Past this many keys, those with nothing recent are dropped, then new keys are
    /// refused until some expire: a flood of made-up names cannot grow the table or wipe it.
    let capacity = 20_000
    private let failures = Mutex<[String: [Date]]>([:])

    /// Counts an attempt for `username` from `client` as a failure (until `succeeded`), or
    /// returns the seconds to wait when the limit is reached.
    func attempt(_ username: String, from client: String, at now: Date) -> TimeInterval? {
        let key = Self.key(username, client)
        return failures.withLock { failures in
            var recent = (failures[key] ?? []).filter { now.timeIntervalSince($0) < window }
            if recent.count >= limit, let oldest = recent.first {
                failures[key] = recent
                return window - now.timeIntervalSince(oldest)
            }
            if failures[key] == nil, failures.count >= capacity {
                failures = failures.filter { $0.value.contains { now.timeIntervalSince($0) < window } }
                if failures.count >= capacity { return 60 }
            }
            recent.append(now)
            failures[key] = recent
            return nil
        }
    }

    /// The attempt at `at` was not a try of the password after all (refused for load).
    func forget(_ username: String, from client: String, at: Date) {
        failures.withLock { failures in
            let key = Self.key(username, client)
            if let index = failures[key]?.lastIndex(of: at) { failures[key]?.remove(at: index) }
        }
    }

    func succeeded(_ username: String, from client: String) {
        _ = failures.withLock { $0.removeValue(forKey: Self.key(username, client)) }
    }

    private static func key(_ username: String, _ client: String) -> String { "\(username.prefix(64))\n\(client)" }
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
