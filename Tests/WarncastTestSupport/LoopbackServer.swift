import Foundation
import Hummingbird
import Logging

/// Runs a test peer's router on a free loopback port until its task is cancelled.
enum LoopbackServer {
    static func start(_ router: Router<BasicRequestContext>, label: String) async -> (port: Int, task: Task<Void, any Error>) {
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: label)
        logger.logLevel = .critical
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        let running = Task(executorPreference: PeerExecutor.shared) { try await app.run() }
        var iterator = stream.makeAsyncIterator()
        return (await iterator.next() ?? 0, running)
    }
}

/// Where test peers' handlers run: two threads of their own, not Swift's cooperative pool.
/// The pool has one thread per core (two here), and a test that waits synchronously for a
/// daemon (a blocking request, a sleep between polls) holds one of them; with two such
/// tests at once, a peer's answer (a carrier gateway's, say) waited for a thread to free,
/// and the daemon saw a late or timed-out answer the peer would not have given. Not a
/// Dispatch queue: on Linux those share their worker threads with the pool, and with every
/// worker held Dispatch added one only after about 0.75 s. Every peer of the process shares
/// the two threads, so a peer's handler must never block (sleep with `Task.sleep`, make
/// outgoing calls from a thread of their own, as the carrier gateway's callbacks do).
final class PeerExecutor: TaskExecutor, @unchecked Sendable {
    static let shared = PeerExecutor(threads: 2)

    // `jobs` and `next` only under `condition`; hence unchecked.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var next = 0

    private init(threads: Int) {
        for index in 0..<threads {
            // The executor lives as long as the test process: its threads never end.
            let thread = Thread { self.work() }
            thread.name = "warncast-test-peer-\(index)"
            thread.start()
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        let executor = asUnownedTaskExecutor()
        while true {
            condition.lock()
            while next == jobs.count { condition.wait() }
            let job = jobs[next]
            next += 1
            if next == jobs.count {
                jobs.removeAll(keepingCapacity: true)
                next = 0
            } else if next > 1024 && next * 2 > jobs.count {
                // A queue that never runs empty under load: drop what has been taken.
                jobs.removeFirst(next)
                next = 0
            }
            condition.unlock()
            job.runSynchronously(on: executor)
        }
    }
}
