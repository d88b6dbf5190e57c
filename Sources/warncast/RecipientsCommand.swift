import ArgumentParser
import Foundation
import WarncastConfig
import WarncastCore
import WarncastDispatch
import WarncastStore

struct RecipientsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recipients", abstract: "Loudspeakers and other recipients of warnings.",
        subcommands: [Import.self, List.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import recipients from a CSV file (id,channel,region,name,address,secret,options).")

        @OptionGroup var options: StoreOptions
        @Argument(help: "CSV file to import.") var file: String

        func run() async throws {
            let context = try CLIContext(options)
            // Secrets are kept keyed with the node's keyring, made now if the daemon never ran.
            let path = context.configuration.dispatch.signingKeyFile
            let (keyring, created) = try SigningKeyring.loadOrCreate(path: path)
            if created {
                try await context.store.appendAudit(
                    AuditEvent(actor: context.actor, action: .keysGenerated, subject: keyring.active.id, detail: ["file": path]),
                    at: Date())
            }
            do {
                let count = try await RegistryImporter(store: context.store, actor: context.actor, secrets: try keyring.recipientSecrets())
                    .importRecipients(file: file, channels: Set(context.configuration.dispatch.channels.keys))
                print("imported \(count) recipient(s) from \(file)")
            } catch let error as RegistryImporter.FileError {
                throw CLIError(error.description)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List recipients.")

        @OptionGroup var options: StoreOptions
        @Option(help: "Only this channel.") var channel: String?
        @Option(help: "Only recipients within this division.") var region: String?
        @Option(help: "At most this many.") var limit = 1000

        func run() async throws {
            let context = try CLIContext(options)
            let scope = try region.map { text -> RegionCode in
                guard let code = RegionCode(text) else { throw ValidationError("--region '\(text)' is not a division code") }
                return code
            }
            let list = try await context.store.recipients(channel: channel, within: scope, limit: limit)
            for recipient in list {
                print(
                    [recipient.id, recipient.channel, recipient.region.rawValue, recipient.name, recipient.address]
                        .joined(separator: "\t"))
            }
            print("\(list.count) recipient(s); \(try await context.store.recipientCount()) in all")
        }
    }
}
