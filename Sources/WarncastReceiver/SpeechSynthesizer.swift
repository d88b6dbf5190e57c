import Foundation

/// Turns text into speech in a voice. `EspeakSynthesizer` is the real one.
public protocol SpeechSynthesizer: Sendable {
    func speak(_ text: String, voice: String) async throws(SpeakerError) -> WAVAudio
}
