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

    /// `cli:<login>` for the audit log.
    var actor: AuditActor {
        .cli(user: ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown")
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
