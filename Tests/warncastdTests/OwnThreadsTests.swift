import Foundation
import Testing

@Suite("The end-to-end tests' own threads", .serialized, .ownThreads)
struct OwnThreadsTests {
    @Test("four synchronous waits at once leave a poll's sleep on time")
    func pollWakesWhileOthersBlock() async {
        let start = Date()
        let late = await withTaskGroup(of: Double?.self) { group in
            // More blocking waits than the cooperative pool has threads (one per core).
            for _ in 0..<max(4, ProcessInfo.processInfo.activeProcessorCount * 2) {
                group.addTask {
                    Self.block(seconds: 1)
                    return nil
                }
            }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(20))
                return Date().timeIntervalSince(start)
            }
            var slept: Double?
            for await result in group where result != nil { slept = result }
            return slept ?? .infinity
        }
        #expect(late < 0.5, "a 20 ms sleep took \(late) s while other tasks blocked their threads")
    }

    /// A synchronous wait, as the daemon helpers' waits for a process are.
    static func block(seconds: Double) { Thread.sleep(forTimeInterval: seconds) }
}
