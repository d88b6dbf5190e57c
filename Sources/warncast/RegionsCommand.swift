import ArgumentParser
import WarncastCore
import WarncastStore

struct RegionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "regions", abstract: "The region registry.", subcommands: [Import.self, Show.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import divisions from a CSV file (code,name,parent[,longitude,latitude]).")

        @OptionGroup var options: StoreOptions
        @Argument(help: "CSV file to import.") var file: String
        @Option(help: "Import only this division and what lies inside it, e.g. 430000.") var within: String?

        func run() async throws {
            let context = try CLIContext(options)
            var scope: RegionCode?
            if let within {
                guard let code = RegionCode(within) else { throw ValidationError("--within '\(within)' is not a division code") }
                scope = code
            }
            do {
                let count = try await RegistryImporter(store: context.store, actor: context.actor)
                    .importRegions(file: file, within: scope)
                print("imported \(count) region(s) from \(file)")
            } catch let error as RegistryImporter.FileError {
                throw CLIError(error.description)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one division and its tier.")

        @OptionGroup var options: StoreOptions
        @Argument(help: "Division code.") var code: String

        func run() async throws {
            guard let region = RegionCode(code) else { throw ValidationError("'\(code)' is not a division code") }
            let context = try CLIContext(options)
            guard let found = try await context.store.region(region) else { throw CLIError("no region \(code)") }
            print("\(found.code)\t\(found.name)\t\(found.tier.rawValue)\tparent \(found.parent?.rawValue ?? "-")")
        }
    }
}
