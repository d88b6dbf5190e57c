import ArgumentParser
import Foundation
import WarncastCore
import WarncastDispatch

/// `warncast late`: warnings whose approval or coverage took longer than the thresholds.
struct LateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "late",
        abstract: "Warnings late by the configured timeliness thresholds (default: submitted in the last 7 days).")

    @OptionGroup var daemon: DaemonOptions
    @Option(help: "From this time, e.g. 2026-07-01T00:00:00+08:00.") var since: String?
    @Option(help: "Until this time.") var until: String?
    @Option(help: "Only this level.") var level: String?
    @Flag(help: "Print the API's JSON instead of a table.") var json = false

    struct LateList: Decodable {
        var since: String
        var until: String
        var examined: Int
        var warnings: [Entry]
    }

    struct Entry: Decodable {
        var id: String
        var level: Level
        var headline: String?
        var department: String
        var submittedAt: String
        var late: [LateStep]
    }

    func run() async throws {
        var query: [String] = []
        for (name, value) in [("since", since), ("until", until), ("level", level)] {
            if let value { query.append("\(name)=\(FormEncoding.escape(value))") }
        }
        let body = try call(
            daemon, method: "GET", path: "/v1/late" + (query.isEmpty ? "" : "?" + query.joined(separator: "&")), printing: json)
        if json { return }
        let list = try JSONDecoder().decode(LateList.self, from: body)
        print("\(list.warnings.count) late warning(s) of \(list.examined) submitted from \(list.since) until \(list.until)")
        for warning in list.warnings {
            print("\n\(warning.id)\t\(warning.level.rawValue)\t\(warning.department)\t\(warning.submittedAt)\t\(warning.headline ?? "")")
            for step in warning.late { print("  late \(step.step): \(step.detail)") }
        }
    }
}

/// `warncast timeline ID`: submitted, approvals, release, and when 50 / 95 / 100 % were reached.
struct TimelineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timeline", abstract: "A warning's steps in time, coverage per channel, and what was late.")

    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "Warning id.") var id: String
    @Flag(help: "Print the API's JSON instead of text.") var json = false

    func run() async throws {
        let body = try call(daemon, method: "GET", path: "/v1/warnings/\(id)/timeline", printing: json)
        if json { return }
        let timeline = try JSONDecoder().decode(WarningTimeline.self, from: body)
        print("submitted\t\(timeline.submittedAt)")
        for decision in timeline.decisions { print("\(decision.decision)\t\(decision.at)\t\(decision.name) (\(decision.role))") }
        print("released\t\(timeline.releasedAt?.text ?? "-")")
        if let terminals = timeline.terminalsAtRelease {
            print(
                "terminals at release\t\(terminals["online"] ?? "?") of \(terminals["terminals"] ?? "?") online; "
                    + "none working in \(terminals["silent"] ?? "0") division(s)"
                    + (terminals["silent_divisions"].map { $0.isEmpty ? "" : ": \($0)" } ?? ""))
        }
        print(["CHANNEL", "DIVISIONS", "REACHED", "HEARD", "FIRST", "50%", "95%", "100%"].joined(separator: "\t"))
        for marks in timeline.coverage {
            print(
                [
                    marks.channel ?? "all", String(marks.divisions), String(marks.reached), marks.heard.map(String.init) ?? "-",
                    marks.firstAt ?? "-", marks.p50At ?? "-", marks.p95At ?? "-", marks.p100At ?? "-",
                ].joined(separator: "\t"))
        }
        if timeline.late.isEmpty {
            print(timeline.threshold == nil ? "no timeliness threshold for \(timeline.level.rawValue)" : "on time")
        }
        for step in timeline.late { print("LATE \(step.step): \(step.detail)") }
        for waiting in timeline.retrying {
            print(
                "RETRYING \(waiting.channel): \(waiting.deliveries) not reached yet, retrying since \(waiting.since?.text ?? "-")"
                    + ", last error \(waiting.lastError ?? "-")")
        }
    }
}
