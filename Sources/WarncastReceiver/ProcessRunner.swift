import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs a program (found on `PATH`) to its end or until a timeout, and keeps what it wrote.
/// Output goes to temporary files rather than pipes, so a chatty program never blocks on a
/// full pipe while we wait for it.
public enum ProcessRunner {
    /// How a run ended.
    public struct Outcome: Sendable, Equatable {
        /// The exit status, or the signal's number when it was killed.
        public var status: Int32
        public var timedOut: Bool
        public var output: String
        public var errorOutput: String

        public var succeeded: Bool { status == 0 && !timedOut }

        /// The last line of the error output, or the status, for a report.
        public var failureDetail: String {
            if timedOut { return "timed out" }
            let last = errorOutput.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
            return last.isEmpty ? "exit status \(status)" : "exit status \(status): \(last)"
        }
    }

    /// Why a program did not run at all.
    public struct LaunchError: Error, Sendable, CustomStringConvertible {
        public var program: String
        public var reason: String
        public var description: String { "cannot run \(program): \(reason)" }
    }

    /// The programs running now, by pid, and whether the receiver is stopping at once:
    /// `killRunning` ends them (its own exit would leave them playing), and a program that
    /// starts after it is killed as soon as it is known.
    private static let running = Mutex<(pids: Set<pid_t>, stopping: Bool)>(([], false))

    /// Kills (SIGKILL) every program started here that has not ended yet, and every one
    /// started from now on.
    public static func killRunning() {
        for pid in running.withLock({ state in
            state.stopping = true
            return state.pids
        }) { kill(pid, SIGKILL) }
    }

    public static func run(_ program: String, _ arguments: [String], timeout: Duration) async throws(LaunchError) -> Outcome {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("warncast-receiver-\(UUID().uuidString)")
        let outFile = scratch.appendingPathExtension("out")
        let errFile = scratch.appendingPathExtension("err")
        defer {
            try? FileManager.default.removeItem(at: outFile)
            try? FileManager.default.removeItem(at: errFile)
        }
        let process = Process()
        // `env` finds the program on PATH and then becomes it: the pid is the program's.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [program] + arguments
        process.standardInput = FileHandle.nullDevice
        do {
            _ = FileManager.default.createFile(atPath: outFile.path, contents: nil)
            _ = FileManager.default.createFile(atPath: errFile.path, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: outFile)
            process.standardError = try FileHandle(forWritingTo: errFile)
        } catch {
            throw LaunchError(program: program, reason: "\(error)")
        }
        let status = try await wait(for: process, program: program, timeout: timeout)
        return Outcome(
            status: status.code, timedOut: status.timedOut, output: Self.text(outFile), errorOutput: Self.text(errFile))
    }

    private static func wait(
        for process: Process, program: String, timeout: Duration
    ) async throws(LaunchError) -> (code: Int32, timedOut: Bool) {
        let (ended, continuation) = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { finished in
            continuation.yield(finished.terminationStatus)
            continuation.finish()
        }
        do {
            try process.run()
        } catch {
            throw LaunchError(program: program, reason: "\(error)")
        }
        let pid = process.processIdentifier
        if running.withLock({ state in
            state.pids.insert(pid)
            return state.stopping
        }) {
            kill(pid, SIGKILL)
        }
        defer { running.withLock { _ = $0.pids.remove(pid) } }
        // SIGKILL, not SIGTERM: Foundation starts the program with the spawning thread's
        // signal mask, in which SIGTERM is blocked. Neither espeak-ng nor aplay has anything
        // to clean up.
        let watchdog = Task { () -> Bool in
            do { try await Task.sleep(for: timeout) } catch { return false }
            kill(pid, SIGKILL)
            return true
        }
        // A cancelled caller (the receiver stopping) does not leave the program running.
        let code = await withTaskCancellationHandler {
            var iterator = ended.makeAsyncIterator()
            return await iterator.next() ?? -1
        } onCancel: {
            kill(pid, SIGKILL)
        }
        watchdog.cancel()
        let timedOut = await watchdog.value
        return (code, timedOut)
    }

    private static func text(_ file: URL) -> String {
        String(decoding: FileManager.default.contents(atPath: file.path) ?? Data(), as: UTF8.self)
    }
}
