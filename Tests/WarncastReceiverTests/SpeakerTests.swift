import Foundation
import Testing
import WarncastCore
import WarncastReceiver

@Suite("Broadcasting one warning")
struct SpeakerTests {
    /// Speaks one second of silence per call, and remembers what it was asked.
    final class FakeSynthesizer: SpeechSynthesizer {
        let calls = Shared<[String]>([])
        let failure: SpeakerError?

        init(failure: SpeakerError? = nil) {
            self.failure = failure
        }

        func speak(_ text: String, voice: String) async throws(SpeakerError) -> WAVAudio {
            calls.update { $0.append("\(voice): \(text)") }
            if let failure { throw failure }
            return WAVAudio(sampleRate: 16_000, samples: Data(count: 32_000))
        }
    }

    /// Plays nothing, remembers the files and their lengths; fails when told to.
    final class FakeOutput: AudioOutput {
        let played = Shared<[(file: URL, duration: TimeInterval)]>([])
        let failure: SpeakerError?
        /// How many plays fail (with `failure`) before they start to succeed; nil: all.
        let failing: Int?

        init(failure: SpeakerError? = nil, failing: Int? = nil) {
            self.failure = failure
            self.failing = failing
        }

        var name: String { "fake" }

        func play(_ file: URL, duration: TimeInterval) async throws(SpeakerError) {
            let count = played.withValue { played in
                played.append((file, duration))
                return played.count
            }
            if let failure, count <= failing ?? Int.max { throw failure }
        }
    }

    func speaker(_ folder: ScratchFolder, synthesizer: FakeSynthesizer, output: FakeOutput) -> Speaker {
        var speaker = Speaker(
            voices: .standard, synthesizer: synthesizer, output: output, wavDirectory: folder.file("wav"), logger: quietLogger)
        speaker.pause = 1
        return speaker
    }

    @Test("the text is spoken in the language's voice, repeated with pauses, written under wav/ and played")
    func spoken() async throws {
        let folder = ScratchFolder()
        defer { folder.remove() }
        let synthesizer = FakeSynthesizer()
        let output = FakeOutput()
        let message = BroadcastMessage(idempotencyKey: "w-1/ls-1", text: "暴雨红色预警", repeat: 3, language: "zh-CN")
        let playback = await speaker(folder, synthesizer: synthesizer, output: output).broadcast(message)
        #expect(synthesizer.calls.value == ["cmn: 暴雨红色预警"])
        let played = try #require(output.played.value.first)
        #expect(played.file.path == folder.file("wav/\(Speaker.fileName(for: "w-1/ls-1"))").path)
        #expect(played.duration == 5)  // three seconds of speech, two of pause
        #expect(try WAVAudio(parsing: Data(contentsOf: played.file)).duration == 5)
        #expect(playback.idempotencyKey == "w-1/ls-1")
        #expect(playback.result == "played")
        #expect(playback.timesPlayed == 3)
        #expect(playback.detail == nil)
        #expect(playback.started <= playback.ended)
    }

    @Test("an empty text falls back to the headline")
    func headline() async {
        let folder = ScratchFolder()
        defer { folder.remove() }
        let synthesizer = FakeSynthesizer()
        let message = BroadcastMessage(idempotencyKey: "k", text: " ", repeat: 1, language: "en-GB", headline: "Heavy rain")
        _ = await speaker(folder, synthesizer: synthesizer, output: FakeOutput()).broadcast(message)
        #expect(synthesizer.calls.value == ["en: Heavy rain"])
    }

    @Test("a language without a voice plays the alert tone, repeated, and nothing is synthesised")
    func tone() async {
        let folder = ScratchFolder()
        defer { folder.remove() }
        let synthesizer = FakeSynthesizer()
        let output = FakeOutput()
        let message = BroadcastMessage(idempotencyKey: "k", text: "ᠬᠦᠴᠦᠲᠡᠢ ᠪᠣᠷᠤᠭᠠ", repeat: 2, language: "mn-Mong")
        let playback = await speaker(folder, synthesizer: synthesizer, output: output).broadcast(message)
        #expect(synthesizer.calls.value.isEmpty)
        #expect(output.played.value.first?.duration == 4)  // 1.5 + 1 + 1.5
        #expect(playback.result == "played")
        #expect(playback.timesPlayed == 2)
    }

    @Test("a failed synthesis or playback is reported as failed, with what went wrong")
    func failures() async {
        let folder = ScratchFolder()
        defer { folder.remove() }
        let message = BroadcastMessage(idempotencyKey: "k", text: "暴雨", repeat: 2, language: "zh-CN")
        let silentOutput = FakeOutput(failure: .playback("aplay: exit status 1: audio open error"))
        let unplayed = await speaker(folder, synthesizer: FakeSynthesizer(), output: silentOutput).broadcast(message)
        #expect(unplayed.result == "failed")
        #expect(unplayed.timesPlayed == 0)
        #expect(unplayed.detail == "playback failed: aplay: exit status 1: audio open error")

        // Without speech the tone still sounds, but the warning was not broadcast.
        let output = FakeOutput()
        let mute = FakeSynthesizer(failure: .synthesis("espeak-ng: exit status 1"))
        let unspoken = await speaker(folder, synthesizer: mute, output: output).broadcast(message)
        #expect(unspoken.result == "failed")
        #expect(unspoken.detail == "speech synthesis failed: espeak-ng: exit status 1")
        #expect(output.played.value.first?.duration == 4)
    }

    @Test("file names keep letters, digits, - and _, and keys differing only elsewhere stay apart")
    func fileNames() {
        let name = Speaker.fileName(for: "9f1c2e/ls-430121001001-1")
        #expect(name.hasPrefix("9f1c2e_ls-430121001001-1-"))
        #expect(name.hasSuffix(".wav"))
        #expect(Speaker.fileName(for: "a/b") != Speaker.fileName(for: "a_b"))
        #expect(!Speaker.fileName(for: "../../etc/passwd").contains("/"))
        #expect(Speaker.fileName(for: "../../etc/passwd").hasPrefix("______etc_passwd-"))
        #expect(Speaker.fileName(for: String(repeating: "x", count: 1000)).count < 140)
    }

    @Test(
        "espeak-ng speaks Chinese into a WAV the receiver can read",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/espeak-ng")))
    func espeak() async throws {
        let audio = try await EspeakSynthesizer().speak("暴雨红色预警", voice: "cmn")
        #expect(audio.channels == 1)
        #expect(audio.duration > 0.5)
        let missing = EspeakSynthesizer(program: "no-such-espeak-ng")
        await #expect(throws: SpeakerError.self) { try await missing.speak("x", voice: "cmn") }
    }
}
