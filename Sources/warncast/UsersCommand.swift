import ArgumentParser
import Foundation
import WarncastConfig
import WarncastCore
import WarncastStore

#if canImport(Glibc)
    import Glibc
#endif

/// `warncast users`: the people who sign in to the console (`/console`).
struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "Console accounts: a user name and password with the same grant as a token.",
        discussion: """
            The password is read from standard input (one line), or asked for twice when
            standard input is a terminal. It is kept only as a bcrypt hash. A session lasts
            12 hours; changing an account's password or grant, or removing it, ends its sessions.
            """,
        subcommands: [Add.self, Password.self, List.self, Remove.self])

    /// The password: a line of standard input, or asked for twice at a terminal.
    static func readPassword() throws -> String {
        let password: String
        if isatty(STDIN_FILENO) == 1 {
            guard let first = getpass("Password: ").map({ String(cString: $0) }),
                let again = getpass("Again: ").map({ String(cString: $0) }),
                first == again
            else { throw CLIError("the two passwords differ") }
            password = first
        } else {
            password = readLine(strippingNewline: true) ?? ""
        }
        if let problem = ConsolePassword.problem(password) { throw CLIError(problem) }
        return password
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Add an account (or replace one, with --replace), e.g. echo 'a long password' | warncast users add li4 --role approver …")

        @OptionGroup var options: StoreOptions
        @Argument(help: "User name: letters, digits, '.', '_' or '-', at most 64.") var username: String
        @Option(help: "Role: \(Role.allCases.filter { $0 != .receiver }.map(\.rawValue).joined(separator: ", ")).") var role: String
        @Option(help: "Department (required for issuers).") var department: String?
        @Option(help: "Region a department-less account is scoped to, e.g. 430121.") var region: String?
        @Option(help: "Who the person is, for the audit log, e.g. \"带班领导 李四\".") var name: String
        @Option(help: "For approvers: the approval role from the configuration, e.g. duty-leader.") var approvalRole: String?
        @Flag(help: "Replace an existing account of this name (its sessions end).") var replace = false

        func run() async throws {
            guard ConsoleUser.isValidUsername(username) else {
                throw ValidationError("a user name has 1 to 64 letters, digits, '.', '_' or '-'")
            }
            guard role != Role.receiver.rawValue else { throw ValidationError("terminals use tokens or secrets, not console accounts") }
            let context = try CLIContext(options)
            let (grantRole, scope) = try await TokenCommand.Create.checkGrant(
                role: role, department: department, region: region, approvalRole: approvalRole, context: context)
            if !replace, try await context.store.consoleUser(username: username) != nil {
                throw CLIError("there is already an account '\(username)': give --replace to replace it")
            }
            let password = try UsersCommand.readPassword()
            let user = ConsoleUser(
                username: username, name: name, role: grantRole, departmentID: department, region: scope, approvalRole: approvalRole,
                createdAt: Timestamp(Date()))
            do {
                try await context.store.saveConsoleUser(
                    user, passwordHash: ConsolePassword.hash(password),
                    audit: AuditEvent(
                        actor: context.actor, action: .userSaved, subject: username,
                        detail: [
                            "role": grantRole.rawValue, "name": name, "department": department ?? "-", "region": scope.rawValue,
                            "approvalRole": approvalRole ?? "-",
                        ]))
            } catch let error as StoreError {
                throw CLIError(error.description)
            }
            print("\(username): \(grantRole.rawValue) in \(scope); signs in at /console")
        }
    }

    struct Password: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a new password for an account (its sessions end).")

        @OptionGroup var options: StoreOptions
        @Argument(help: "User name.") var username: String

        func run() async throws {
            let context = try CLIContext(options)
            guard let existing = try await context.store.consoleUser(username: username) else { throw CLIError("no account '\(username)'") }
            let password = try UsersCommand.readPassword()
            try await context.store.saveConsoleUser(
                existing.user, passwordHash: ConsolePassword.hash(password),
                audit: AuditEvent(actor: context.actor, action: .userSaved, subject: username, detail: ["password": "changed"]))
            print("\(username): password changed")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List accounts (never their passwords).")

        @OptionGroup var options: StoreOptions

        func run() async throws {
            let context = try CLIContext(options)
            for user in try await context.store.consoleUsers() {
                print(
                    [
                        user.username, user.role.rawValue, user.approvalRole ?? "-", user.departmentID ?? "-", user.region.rawValue,
                        user.name,
                    ]
                    .joined(separator: "\t"))
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an account; its sessions end at once.")

        @OptionGroup var options: StoreOptions
        @Argument(help: "User name.") var username: String

        func run() async throws {
            let context = try CLIContext(options)
            guard
                try await context.store.removeConsoleUser(
                    username: username, audit: AuditEvent(actor: context.actor, action: .userRemoved, subject: username))
            else { throw CLIError("no account '\(username)'") }
            print("removed \(username)")
        }
    }
}
