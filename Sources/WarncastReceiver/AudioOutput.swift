import Foundation

/// Where a WAV file is played: the loudspeaker through ALSA, or nowhere (the file is all).
public protocol AudioOutput: Sendable {
    /// Plays `file`, `duration` seconds long, to its end.
    func play(_ file: URL, duration: TimeInterval) async throws(SpeakerError)
    /// A word for logs: `alsa`, `wav`.
    var name: String { get }
}

extension ReceiverConfig.Output {
    /// The output this setting means on this machine: `auto` asks `aplay -l`.
    public func resolved() async -> any AudioOutput {
        switch self {
        case .alsa: AplayOutput()
        case .wav: WAVFileOutput()
        case .auto: await AplayOutput.hasSoundCard() ? AplayOutput() : WAVFileOutput()
        }
    }
}
