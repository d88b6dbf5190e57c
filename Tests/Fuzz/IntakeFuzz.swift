import Foundation
import WarncastCore

/// One input for the intake fuzzer: the bytes are read as CAP XML and as CAP JSON, the way
/// a submission is. Whatever the reader accepts must come out of the writer as XML that the
/// reader accepts again and reads to the same message, so no accepted input can make an
/// outgoing copy malformed or change what it says. A failed check stops the process, which
/// libFuzzer (or the replay mode) reports with the input that caused it.
enum IntakeFuzz {
    static func check(_ data: Data) {
        if let alert = try? CAPReader.readXML(data) { rewrite(alert, sameAfterwards: true) }
        // JSON keeps surrounding spaces and empty strings that reading XML trims away, so
        // a JSON message must survive the writer, and its written form the round trip.
        if let alert = try? CAPReader.readJSON(data) { rewrite(rewrite(alert, sameAfterwards: false), sameAfterwards: true) }
    }

    @discardableResult
    static func rewrite(_ alert: CAPAlert, sameAfterwards: Bool) -> CAPAlert {
        let written = CAPWriter.xml(alert)
        guard let again = try? CAPReader.readXML(written) else {
            fail("the writer's XML for an accepted message does not read back", written)
        }
        if sameAfterwards && again != alert { fail("an accepted message reads back different after writing", written) }
        return again
    }

    static func fail(_ reason: String, _ written: Data) -> Never {
        FileHandle.standardError.write(Data("intake fuzz: \(reason)\n".utf8))
        FileHandle.standardError.write(written)
        abort()
    }
}

#if FUZZING
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOne(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
        IntakeFuzz.check(Data(bytes: start, count: count))
        return 0
    }

    @_silgen_name("LLVMFuzzerRunDriver")
    func runFuzzer(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafeRawPointer, Int) -> CInt
    ) -> CInt

    /// SwiftPM makes an executable's entry point `<module>_main`; it hands over to libFuzzer's
    /// driver, so the archive's own `main` is not needed.
    @_cdecl("warncast_fuzz_main")
    public func fuzzMain(
        _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
    ) -> CInt {
        var count = argc
        var arguments = argv
        return runFuzzer(&count, &arguments) { start, size in
            IntakeFuzz.check(Data(bytes: start, count: size))
            return 0
        }
    }
#else
    /// Without libFuzzer the same check replays files: `warncast-fuzz FILE...` (a corpus
    /// or a crash a fuzzing run saved), so a finding can be rerun in an ordinary build.
    @main
    struct Replay {
        static func main() {
            let paths = CommandLine.arguments.dropFirst()
            for path in paths {
                guard let data = FileManager.default.contents(atPath: path) else {
                    FileHandle.standardError.write(Data("warncast-fuzz: cannot read \(path)\n".utf8))
                    exit(2)
                }
                IntakeFuzz.check(data)
            }
            print("warncast-fuzz: \(paths.count) inputs replayed, no finding")
        }
    }
#endif
