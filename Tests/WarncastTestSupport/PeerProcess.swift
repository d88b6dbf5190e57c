import Foundation

/// A real peer (a TLS server, Kannel, an SMTP server …) run as a child process for a test.
/// Its output goes to a log file, never to a pipe, so a chatty peer cannot block on a full
/// pipe and an exited one leaves nothing to drain. `stop()` (or deinit) kills and reaps it.
public final class PeerProcess: @unchecked Sendable {
    public let name: String
    public let logFile: URL
    private let process = Process()
    private let stopSignal: Int32

    /// Starts `executable` with `arguments`; when `port` is given, waits (at most `timeout`
    /// seconds) until something accepts connections on 127.0.0.1 at that port.
    public init(
        _ name: String, executable: String, arguments: [String], directory: URL, port: Int? = nil,
        environment: [String: String] = [:], timeout: TimeInterval = 20, stopSignal: Int32 = SIGTERM
    ) throws {
        self.name = name
        self.stopSignal = stopSignal
        logFile = directory.appendingPathComponent("\(name).log")
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let handle = try FileHandle(forWritingTo: logFile)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        guard let port else { return }
        let deadline = Date().addingTimeInterval(timeout)
        while !PeerProcess.accepts(port: port) {
            guard process.isRunning, Date() < deadline else {
                stop()
                throw PeerFailure(name: name, log: log)
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    public var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    public var isRunning: Bool { process.isRunning }

    /// The stop signal (SIGTERM unless told otherwise), then SIGKILL after five seconds;
    /// always reaps the child.
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, stopSignal)
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Sends `signal` once, if the process still runs (its pid is not someone else's yet).
    public func send(_ signal: Int32) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, signal)
    }

    /// Sends the stop signal (`signals` times, 0.05 s apart, as when make passes on a signal
    /// its process group had) and waits up to `seconds` for the process to exit by itself:
    /// its exit status, or nil when it had to be killed (or had already exited before).
    public func stopGracefully(within seconds: TimeInterval, signals: Int = 1) -> Int32? {
        guard process.isRunning else { return nil }
        for signal in 0..<signals where process.isRunning {
            if signal > 0 { Thread.sleep(forTimeInterval: 0.05) }
            kill(process.processIdentifier, stopSignal)
        }
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        guard !process.isRunning else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        process.waitUntilExit()
        return process.terminationReason == .exit ? process.terminationStatus : nil
    }

    deinit { stop() }

    /// Whether a TCP connection to 127.0.0.1:`port` succeeds right now.
    public static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// A TCP port on 127.0.0.1 that nothing listens on at the moment of asking.
    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                _ = bind(fd, $0, length)
                _ = getsockname(fd, $0, &length)
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// Runs a short command to completion (at most `timeout` seconds); throws unless it exits 0.
    public static func run(_ executable: String, _ arguments: [String], in directory: URL, timeout: TimeInterval = 60) throws {
        let peer = try PeerProcess(
            "run-\(URL(fileURLWithPath: executable).lastPathComponent)-\(UUID().uuidString.prefix(8))",
            executable: executable, arguments: arguments, directory: directory)
        let deadline = Date().addingTimeInterval(timeout)
        while peer.process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        peer.stop()
        guard peer.process.terminationReason == .exit, peer.process.terminationStatus == 0 else {
            throw PeerFailure(name: "\(executable) \(arguments.joined(separator: " "))", log: peer.log)
        }
    }
}

public struct PeerFailure: Error, CustomStringConvertible {
    public var name: String
    public var log: String
    public var description: String { "\(name) did not start or failed:\n\(log)" }
}
