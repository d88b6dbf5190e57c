import ArgumentParser
import Foundation
import WarncastCore
import WarncastDispatch
import WarncastNet

struct WarningsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warnings", abstract: "Submit and read warnings through the daemon's API.",
        subcommands: [Submit.self, Show.self, List.self, History.self, Deliveries.self, Resend.self])

    struct Submit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Submit a CAP 1.2 message (XML or JSON file).")

        @OptionGroup var daemon: DaemonOptions
        @Argument(help: "CAP file; .json is sent as JSON, anything else as CAP XML.") var file: String

        func run() async throws {
            let body = try TextFile.data(file)
            let type = file.hasSuffix(".json") ? "application/json" : "application/cap+xml"
            try call(daemon, method: "POST", path: "/v1/warnings", body: body, contentType: type)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one warning.")

        @OptionGroup var daemon: DaemonOptions
        @Argument(help: "Warning id.") var id: String
        @Flag(help: "Print the message exactly as it was received.") var raw = false

        func run() async throws {
            try call(daemon, method: "GET", path: "/v1/warnings/\(id)" + (raw ? "/cap" : ""))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List warnings visible to the token, newest first.")

        @OptionGroup var daemon: DaemonOptions
        @Option(help: "pending_approval, released, rejected, superseded, cancelled or expired.") var status: String?
        @Option(help: "Division code the warnings affect.") var region: String?
        @Option(help: "blue, yellow, orange or red.") var level: String?
        @Option(help: "Issuing department id.") var department: String?
        @Option(help: "Received since, e.g. 2026-07-01T08:00:00+08:00.") var since: String?
        @Option(help: "Received before this time.") var until: String?
        @Flag(help: "Only warnings with a step late by the timeliness thresholds.") var late = false
        @Option(help: "At most this many (the API's default when not given).") var limit: Int?

        func run() async throws {
            let pairs = [
                ("status", status), ("region", region), ("level", level), ("department", department), ("since", since),
                ("until", until), ("late", late ? "true" : nil), ("limit", limit.map(String.init)),
            ].compactMap { name, value in value.map { "\(name)=\(FormEncoding.escape($0))" } }
            try call(daemon, method: "GET", path: "/v1/warnings" + (pairs.isEmpty ? "" : "?" + pairs.joined(separator: "&")))
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Everything on record about a warning: each audit entry (who, what, when), deliveries per state.")

        @OptionGroup var daemon: DaemonOptions
        @Argument(help: "Warning id.") var id: String
        @Flag(help: "Print the API's JSON (with the message as received and the gateways' reports).") var json = false

        struct Answer: Decodable {
            var entries: [AuditEntry]
            var deliveries: [String: Int]
            var reports: [Report]

            struct Report: Decodable {}
        }

        func run() async throws {
            let body = try call(daemon, method: "GET", path: "/v1/warnings/\(id)/history", printing: json)
            if json { return }
            let answer = try JSONDecoder().decode(Answer.self, from: body)
            print(["TIME", "WHO", "WHAT", "DETAIL"].joined(separator: "\t"))
            for entry in answer.entries {
                print([entry.at, entry.actor, entry.action, entry.detail].joined(separator: "\t"))
            }
            let states = answer.deliveries.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            print("\ndeliveries: \(states.isEmpty ? "none" : states.joined(separator: ", "))")
            print("gateway reports: \(answer.reports.count) (warncast warnings history \(id) --json shows them)")
        }
    }
}

extension WarningsCommand {
    struct Deliveries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A warning's deliveries: the count per state, then each delivery (JSON).")

        @OptionGroup var daemon: DaemonOptions
        @Argument(help: "Warning id.") var id: String
        @Option(help: "Only deliveries in this state: queued, sending, accepted, delivered, failed, expired, superseded.")
        var state: String?
        @Option(help: "At most this many deliveries.") var limit = 1000

        func run() async throws {
            var query = "?limit=\(limit)"
            if let state { query += "&state=\(state)" }
            try call(daemon, method: "GET", path: "/v1/warnings/\(id)/deliveries" + query)
        }
    }

    struct Resend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue a warning's failed (or expired) deliveries again, with their idempotency keys (operator token).")

        @OptionGroup var daemon: DaemonOptions
        @Argument(help: "Warning id.") var id: String
        @Option(help: "Only this channel.") var channel: String?
        @Option(help: "Only recipients within this division code (inside the token's region).") var region: String?
        @Option(help: "Which deliveries, comma-separated: failed, expired.") var state = "failed"
        @Option(help: "Why, for the audit log.") var reason: String

        func run() async throws {
            var body: [String: AnyEncodable] = [
                "reason": .init(reason), "states": .init(state.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }),
            ]
            if let channel { body["channel"] = .init(channel) }
            if let region { body["region"] = .init(region) }
            try call(
                daemon, method: "POST", path: "/v1/warnings/\(id)/resend", body: try JSONEncoder().encode(body),
                contentType: "application/json")
        }
    }
}

/// A JSON value of any encodable type, for request bodies built field by field.
struct AnyEncodable: Encodable {
    private let encodeValue: (any Encoder) throws -> Void

    init(_ value: some Encodable) {
        encodeValue = value.encode(to:)
    }

    func encode(to encoder: any Encoder) throws {
        try encodeValue(encoder)
    }
}

/// Sends one request to the daemon, prints the body (unless told not to), and fails on a
/// non-2xx answer, whose body is always printed. Returns the body.
@discardableResult
func call(
    _ daemon: DaemonOptions, method: String, path: String, body: Data? = nil, contentType: String? = nil,
    printing: Bool = true
) throws -> Data {
    var headers = ["Authorization: Bearer \(try daemon.bearer())"]
    if let contentType { headers.append("Content-Type: \(contentType)") }
    let base = try daemon.baseURL()
    let authorities = try daemon.trustedAuthorities()
    let result: HTTPResult
    do {
        result = try CurlTransfer.perform(
            HTTPRequestSpec(method: method, url: base + path, headers: headers, body: body), caBundle: authorities)
    } catch {
        throw DaemonOptions.unreachable(base, error)
    }
    let success = (200..<300).contains(result.status)
    if printing || !success { print(String(decoding: result.body, as: UTF8.self)) }
    guard success else { throw CLIError("HTTP \(result.status)") }
    return result.body
}
