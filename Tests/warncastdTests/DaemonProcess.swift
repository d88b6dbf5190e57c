import Foundation
import WarncastNet
import WarncastTestSupport

/// A `warncastd` or `warncast` binary run as a child process, the way an operator runs it.
enum Binaries {
    static let directory = TestSupport.root.appendingPathComponent(".build/debug")

    /// `warncast token create ARGUMENTS`, returning the secret it printed.
    static func createToken(_ arguments: [String], config: String) throws -> String {
        let result = try warncast(["token", "create"] + arguments, config: config)
        guard result.status == 0 else { throw CLIFailure(output: result.err) }
        return result.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs the CLI to completion (at most `timeout` seconds) and returns its exit status and output.
    static func warncast(
        _ arguments: [String], config: String, timeout: TimeInterval = 60, input: String? = nil,
        environment extra: [String: String] = [:]
    ) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = directory.appendingPathComponent("warncast")
        let stdin = Pipe()
        if input != nil { process.standardInput = stdin }
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["WARNCAST_CONFIG"] = config
        environment.merge(extra) { _, new in new }
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try? stdin.fileHandleForWriting.close()
        }
        // Read while it runs: a command that prints more than a pipe holds would otherwise
        // wait for a reader until the timeout.
        let printed = PipeDrain(out)
        let complained = PipeDrain(err)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: printed.data, as: UTF8.self), String(decoding: complained.data, as: UTF8.self)
        )
    }
}

/// Everything written to a pipe, collected on a thread of its own until the writer closes it.
final class PipeDrain: @unchecked Sendable {
    private let lock = NSLock()
    private var collected = Data()
    private let finished = DispatchSemaphore(value: 0)

    init(_ pipe: Pipe) {
        let handle = pipe.fileHandleForReading
        Thread.detachNewThread { [self] in
            let data = handle.readDataToEndOfFile()
            lock.withLock { collected = data }
            finished.signal()
        }
    }

    /// Waits for the end of the output.
    var data: Data {
        finished.wait()
        finished.signal()
        return lock.withLock { collected }
    }
}

/// One running daemon with its log in a file of the test's directory.
final class DaemonProcess {
    let process = Process()
    let logFile: URL
    private(set) var port = 0

