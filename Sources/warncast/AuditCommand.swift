import ArgumentParser
import Foundation
import WarncastCore

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The hash-chained audit log.", subcommands: [Verify.self, List.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every link of the chain; report the first broken one.")

        @OptionGroup var options: StoreOptions

        func run() async throws {
            let context = try CLIContext(options)
            switch try await context.store.verifyAudit() {
            case .intact(let entries, let lastHash):
                print("audit log intact: \(entries) entries, last hash \(lastHash)")
            case .broken(let sequence, let reason):
                throw CLIError("audit log BROKEN at entry \(sequence): \(reason)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print audit entries as JSON lines.")

        @OptionGroup var options: StoreOptions
        @Option(help: "First entry to print.") var from: Int64 = 1
        @Option(help: "How many entries.") var limit: Int = 100

        func run() async throws {
            let context = try CLIContext(options)
            for entry in try await context.store.auditEntries(from: from, limit: limit) {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(entry), as: UTF8.self))
            }
        }
    }
}
