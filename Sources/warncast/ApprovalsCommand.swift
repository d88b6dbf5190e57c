import ArgumentParser
import Foundation

struct ApprovalsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approvals", abstract: "Warnings awaiting a decision; approve or reject them.",
        subcommands: [List.self, Approve.self, Reject.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Warnings awaiting approval or review: the rule, who approved, what is missing, the deadline.")

        @OptionGroup var daemon: DaemonOptions

        func run() async throws {
            try call(daemon, method: "GET", path: "/v1/approvals/pending")
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve a warning with an approver token.")

        @OptionGroup var daemon: DaemonOptions
        @Argument(help: "Warning id.") var id: String

        func run() async throws {
            try call(daemon, method: "POST", path: "/v1/warnings/\(id)/approve")
        }
    }

    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reject a warning; a reason is required.")

        @OptionGroup var daemon: DaemonOptions
        @Argument(help: "Warning id.") var id: String
        @Option(help: "Why it is rejected; recorded in the audit log.") var reason: String

        func run() async throws {
            let body = try JSONEncoder().encode(["reason": reason])
            try call(daemon, method: "POST", path: "/v1/warnings/\(id)/reject", body: body, contentType: "application/json")
        }
    }
}
