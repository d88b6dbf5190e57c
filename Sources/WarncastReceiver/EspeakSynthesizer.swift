import Foundation

/// espeak-ng: `espeak-ng -b 1 -v VOICE -w FILE -f TEXTFILE`. The text goes through a file,
/// never the command line, so no text can pass for an option.
public struct EspeakSynthesizer: SpeechSynthesizer {
    public var program: String
    public var timeout: Duration

    public init(program: String = "espeak-ng", timeout: Duration = .seconds(60)) {
        self.program = program
        self.timeout = timeout
    }

    public func speak(_ text: String, voice: String) async throws(SpeakerError) -> WAVAudio {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("warncast-speech-\(UUID().uuidString)")
        let textFile = scratch.appendingPathExtension("txt")
        let wavFile = scratch.appendingPathExtension("wav")
        defer {
            try? FileManager.default.removeItem(at: textFile)
            try? FileManager.default.removeItem(at: wavFile)
        }
        do {
            try Data(text.utf8).write(to: textFile)
        } catch {
            throw .file("\(error)")
        }
        let outcome: ProcessRunner.Outcome
        do {
            outcome = try await ProcessRunner.run(
                program, ["-b", "1", "-v", voice, "-w", wavFile.path, "-f", textFile.path], timeout: timeout)
        } catch {
            throw .synthesis(error.description)
        }
        guard outcome.succeeded else { throw .synthesis("\(program): \(outcome.failureDetail)") }
        do {
            return try WAVAudio(parsing: Data(contentsOf: wavFile))
        } catch let error as WAVAudio.FormatError {
            throw .synthesis("\(program): \(error)")
        } catch {
            throw .synthesis("\(program) wrote no WAV: \(error)")
        }
    }
}
