import ArgumentParser
import Foundation
import WarncastCore

/// `warncast report ID`: who was reached, per tier, and who was not.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "A warning's deliveries per province, city, county (down to --depth) and its blind spots.")

    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "Warning id.") var id: String
    @Option(help: "Deepest tier to show: province, city, county, township or village.") var depth = "county"
    @Flag(help: "Print the API's JSON instead of tables.") var json = false

    struct Report: Decodable {
        var node: String?
        var tiers: [RollupEntry]
        var byChannel: [String: [RollupEntry]]?
        var blindSpots: [DeliveryView]
        var downstream: [Downstream]?
        var terminals: [TerminalCount]?
        var terminalsAtRelease: [String: String]?
    }

    /// A lower-tier node's report, or why it could not be had.
    struct Downstream: Decodable {
        var recipient: String
        var url: String
        var report: Report?
        var error: String?
    }

    func run() async throws {
        guard Tier(rawValue: depth) != nil else { throw ValidationError("--depth must be a tier, e.g. county") }
        let body = try call(daemon, method: "GET", path: "/v1/warnings/\(id)/report?depth=\(depth)", printing: json)
        if json { return }
        // Whether it was on time comes first: a duty officer reads the top line.
        let timeline = try JSONDecoder().decode(
            WarningTimeline.self, from: try call(daemon, method: "GET", path: "/v1/warnings/\(id)/timeline", printing: false))
        if timeline.late.isEmpty {
            print(timeline.threshold == nil ? "timeliness: no threshold for \(timeline.level.rawValue)\n" : "timeliness: on time\n")
        } else {
            for step in timeline.late { print("LATE \(step.step): \(step.detail)") }
            print("")
        }
        printReport(try JSONDecoder().decode(Report.self, from: body))
    }

    /// One node's tables, then each lower-tier node's under its name.
    private func printReport(_ report: Report) {
        print(
            ["REGION", "TIER", "TARGETED", "DELIVERED", "HEARD", "FAILED", "EXPIRED", "PENDING", "COVERAGE", "P50 s", "P95 s", "MAX s"]
                .joined(separator: "\t"))
        for entry in report.tiers {
            let indent = String(repeating: "  ", count: Tier.allCases.firstIndex(of: entry.tier) ?? 0)
            let seconds = [entry.p50Seconds, entry.p95Seconds, entry.maxSeconds].map { $0.map { String(format: "%.2f", $0) } ?? "-" }
            print(
                ([
                    "\(indent)\(entry.region) \(entry.name ?? "")", entry.tier.rawValue, String(entry.targeted),
                    String(entry.delivered), String(entry.heard), String(entry.failed), String(entry.expired),
                    String(entry.pending + entry.accepted),
                    String(format: "%.1f%%", entry.coverage * 100),
                ] + seconds).joined(separator: "\t"))
        }
        let answered = (report.downstream ?? []).filter { $0.report != nil }.map(\.recipient)
        if !answered.isEmpty {
            print("(rows count the recipients of \(answered.joined(separator: ", ")) in place of the hand-down)")
        }
        if let channels = report.byChannel, channels.count > 1 {
            print("\nPER CHANNEL\tTARGETED\tDELIVERED\tFAILED\tCOVERAGE\tP95 s")
            for (channel, entries) in channels.sorted(by: { $0.key < $1.key }) {
                guard let top = entries.first else { continue }
                print(
                    [
                        channel, String(top.targeted), String(top.delivered), String(top.failed),
                        String(format: "%.1f%%", top.coverage * 100), top.p95Seconds.map { String(format: "%.2f", $0) } ?? "-",
                    ]
                    .joined(separator: "\t"))
            }
        }
        if let release = report.terminalsAtRelease {
            print(
                "\nterminals at release: \(release["online"] ?? "?") of \(release["terminals"] ?? "?") online, "
                    + "\(release["offline"] ?? "?") offline, \(release["faulty"] ?? "0") faulty; "
                    + "\(release["silent"] ?? "0") division(s) with none working: \(release["silent_divisions"].flatMap { $0.isEmpty ? nil : $0 } ?? "-")"
                    // Recorded since the count of villages without a terminal exists.
                    + (release["unequipped"].map { count in
                        "; \(count) village(s) with no terminal at all: \(release["unequipped_villages"].flatMap { $0.isEmpty ? nil : $0 } ?? "-")"
                    } ?? "")
            )
        }
        if let terminals = report.terminals {
            print("\nTERMINALS NOW\tONLINE\tOFFLINE")
            for count in terminals {
                print(["\(count.region) \(count.name ?? "")", String(count.online), String(count.offline)].joined(separator: "\t"))
            }
        }
        let shown = report.blindSpots.count == 1000 ? " (at most 1000 shown, the failed first)" : ""
        print("\n\(report.blindSpots.count) recipient(s) not reached\(shown):")
        for spot in report.blindSpots {
            print(
                [
                    spot.recipient, spot.recipientName, spot.region, spot.channel, spot.state.rawValue,
                    "attempts \(spot.attempts)",
                    spot.retryingSince.map { "retrying since \($0), last error \(spot.lastError ?? "-")" } ?? spot.lastError ?? "-",
                ].joined(separator: "\t"))
        }
        for lower in report.downstream ?? [] {
            print("\n== handed down to \(lower.recipient) (\(lower.url))\(lower.report?.node.map { ", node \($0)" } ?? "")")
            if let inner = lower.report {
                printReport(inner)
            } else {
                print("its report could not be had: \(lower.error ?? "no answer")")
            }
        }
    }
}
