import ArgumentParser
import Foundation
import WarncastConfig
import WarncastNet

/// `warncast`: the operators' and auditors' command-line tool.
@main
struct Warncast: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warncast",
        abstract: "Manage a Warncast node: regions, departments, tokens, warnings and the audit log.",
        discussion: configurationInUse(),
        subcommands: [
            RegionsCommand.self, DepartmentsCommand.self, TokenCommand.self, WarningsCommand.self,
            ApprovalsCommand.self, RecipientsCommand.self, ReportCommand.self, TimelineCommand.self, LateCommand.self,
            TerminalsCommand.self, KeysCommand.self, AuditCommand.self, UsersCommand.self,
        ])

    /// Says which configuration file commands use when not given `--config`.
    static func configurationInUse() -> String {
        let environment = ProcessInfo.processInfo.environment
        let (path, from) =
            environment["WARNCAST_CONFIG"].map { ($0, "$WARNCAST_CONFIG") } ?? ("/etc/warncast/warncast.yaml", "the default")
        let state = FileManager.default.fileExists(atPath: path) ? "" : " (no such file)"
        return "Configuration in use: \(path)\(state), from \(from); --config overrides it."
    }

    static func main() async {
        if let complaint = unknownCommand(Array(CommandLine.arguments.dropFirst())) {
            FileHandle.standardError.write(Data("warncast: \(complaint)\n".utf8))
            Foundation.exit(64)  // EX_USAGE
        }
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }

    /// A word where a command is expected that names none, said plainly with the choices
    /// (the parser would call it an unexpected argument).
    static func unknownCommand(_ arguments: [String]) -> String? {
        var subcommands = configuration.subcommands
        var path = ["warncast"]
        for word in arguments {
            guard !subcommands.isEmpty, !word.hasPrefix("-"), word != "help" else { return nil }
            let names = subcommands.map { commandName($0) }
            guard let index = names.firstIndex(of: word) else {
                return "unknown command '\(path.joined(separator: " ")) \(word)'; the commands are: \(names.joined(separator: ", "))"
            }
            subcommands = children(subcommands[index])
            path.append(word)
        }
        return nil
    }

    private static func commandName<Command: ParsableCommand>(_ type: Command.Type) -> String { Command._commandName }

    private static func children<Command: ParsableCommand>(_ type: Command.Type) -> [any ParsableCommand.Type] {
        Command.configuration.subcommands
    }
}

/// Options every command that opens the store takes.
struct StoreOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Configuration file (YAML); default $WARNCAST_CONFIG or /etc/warncast/warncast.yaml.")
    var config: String = ProcessInfo.processInfo.environment["WARNCAST_CONFIG"] ?? "/etc/warncast/warncast.yaml"
}

/// Options of commands that talk to a running daemon.
struct DaemonOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Base URL of warncastd.",
            discussion: "Default: $WARNCAST_URL, else server.host and server.port of the configuration (--config)."))
    var url: String?

    @Option(
        name: .shortAndLong,
        help: "Configuration file whose server address is used; default $WARNCAST_CONFIG or /etc/warncast/warncast.yaml.")
    var config: String = ProcessInfo.processInfo.environment["WARNCAST_CONFIG"] ?? "/etc/warncast/warncast.yaml"

    @Option(help: "Bearer token; default $WARNCAST_TOKEN.")
    var token: String?

    @Option(
        name: .customLong("ca-bundle"),
        help: ArgumentHelp(
            "PEM file of the authorities to trust for an https:// URL instead of the system's.",
            discussion: "Default: $WARNCAST_CA_BUNDLE. For a node behind nginx with a certificate from the centre's own CA."))
    var caBundle: String?

    /// `--ca-bundle`, else `$WARNCAST_CA_BUNDLE`, else nil (the system's authorities).
    func trustedAuthorities() throws -> String? {
        let path = caBundle ?? ProcessInfo.processInfo.environment["WARNCAST_CA_BUNDLE"].flatMap { $0.isEmpty ? nil : $0 }
        guard let path else { return nil }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), text.contains("-----BEGIN CERTIFICATE-----") else {
            throw CLIError("cannot read certificates (PEM) from \(path) (--ca-bundle or $WARNCAST_CA_BUNDLE)")
        }
        return path
    }

    /// What to say when warncastd at `base` could not be reached.
    static func unreachable(_ base: String, _ error: any Error) -> CLIError {
        if let curl = error as? CurlError, curl.code == CurlError.untrustedPeer {
            return CLIError(
                "cannot reach warncastd at \(base): \(curl); if its certificate comes from a private CA, give that CA with --ca-bundle or $WARNCAST_CA_BUNDLE"
            )
        }
        return CLIError("cannot reach warncastd at \(base): \(error)")
    }

    func bearer() throws -> String {
        guard let token = token ?? ProcessInfo.processInfo.environment["WARNCAST_TOKEN"], !token.isEmpty else {
            throw ValidationError("give a token with --token or $WARNCAST_TOKEN")
        }
        return token
    }

    /// Where warncastd listens: `--url`, `$WARNCAST_URL`, or the configuration's
    /// `server.host` and `server.port` (an address on every interface is reached on
    /// loopback). Without a configuration file, the default `http://127.0.0.1:8080`.
    func baseURL() throws -> String {
        if let url, !url.isEmpty { return Self.trimmed(url) }
        if let url = ProcessInfo.processInfo.environment["WARNCAST_URL"], !url.isEmpty { return Self.trimmed(url) }
        guard FileManager.default.fileExists(atPath: config) else { return "http://127.0.0.1:8080" }
        let server: WarncastConfiguration.Server
        do {
            server = try ConfigLoader.load(path: config).server
        } catch {
            throw CLIError("cannot take warncastd's address from \(config): \(error); give --url")
        }
        guard server.port != 0 else {
            throw CLIError("\(config) lets warncastd pick its port (server.port: 0); give --url")
        }
        return "http://\(Self.loopback(server.host)):\(server.port)"
    }

    static func loopback(_ host: String) -> String {
        switch host {
        case "0.0.0.0", "": "127.0.0.1"
        case "::", "[::]": "[::1]"
        default: host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        }
    }

    static func trimmed(_ url: String) -> String { url.hasSuffix("/") ? String(url.dropLast()) : url }
}
