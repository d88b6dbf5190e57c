import ArgumentParser
import Foundation

/// `warncast`: the operators' and auditors' command-line tool.
@main
struct Warncast: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warncast",
        abstract: "Manage a Warncast node: regions, departments, tokens, warnings and the audit log.",
        subcommands: [
            RegionsCommand.self, DepartmentsCommand.self, TokenCommand.self, WarningsCommand.self,
            ApprovalsCommand.self, RecipientsCommand.self, ReportCommand.self, TimelineCommand.self, LateCommand.self,
            KeysCommand.self, AuditCommand.self,
        ])
}

/// Options every command that opens the store takes.
struct StoreOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Configuration file (YAML); default $WARNCAST_CONFIG or /etc/warncast/warncast.yaml.")
    var config: String = ProcessInfo.processInfo.environment["WARNCAST_CONFIG"] ?? "/etc/warncast/warncast.yaml"
}

/// Options of commands that talk to a running daemon.
struct DaemonOptions: ParsableArguments {
    @Option(help: "Base URL of warncastd; default $WARNCAST_URL or http://127.0.0.1:8080.")
    var url: String = ProcessInfo.processInfo.environment["WARNCAST_URL"] ?? "http://127.0.0.1:8080"

    @Option(help: "Bearer token; default $WARNCAST_TOKEN.")
    var token: String?

    func bearer() throws -> String {
        guard let token = token ?? ProcessInfo.processInfo.environment["WARNCAST_TOKEN"], !token.isEmpty else {
            throw ValidationError("give a token with --token or $WARNCAST_TOKEN")
        }
        return token
    }
}