    init(config: String, directory: URL, environment extra: [String: String] = [:]) throws {
        logFile = directory.appendingPathComponent("warncastd-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        process.executableURL = Binaries.directory.appendingPathComponent("warncastd")
        process.arguments = ["--config", config]
        process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        let handle = try FileHandle(forWritingTo: logFile)
        process.standardError = handle
        process.standardOutput = handle
        try process.run()
        port = try waitForListeningPort()
    }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    var url: String { "http://127.0.0.1:\(port)" }

    /// One request to this daemon's API with a bearer token.
    func api(_ method: String, _ path: String, token: String, body: Data? = nil, type: String = "application/json") throws -> HTTPResult {
        try CurlTransfer.perform(
            HTTPRequestSpec(
                method: method, url: url + path, headers: ["Authorization: Bearer \(token)", "Content-Type: \(type)"], body: body))
    }

    /// Polls the log (at most 30 s) for the `listening` line and reads the port from it.
    private func waitForListeningPort() throws -> Int {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            for line in log.split(separator: "\n") where line.contains("msg=listening") {
                if let field = line.split(separator: " ").first(where: { $0.hasPrefix("address=") }),
                    let port = Int(field.split(separator: ":").last ?? "")
                {
                    return port
                }
            }
            guard process.isRunning else { throw DaemonFailure(log: log) }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw DaemonFailure(log: log)
    }

    /// Sends `signal` (`times` times, 0.05 s apart: the kernel merges a signal sent again
    /// before the first was handled) and waits (at most 15 s) for the process to exit;
    /// returns its status.
    @discardableResult
    func stop(signal: Int32 = SIGTERM, times: Int = 1) -> Int32 {
        // Not a process that has ended already: its pid may belong to another by now.
        for time in 0..<times where process.isRunning {
            if time > 0 { Thread.sleep(forTimeInterval: 0.05) }
            kill(process.processIdentifier, signal)
        }
        let deadline = Date().addingTimeInterval(15)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

struct CLIFailure: Error, CustomStringConvertible {
    var output: String
    var description: String { "warncast failed: \(output)" }
}

/// The id in a JSON answer such as a submission's.
func jsonID(_ data: Data) -> String? {
    (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["id"] as? String
}

struct DaemonFailure: Error, CustomStringConvertible {
    var log: String
    var description: String { "warncastd did not start listening:\n\(log)" }
}

/// A configuration like the example's, on a free port with its own data directory.
func testConfiguration(in directory: URL) throws -> String {
    let configDirectory = TestSupport.root.appendingPathComponent("config").path
    var text = try String(contentsOfFile: TestSupport.exampleConfig, encoding: .utf8)
    text = text.replacingOccurrences(of: "port: 8080", with: "port: 0")
    text = text.replacingOccurrences(of: "data_dir: ../data", with: "data_dir: \(directory.path)/data")
    text = text.replacingOccurrences(
        of: "signing_key_file: ../data/signing-keys.json", with: "signing_key_file: \(directory.path)/data/signing-keys.json")
    for file in ["divisions-cn.csv", "regions-villages.csv", "departments.example.csv"] {
        text = text.replacingOccurrences(of: " \(file)", with: " \(configDirectory)/\(file)")
    }
    let path = directory.appendingPathComponent("warncast.yaml").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

extension DaemonProcess {
    /// Submits the county weather bureau's red warning (`body`, by default the fixture as it
    /// is) and has its duty leader and the county government approve it, which releases it.
    /// Returns its id and the issuer's token.
    func releaseCountyRed(config: String, body: Data = TestSupport.fixture("rainstorm-red-csx.xml")) throws -> (id: String, issuer: String)
    {
        let issuer = try Binaries.createToken(["--role", "issuer", "--department", "csx-weather", "--name", "值班员"], config: config)
        let leader = try Binaries.createToken(
            ["--role", "approver", "--department", "csx-weather", "--name", "带班领导", "--approval-role", "duty-leader"], config: config)
        let government = try Binaries.createToken(
            ["--role", "approver", "--region", "430121", "--name", "副县长", "--approval-role", "government-leader"], config: config)
        let submitted = try api("POST", "/v1/warnings", token: issuer, body: body, type: "application/cap+xml")
        guard let id = jsonID(submitted.body) else { throw CLIFailure(output: String(decoding: submitted.body, as: UTF8.self)) }
        for token in [leader, government] {
            let answer = try api("POST", "/v1/warnings/\(id)/approve", token: token)
            guard answer.status == 200 else { throw CLIFailure(output: String(decoding: answer.body, as: UTF8.self)) }
        }
        return (id, issuer)
    }

    /// A warning's deliveries by recipient id, and the non-zero counts per state.
    func deliveries(of id: String, token: String) throws -> (byRecipient: [String: [String: Any]], summary: [String: Int]) {
        let answer = try api("GET", "/v1/warnings/\(id)/deliveries", token: token)
        let object = try JSONSerialization.jsonObject(with: answer.body) as? [String: Any]
        let list = object?["deliveries"] as? [[String: Any]] ?? []
        return (
            Dictionary(uniqueKeysWithValues: list.map { ($0["recipient"] as? String ?? "", $0) }),
            (object?["summary"] as? [String: Int] ?? [:]).filter { $0.value > 0 }
        )
    }
}

/// A configuration like `testConfiguration`, with `recipients` (rows after the header)
/// loaded at start, `channels` (YAML under `dispatch.channels`, indented four spaces) added
/// and red warnings routed to `red` as well as loudspeakers.
func testConfiguration(
    in directory: URL, recipients: String, channels: String, red: [String], replacing more: [String: String] = [:]
) throws -> String {
    let file = directory.appendingPathComponent("recipients.csv")
    try ("id,channel,region,name,address,secret,options\n" + recipients).write(to: file, atomically: true, encoding: .utf8)
    let config = try testConfiguration(in: directory)
    var text = try String(contentsOfFile: config, encoding: .utf8)
        .replacingOccurrences(of: "  # recipients: recipients.csv", with: "  recipients: \(file.path)")
        .replacingOccurrences(
            of: "    red: [loudspeaker]", with: "    red: \(["loudspeaker"] + red)".replacingOccurrences(of: "\"", with: "")
        )
        .replacingOccurrences(of: "  channels:\n", with: "  channels:\n" + channels)
    for (old, new) in more { text = text.replacingOccurrences(of: old, with: new) }
    try text.write(toFile: config, atomically: true, encoding: .utf8)
    return config
}
