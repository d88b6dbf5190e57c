import ArgumentParser
import Foundation
import WarncastConfig
import WarncastCore
import WarncastStore

struct DepartmentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "departments", abstract: "Issuing departments.", subcommands: [Add.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add or replace a department.")

        @OptionGroup var options: StoreOptions
        @Option(help: "Identifier, e.g. csx-weather.") var id: String
        @Option(help: "Name, e.g. 长沙县气象局.") var name: String
        @Option(help: "Kind: weather, natural-resources, water, forestry, earthquake, …") var kind: String
        @Option(help: "Its own division code; fixes its tier and the areas it may warn.") var region: String
        @Option(help: "Event type codes it may issue, comma-separated, e.g. rainstorm,typhoon.") var events: String

        func run() async throws {
            guard let code = RegionCode(region) else { throw ValidationError("--region '\(region)' is not a division code") }
            let context = try CLIContext(options)
            let department = Department(
                id: id, name: name, kind: kind, region: code,
                events: events.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            if let problem = department.problem(in: context.configuration.events) { throw CLIError(problem) }
            do {
                try await context.store.saveDepartments(
                    [department],
                    audit: AuditEvent(
                        actor: context.actor, action: .departmentSaved, subject: id,
                        detail: ["region": region, "kind": kind, "events": department.events.joined(separator: " ")]))
            } catch let error as StoreError {
                throw CLIError(error.description)
            }
            print("saved department \(id)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List departments.")

        @OptionGroup var options: StoreOptions

        func run() async throws {
            let context = try CLIContext(options)
            for department in try await context.store.departments() {
                print(
                    [
                        department.id, department.name, department.kind, department.region.rawValue,
                        department.events.joined(separator: "|"),
                    ].joined(separator: "\t"))
            }
        }
    }
}
