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
        let threads = ProcessInfo.processInfo.activeProcessorCount
        let holding = HoldCount()
        // A client on a thread of its own, as warncastd is a process of its own: once every
        // cooperative thread is held, it gives the gateway 0.5 s to answer.
        async let status: Int = withCheckedContinuation { answered in
            Thread.detachNewThread {
                let deadline = Date().addingTimeInterval(5)
                while holding.value < threads && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
                let body = #"{"mobile":"13700000001","content":"test","notify":"http://127.0.0.1:1/none","outId":"o-1"}"#
                let answer = try? CurlTransfer.perform(
                    HTTPRequestSpec(
                        method: "POST", url: url, headers: ["Content-Type: application/json"], body: Data(body.utf8),
                        totalTimeoutMilliseconds: 500))
                answered.resume(returning: holding.value < threads ? -1 : answer?.status ?? 0)
            }
        }
        // Every cooperative thread (one per core) blocked for 1 s, as a test's synchronous
        // wait for a daemon blocks one. (Short: it holds up the other tests running meanwhile.)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<threads {
                group.addTask {
                    holding.add()
                    Self.holdThread(seconds: 1)
                }
            }
        }
        let answered = await status
        #expect(answered != -1, "every cooperative thread was held when the client asked")
        #expect(answered == 200, "the gateway answered within 0.5 s while the pool was held")
    }

    /// A synchronous wait, as a test's blocking helper does one.
    static func holdThread(seconds: Double) { Thread.sleep(forTimeInterval: seconds) }
}

/// How many cooperative threads the test holds so far.
final class HoldCount: Sendable {
    private let count = Atomic<Int>(0)
    var value: Int { count.load(ordering: .acquiring) }
    func add() { count.add(1, ordering: .releasing) }
}
