import ArgumentParser
import Foundation
import WarncastConfig
import WarncastCore
import WarncastDispatch
import WarncastStore

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "The Ed25519 keys that sign outgoing messages.",
        subcommands: [Generate.self, Rotate.self, Show.self])

    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create the keyring named by dispatch.signing_key_file.")

        @OptionGroup var options: StoreOptions

        func run() async throws {
            let context = try CLIContext(options)
            let path = context.configuration.dispatch.signingKeyFile
            guard !FileManager.default.fileExists(atPath: path) else {
                throw CLIError(SigningKeyring.Failure.exists(path).description)
            }
            let keyring = SigningKeyring.generate()
            try keyring.save(path: path)
            try await context.store.appendAudit(
                AuditEvent(actor: context.actor, action: .keysGenerated, subject: keyring.active.id, detail: ["file": path]),
                at: Date())
            print("generated key \(keyring.active.id) in \(path)")
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Retire the active key (still published) and make a new one; restart warncastd to sign with it.")

        @OptionGroup var options: StoreOptions

        func run() async throws {
            let context = try CLIContext(options)
            let path = context.configuration.dispatch.signingKeyFile
            var keyring = try SigningKeyring.load(path: path)
            let old = keyring.active.id
            try keyring.rotate()
            try keyring.save(path: path)
            try await context.store.appendAudit(
                AuditEvent(
                    actor: context.actor, action: .keysRotated, subject: keyring.active.id,
                    detail: ["file": path, "retired": old]),
                at: Date())
            print("retired \(old); new active key \(keyring.active.id)")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the public keys, as /.well-known/warncast-keys serves them.")

        @OptionGroup var options: StoreOptions

        func run() async throws {
            let context = try CLIContext(options)
            try printJSON(["keys": try SigningKeyring.load(path: context.configuration.dispatch.signingKeyFile).publishedKeys()])
        }
    }
}
