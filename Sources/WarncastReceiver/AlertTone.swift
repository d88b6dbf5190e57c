import Foundation

/// The tone played instead of speech when no voice speaks the message's language: a sine
/// at `frequency`, faded in and out so the loudspeaker does not click.
public struct AlertTone: Sendable, Equatable {
    public var seconds: TimeInterval
    public var frequency: Double
    public var sampleRate: Int

    public init(seconds: TimeInterval = 1.5, frequency: Double = 880, sampleRate: Int = 22_050) {
        self.seconds = seconds
        self.frequency = frequency
        self.sampleRate = sampleRate
    }

    public var audio: WAVAudio {
        let count = Int(seconds * Double(sampleRate))
        let fade = max(1, min(count / 2, sampleRate / 50))  // 20 ms
        var samples = Data(capacity: count * 2)
        for index in 0..<count {
            let envelope = Double(min(index, count - 1 - index, fade)) / Double(fade)
            let value = sin(2 * Double.pi * frequency * Double(index) / Double(sampleRate)) * envelope * 0.6
            WAVAudio.append(Int16(value * Double(Int16.max)), to: &samples)
        }
        return WAVAudio(sampleRate: sampleRate, channels: 1, samples: samples)
    }
}
