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
            let terminals = try JSONDecoder().decode(PendingTerminals.self, from: body).pending
            print(PendingQueue.header)
            for (warning, area) in zip(queue.pending, terminals) {
                print(PendingQueue.row(warning))
                if let summary = area.terminals { print(PendingTerminals.line(summary)) }
            }
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

    /// The terminals of each pending warning's area, as the same answer carries them.
    struct PendingTerminals: Decodable {
        struct Item: Decodable {
            var terminals: TerminalSummary?
        }
        var pending: [Item]

        /// `  terminals: 48 of 50 online, 2 offline; no terminal working in 430121001001 某村`
        static func line(_ summary: TerminalSummary) -> String {
            var line = "  terminals: \(summary.online) of \(summary.terminals) online, \(summary.offline) offline"
            if summary.faulty > 0 { line += ", \(summary.faulty) faulty" }
            if summary.silentCount > 0 {
                let named = summary.silent.prefix(20).map { "\($0.code) \($0.name ?? "")" }.joined(separator: ", ")
                line += "; none working in \(summary.silentCount) division(s): \(named)\(summary.silentCount > 20 ? ", …" : "")"
            }
            if summary.unequippedCount > 0 {
                let named = summary.unequipped.prefix(20).map { "\($0.code) \($0.name ?? "")" }.joined(separator: ", ")
                let more = summary.unequippedCount > 20 ? ", …" : ""
                line += "; no terminal at all in \(summary.unequippedCount) village(s): \(named)\(more)"
            }
            return line
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
