import ArgumentParser
import Foundation
import WarncastConfig
import WarncastCore
import WarncastStore

/// The configuration and store a CLI command works on, and who it acts as in the audit log.
struct CLIContext {
    let configuration: WarncastConfiguration
    let store: SQLiteStore

    init(_ options: StoreOptions) throws {
        do {
            configuration = try ConfigLoader.load(path: options.config)
        } catch {
            throw CLIError("bad configuration: \(error)")
        }
        store = try SQLiteStore(path: configuration.store.databasePath)
    }

    /// `cli:<account>` for the audit log.
    var actor: AuditActor { .cli(user: Self.account()) }

    /// The account the command runs as, from its user id (not `$USER`, which anyone can
    /// set to any name), and who ran sudo when it came through sudo (`sudo -u warncast …`
    /// runs as the store's service account, which names no person): `warncast (sudo:
    /// alice)`. An id without an account in the password database is `uid <n>`.
    static func account(uid: uid_t = getuid(), environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let account = getpwuid(uid).flatMap { $0.pointee.pw_name.map { String(cString: $0) } } ?? "uid \(uid)"
        guard let invoker = environment["SUDO_USER"], !invoker.isEmpty, invoker != account else { return account }
        return "\(account) (sudo: \(invoker))"
    }
}

/// A failure reported to the operator in one line, with exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
