import Dispatch
import Foundation
import Synchronization
import Testing
import WarncastNet
import WarncastTestSupport

@Suite("The test peers themselves")
struct TestPeerTests {
    @Test("a test peer answers while every cooperative thread is held by a synchronous wait")
    func peerAnswersWhilePoolIsBlocked() async throws {
        let gateway = try await CarrierGateway()
        defer { gateway.stop() }
        let url = gateway.url
        let status = Mutex<Int?>(nil)
        let answered = DispatchSemaphore(value: 0)
        // A client on a thread of its own, as warncastd is a process of its own; it asks once
        // the cooperative threads are all held, and gives the gateway 0.6 s to answer.
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: 0.2)
            let body = #"{"mobile":"13700000001","content":"test","notify":"http://127.0.0.1:1/none","outId":"o-1"}"#
            let answer = try? CurlTransfer.perform(
                HTTPRequestSpec(
                    method: "POST", url: url, headers: ["Content-Type: application/json"], body: Data(body.utf8),
                    totalTimeoutMilliseconds: 600))
            status.withLock { $0 = answer?.status ?? 0 }
            answered.signal()
        }
        // Every cooperative thread (one per core) blocked for 1 s, as a test's synchronous
        // wait for a daemon blocks one. (Short: it holds up the other tests running meanwhile.)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<ProcessInfo.processInfo.activeProcessorCount {
                group.addTask { Self.holdThread(seconds: 1) }
            }
        }
        Self.wait(for: answered)
        #expect(status.withLock { $0 } == 200, "the gateway answered within 0.6 s while the pool was blocked")
    }

    /// A synchronous wait, as a test's blocking helper does one.
    static func holdThread(seconds: Double) { Thread.sleep(forTimeInterval: seconds) }

    static func wait(for semaphore: DispatchSemaphore) { semaphore.wait() }
}
