import ArgumentParser
import Foundation
import WarncastConfig
import WarncastCore
import WarncastDispatch
import WarncastStore

struct RecipientsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recipients", abstract: "Loudspeakers and other recipients of warnings.",
        subcommands: [Import.self, Add.self, Remove.self, List.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import recipients from a CSV file (id,channel,region,name,address,secret,options).")

        @OptionGroup var options: StoreOptions
        @Argument(help: "CSV file to import.") var file: String

        func run() async throws {
            let context = try CLIContext(options)
            let secrets = try await RecipientsCommand.recipientSecrets(context)
            // A progress line on stderr, rewritten in place, as `audit export` does.
            let progress: @Sendable (RegistryImporter.Progress) -> Void = { step in
                let line =
                    "\r\(step.finished ? "read" : "reading") \(step.rows) row(s), "
                    + String(format: "%.0f rows/s, %d rejected, %d MiB read", step.rowsPerSecond, step.rejected, step.bytes >> 20)
                FileHandle.standardError.write(Data((line + (step.finished ? "\n" : "")).utf8))
            }
            do {
                let count = try await RegistryImporter(store: context.store, actor: context.actor, secrets: secrets)
                    .importRecipients(file: file, channels: Set(context.configuration.dispatch.channels.keys), progress: progress)
                print("imported \(count) recipient(s) from \(file)")
            } catch let error as RegistryImporter.FileError {
                throw CLIError(error.description)
            } catch let error as FileReadError {
                throw CLIError(error.description)
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add one recipient, or replace the one with its id (and bring back a removed one).")

        @OptionGroup var options: StoreOptions
        @Argument(help: "Recipient id, e.g. ls-430121001001-2.") var id: String
        @Option(help: "Channel name from the configuration, e.g. loudspeaker.") var channel: String
        @Option(help: "Division code it is in, e.g. 430121001001.") var region: String
        @Option(help: "Name people know it by.") var name: String
        @Option(help: "URL, phone number or mailbox, by channel.") var address: String
        @Option(help: "Secret it acknowledges with (stored keyed, never shown); replacing a recipient without it clears its secret.")
        var secret = ""
        @Option(name: .customLong("options"), help: "key=value;… e.g. language=zh-CN;repeat=3") var recipientOptions = ""

        func run() async throws {
            let context = try CLIContext(options)
            let row: RecipientCSV.Row
            switch RecipientCSV.row(
                id: id, channel: channel, region: region, name: name, address: address, secret: secret, options: recipientOptions,
                channels: Set(context.configuration.dispatch.channels.keys))
            {
            case .success(let made): row = made
            case .failure(let failure): throw CLIError("recipient \(id): \(failure.reason)")
            }
            let existed = try await context.store.recipient(id: id) != nil
            let secrets = try await RecipientsCommand.recipientSecrets(context)
            try await context.store.saveRecipients(
                [(row.recipient, row.secret.map { secrets.hash($0) })],
                audit: AuditEvent(actor: context.actor, action: .recipientsSaved, subject: id, detail: ["count": "1"]))
            print("\(existed ? "replaced" : "added") recipient \(id) (\(channel), \(region))")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove one recipient: later warnings leave it out; its past deliveries stay on record.")

        @OptionGroup var options: StoreOptions
        @Argument(help: "Recipient id.") var id: String
        @Option(help: "Why, for the audit log.") var reason: String?

        func run() async throws {
            let context = try CLIContext(options)
            var detail: [String: String] = [:]
            detail["reason"] = reason
            let removed = try await context.store.removeRecipient(
                id: id, within: nil, audit: AuditEvent(actor: context.actor, action: .recipientRemoved, subject: id, detail: detail))
            guard removed else { throw CLIError("no recipient '\(id)' (or it was removed already)") }
            print("removed recipient \(id)")
        }
    }

    /// How recipients' secrets are kept: keyed with the node's keyring, made now (and
    /// audited) if the daemon never ran.
    static func recipientSecrets(_ context: CLIContext) async throws -> RecipientSecrets {
        let path = context.configuration.dispatch.signingKeyFile
        let (keyring, created) = try SigningKeyring.loadOrCreate(path: path)
        if created {
            try await context.store.appendAudit(
                AuditEvent(actor: context.actor, action: .keysGenerated, subject: keyring.active.id, detail: ["file": path]),
                at: Date())
        }
        return try keyring.recipientSecrets()
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
