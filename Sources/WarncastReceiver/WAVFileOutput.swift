import Foundation

/// Plays nothing: the WAV file in `state_dir/wav/` is the result.
public struct WAVFileOutput: AudioOutput {
    public init() {}

    public var name: String { "wav" }

    public func play(_ file: URL, duration: TimeInterval) async throws(SpeakerError) {}
}
