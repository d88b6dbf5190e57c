import ArgumentParser
import Foundation
import WarncastCore

/// `warncast terminals`: the broadcast terminals, online or not, from the daemon's view.
struct TerminalsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "terminals",
        abstract: "Broadcast terminals in your region: online, offline, their last status and heartbeat.")

    @OptionGroup var daemon: DaemonOptions
    @Option(help: "Only terminals within this division.") var region: String?
    @Flag(help: "Only terminals that are offline (no heartbeat within the limit, switched off, or never heard from).")
    var offline = false
    @Option(help: "At most this many.") var limit = 1000
    @Flag(help: "Print the API's JSON instead of a table.") var json = false

    struct List: Decodable {
        var terminals: [TerminalView]
        var online: Int
        var offline: Int
        var heartbeatSeconds: Int
        var offlineAfter: Int
    }

    func run() async throws {
        var query = ["limit=\(limit)"]
        if let region {
            guard RegionCode(region) != nil else { throw ValidationError("--region '\(region)' is not a division code") }
            query.append("region=\(region)")
        }
        if offline { query.append("offline=true") }
        let body = try call(daemon, method: "GET", path: "/v1/terminals?\(query.joined(separator: "&"))", printing: json)
        if json { return }
        let list = try JSONDecoder().decode(List.self, from: body)
        print(["ID", "REGION", "NAME", "STATE", "STATUS", "LAST HEARD", "VOLUME", "VERSION"].joined(separator: "\t"))
        for terminal in list.terminals {
            print(
                [
                    terminal.id, terminal.region, terminal.name, terminal.online ? "online" : "OFFLINE",
                    terminal.status?.rawValue ?? "-", terminal.lastSeenAt?.text ?? "never", terminal.volume.map(String.init) ?? "-",
                    terminal.version ?? "-",
                ].joined(separator: "\t"))
        }
        print(
            "\(list.terminals.count) listed; in the area \(list.online) online, \(list.offline) offline "
                + "(offline after \(list.offlineAfter) missed heartbeats of \(list.heartbeatSeconds) s)")
    }
}
