/// Why a warning was not broadcast; the text goes into the playback report's `detail`.
public enum SpeakerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The speech could not be made (espeak-ng failed or wrote no usable WAV).
    case synthesis(String)
    /// The WAV file could not be written.
    case file(String)
    /// The WAV could not be played (aplay failed).
    case playback(String)

    public var description: String {
        switch self {
        case .synthesis(let reason): "speech synthesis failed: \(reason)"
        case .file(let reason): "cannot write the WAV file: \(reason)"
        case .playback(let reason): "playback failed: \(reason)"
        }
    }
}
