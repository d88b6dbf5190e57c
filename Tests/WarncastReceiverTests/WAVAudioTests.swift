import Foundation
import Testing
import WarncastReceiver

@Suite("WAV files and the alert tone")
struct WAVAudioTests {
    @Test("the alert tone is a RIFF WAV of 16-bit mono PCM, 1.5 s long")
    func toneFile() throws {
        let data = AlertTone().audio.fileData
        let samples = 33_075  // 1.5 s at 22,050 Hz
        #expect(data.count == 44 + samples * 2)
        #expect(String(decoding: data[0..<4], as: UTF8.self) == "RIFF")
        #expect(String(decoding: data[8..<16], as: UTF8.self) == "WAVEfmt ")
        #expect(String(decoding: data[36..<40], as: UTF8.self) == "data")
        func little(_ range: Range<Int>) -> Int { data[range].reversed().reduce(0) { $0 << 8 | Int($1) } }
        #expect(little(4..<8) == data.count - 8)
        #expect(little(20..<22) == 1)  // PCM
        #expect(little(22..<24) == 1)  // mono
        #expect(little(24..<28) == 22_050)
        #expect(little(28..<32) == 44_100)  // bytes per second
        #expect(little(34..<36) == 16)
        #expect(little(40..<44) == samples * 2)
        let audio = try WAVAudio(parsing: data)
        #expect(audio.duration == 1.5)
    }

    @Test("the tone is a tone: loud in the middle, silent at its very ends")
    func toneShape() throws {
        let samples = AlertTone().audio.samples.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
        #expect(samples.first == 0)
        #expect(abs(Int(samples[samples.count - 1])) < 200)
        #expect(samples[10_000..<11_000].map { abs(Int($0)) }.max()! > 15_000)
    }

    @Test("repeating audio puts silence between the copies and none after the last")
    func repeated() {
        let second = WAVAudio(sampleRate: 1000, samples: Data(repeating: 1, count: 2000))
        let three = second.repeated(3, pause: 0.5)
        #expect(three.duration == 4)
        #expect(three.samples[2000..<3000].allSatisfy { $0 == 0 })
        #expect(three.samples.suffix(2000).allSatisfy { $0 == 1 })
        #expect(second.repeated(0, pause: 1) == second)
    }

    @Test("a file whose data size runs past its end, as a streaming writer leaves it, is read to the end")
    func streamed() throws {
        var data = WAVAudio(sampleRate: 22_050, samples: Data(repeating: 7, count: 101)).fileData
        data.replaceSubrange(40..<44, with: [0xFF, 0xFF, 0xFF, 0x7F])
        let audio = try WAVAudio(parsing: data)
        #expect(audio.samples.count == 100)  // whole 16-bit frames only
        #expect(throws: WAVAudio.FormatError.self) { try WAVAudio(parsing: Data("RIFF....WAVE".utf8)) }
        #expect(throws: WAVAudio.FormatError.self) { try WAVAudio(parsing: Data("not audio".utf8)) }
    }
}
