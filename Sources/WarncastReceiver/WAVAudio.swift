import Foundation

/// 16-bit PCM audio, read from and written as a RIFF WAV file. Enough to repeat what
/// espeak-ng spoke with pauses between, and to write the alert tone, without sox.
public struct WAVAudio: Sendable, Equatable {
    public var sampleRate: Int
    public var channels: Int
    /// Little-endian 16-bit samples, channels interleaved.
    public var samples: Data

    public init(sampleRate: Int, channels: Int = 1, samples: Data = Data()) {
        self.sampleRate = sampleRate
        self.channels = channels
        self.samples = samples
    }

    /// Why a file is not audio this receiver can use.
    public struct FormatError: Error, Sendable, Equatable, CustomStringConvertible {
        public var reason: String
        public var description: String { "not a usable WAV file: \(reason)" }
    }

    private static let bytesPerSample = 2

    public var duration: TimeInterval {
        Double(samples.count) / Double(sampleRate * channels * Self.bytesPerSample)
    }

    /// Reads a RIFF WAVE file of 16-bit PCM. A `data` chunk whose size runs past the end
    /// (as a writer streaming to a pipe leaves it) is taken up to the end.
    public init(parsing file: Data) throws(FormatError) {
        let bytes = [UInt8](file)
        guard bytes.count >= 12, bytes[0..<4].elementsEqual("RIFF".utf8), bytes[8..<12].elementsEqual("WAVE".utf8) else {
            throw FormatError(reason: "no RIFF WAVE header")
        }
        var format: (channels: Int, rate: Int, bits: Int)?
        var offset = 12
        while offset + 8 <= bytes.count {
            let size = Self.uint32(bytes, at: offset + 4)
            let body = offset + 8
            if bytes[offset..<offset + 4].elementsEqual("fmt ".utf8), body + 16 <= bytes.count {
                guard Self.uint16(bytes, at: body) == 1 else { throw FormatError(reason: "not PCM") }
                format = (Self.uint16(bytes, at: body + 2), Self.uint32(bytes, at: body + 4), Self.uint16(bytes, at: body + 14))
            } else if bytes[offset..<offset + 4].elementsEqual("data".utf8) {
                guard let format else { throw FormatError(reason: "data before fmt") }
                guard format.bits == 16, format.channels > 0, format.rate > 0 else {
                    throw FormatError(reason: "\(format.bits)-bit, \(format.channels) channel(s) at \(format.rate) Hz")
                }
                // Whole frames only: a file cut short may end inside one.
                let frame = format.channels * Self.bytesPerSample
                let end = body + (min(bytes.count, body + size) - body) / frame * frame
                self.init(sampleRate: format.rate, channels: format.channels, samples: Data(bytes[body..<end]))
                return
            }
            offset = body + size + (size & 1)
        }
        throw FormatError(reason: "no data chunk")
    }

    /// This audio `times` times, with `pause` seconds of silence between.
    public func repeated(_ times: Int, pause: TimeInterval) -> WAVAudio {
        let frames = Int(pause * Double(sampleRate))
        let silence = Data(count: frames * channels * Self.bytesPerSample)
        var result = WAVAudio(sampleRate: sampleRate, channels: channels)
        for index in 0..<max(1, times) {
            if index > 0 { result.samples.append(silence) }
            result.samples.append(samples)
        }
        return result
    }

    /// The whole file: a 44-byte header, then the samples.
    public var fileData: Data {
        var data = Data("RIFF".utf8)
        Self.append(UInt32(36 + samples.count), to: &data)
        data.append(contentsOf: Array("WAVEfmt ".utf8))
        Self.append(UInt32(16), to: &data)
        Self.append(UInt16(1), to: &data)  // PCM
        Self.append(UInt16(channels), to: &data)
        Self.append(UInt32(sampleRate), to: &data)
        Self.append(UInt32(sampleRate * channels * Self.bytesPerSample), to: &data)  // bytes per second
        Self.append(UInt16(channels * Self.bytesPerSample), to: &data)  // bytes per frame
        Self.append(UInt16(16), to: &data)
        data.append(contentsOf: Array("data".utf8))
        Self.append(UInt32(samples.count), to: &data)
        data.append(samples)
        return data
    }

    static func append<T: FixedWidthInteger>(_ value: T, to data: inout Data) {
        withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
    }

    private static func uint16(_ bytes: [UInt8], at offset: Int) -> Int {
        Int(bytes[offset]) | Int(bytes[offset + 1]) << 8
    }

    private static func uint32(_ bytes: [UInt8], at offset: Int) -> Int {
        uint16(bytes, at: offset) | uint16(bytes, at: offset + 2) << 16
    }
}
