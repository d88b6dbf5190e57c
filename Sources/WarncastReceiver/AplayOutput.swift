import Foundation

/// `aplay -q FILE` on the default ALSA device.
public struct AplayOutput: AudioOutput {
    public var program: String

    public init(program: String = "aplay") {
        self.program = program
    }

    public var name: String { "alsa" }

    public func play(_ file: URL, duration: TimeInterval) async throws(SpeakerError) {
        let outcome: ProcessRunner.Outcome
        do {
            // The audio's length, and half a minute for a slow device to open.
            outcome = try await ProcessRunner.run(program, ["-q", file.path], timeout: .seconds(Int(duration.rounded(.up)) + 30))
        } catch {
            throw .playback(error.description)
        }
        guard outcome.succeeded else { throw .playback("\(program): \(outcome.failureDetail)") }
    }

    /// Whether `aplay -l` lists a sound card.
    public static func hasSoundCard(program: String = "aplay") async -> Bool {
        guard let outcome = try? await ProcessRunner.run(program, ["-l"], timeout: .seconds(10)), outcome.succeeded else {
            return false
        }
        return outcome.output.split(whereSeparator: \.isNewline).contains { $0.hasPrefix("card ") }
    }
}
