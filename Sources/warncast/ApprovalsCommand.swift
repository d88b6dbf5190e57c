import ArgumentParser
import Foundation
import WarncastCore

struct ApprovalsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approvals", abstract: "Warnings awaiting a decision; approve or reject them.",
        subcommands: [List.self, Approve.self, Reject.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Warnings awaiting approval or review: the rule, who approved, what is missing, the deadline.")

        @OptionGroup var daemon: DaemonOptions
        @Flag(help: "Print the API's JSON instead of a table.") var json = false

        func run() async throws {
            let body = try call(daemon, method: "GET", path: "/v1/approvals/pending", printing: json)
            if json { return }
            let queue = try JSONDecoder().decode(PendingQueue.self, from: body)
            print(PendingQueue.header)
            for warning in queue.pending { print(PendingQueue.row(warning)) }
            print("\(queue.count) awaiting a decision")
        }
    }

    /// The answer of `GET /v1/approvals/pending`, as a table for the duty desk.
    struct PendingQueue: Decodable {
        var pending: [Warning]
        var count: Int

        static let header = ["ID", "LEVEL", "EVENT", "RULE", "DEADLINE", "APPROVED BY", "MISSING", "HEADLINE"]
            .joined(separator: "\t")

        static func row(_ warning: Warning) -> String {
            let approval = warning.approval
            let deadline = (approval?.deadline?.text ?? "-") + (approval?.late == true ? " LATE" : "")
            let approved = approval?.approvals.filter { $0.decision == .approve }.map { "\($0.name) (\($0.role))" } ?? []
            let missing = approval?.missing.map { "\($0.role)@\($0.scope.rawValue)×\($0.remaining)" } ?? []
            return [
                warning.id.rawValue, warning.level.rawValue, warning.event, approval?.rule ?? "-", deadline,
                approved.isEmpty ? "-" : approved.joined(separator: ", "),
                missing.isEmpty ? "-" : missing.joined(separator: " "), warning.headline ?? "",
            ].joined(separator: "\t")
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
