import Crypto
import Foundation
import Logging
import WarncastCore

/// Broadcasts one warning: speaks its text in the voice for its language (or, with no
/// voice for it, makes the alert tone), `repeat` times with pauses between, into
/// `wav/<key>.wav`, then plays that file on the output. Says how it went as the playback
/// report the node takes.
public struct Speaker: Sendable {
    public var voices: VoiceTable
    public var synthesizer: any SpeechSynthesizer
    public var output: any AudioOutput
    public var wavDirectory: URL
    public var tone = AlertTone()
    /// Silence between two repeats.
    public var pause: TimeInterval = 1.5
    public var now: @Sendable () -> Date
    public var logger: Logger

    public init(
        voices: VoiceTable, synthesizer: any SpeechSynthesizer, output: any AudioOutput, wavDirectory: URL, logger: Logger,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.voices = voices
        self.synthesizer = synthesizer
        self.output = output
        self.wavDirectory = wavDirectory
        self.logger = logger
        self.now = now
    }

    public func broadcast(_ message: BroadcastMessage) async -> TerminalPlayback {
        let begun = now()
        let file = wavDirectory.appendingPathComponent(Self.fileName(for: message.idempotencyKey))
        var failure: SpeakerError?
        var audio: WAVAudio
        do {
            audio = try await sound(of: message)
        } catch {
            // Unspoken is not silent: people still hear that something is up.
            logger.error("cannot speak the warning; playing the alert tone", metadata: metadata(message, error))
            failure = error
            audio = tone.audio
        }
        audio = audio.repeated(message.timesToPlay, pause: pause)
        var started = begun
        do {
            try write(audio, to: file)
            started = now()
            try await output.play(file, duration: audio.duration)
        } catch {
            logger.error("broadcast failed", metadata: metadata(message, error))
            failure = error
        }
        let playback = TerminalPlayback(
            idempotencyKey: message.idempotencyKey, started: Timestamp(started), ended: Timestamp(now()),
            timesPlayed: failure == nil ? message.timesToPlay : 0, result: failure == nil ? "played" : "failed",
            detail: failure?.description)
        logger.info(
            "broadcast \(playback.result)",
            metadata: ["key": "\(message.idempotencyKey)", "output": "\(output.name)", "file": "\(file.path)"])
        return playback
    }

    /// The speech, or the tone when no voice speaks the language or there is no text.
    func sound(of message: BroadcastMessage) async throws(SpeakerError) -> WAVAudio {
        let text = message.spokenText
        guard let voice = voices.voice(for: message.language), !text.isEmpty else {
            logger.warning(
                "no voice for the language: playing the alert tone",
                metadata: ["key": "\(message.idempotencyKey)", "language": "\(message.language)", "text": "\(text)"])
            return tone.audio
        }
        return try await synthesizer.speak(text, voice: voice)
    }

    private func write(_ audio: WAVAudio, to file: URL) throws(SpeakerError) {
        do {
            try FileManager.default.createDirectory(at: wavDirectory, withIntermediateDirectories: true)
            try audio.fileData.write(to: file, options: .atomic)
        } catch {
            throw .file("\(file.path): \(error)")
        }
    }

    private func metadata(_ message: BroadcastMessage, _ error: SpeakerError) -> Logger.Metadata {
        ["key": "\(message.idempotencyKey)", "error": "\(error)"]
    }

    /// A file name for the key: its letters, digits, `-` and `_` (anything else becomes
    /// `_`), then 8 hex digits of its SHA-256 so that keys differing only in the replaced
    /// characters stay apart.
    public static func fileName(for key: String) -> String {
        let safe = String(
            key.unicodeScalars.prefix(120).map { scalar -> Character in
                scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || scalar == "-" || scalar == "_") ? Character(scalar) : "_"
            })
        let digest = SHA256.hash(data: Data(key.utf8)).prefix(4).map { String(format: "%02x", $0) }.joined()
        return "\(safe)-\(digest).wav"
    }
}
