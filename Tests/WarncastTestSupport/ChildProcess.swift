import Foundation

extension TestSupport {
    /// Runs `arguments` (the first found on `PATH`), feeding `input` to its standard input,
    /// and returns its exit status and what it wrote to standard output and error. The wait
    /// happens on a thread of its own: a test that blocked a thread of the cooperative pool
    /// would starve the servers it talks to in the same process.
    public static func run(_ arguments: [String], input: Data? = nil) async throws -> (status: Int32, output: String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                process.arguments = arguments
                let out = Pipe()
                let stdin = Pipe()
                process.standardOutput = out
                process.standardError = out
                process.standardInput = stdin
                do {
                    try process.run()
                    if let input { stdin.fileHandleForWriting.write(input) }
                    try stdin.fileHandleForWriting.close()
                    let data = out.fileHandleForReading.readDataToEndOfFile()
                    process.waitUntilExit()
                    continuation.resume(returning: (process.terminationStatus, String(decoding: data, as: UTF8.self)))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}
