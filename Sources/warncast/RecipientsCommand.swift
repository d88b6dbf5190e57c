import ArgumentParser
import WarncastConfig
import WarncastCore
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
            do {
                let count = try await RegistryImporter(store: context.store, actor: context.actor)
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
