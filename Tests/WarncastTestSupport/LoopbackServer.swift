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
        let running = Task(executorPreference: ThreadExecutor.peers) { try await app.run() }
        var iterator = stream.makeAsyncIterator()
        return (await iterator.next() ?? 0, running)
    }
}

/// Threads of the test process's own, as a task executor, outside Swift's cooperative pool.
///
/// The pool has one thread per core (two here), and a test that waits synchronously for a
/// daemon (a blocking request, a sleep between polls) holds one of them. With two such
/// tests at once nothing else ran: a peer's answer (a carrier gateway's, say) waited for a
/// thread to free, and the daemon saw a late or timed-out answer the peer would not have
/// given; a test's own poll woke only after the fan-out it watched had finished. Not a
/// Dispatch queue: on Linux those share their worker threads with the pool, and with every
/// worker held Dispatch added one only after about 0.75 s.
public final class ThreadExecutor: TaskExecutor, @unchecked Sendable {
    /// Where test peers' handlers run: two threads shared by every peer of the process, so
    /// a peer's handler must never block (sleep with `Task.sleep`, make outgoing calls from
    /// a thread of their own, as the carrier gateway's callbacks do).
    static let peers = ThreadExecutor(name: "warncast-test-peer", threads: 2, most: 2)
    /// Where the end-to-end tests' bodies run (the `ownThreads` trait): they wait for
    /// processes synchronously, so a thread is added whenever every thread is busy.
    public static let waiting = ThreadExecutor(name: "warncast-test-wait", threads: 2, most: 48)

    private let name: String
    private let most: Int
    // Everything below only under `condition`; hence unchecked.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var next = 0
    private var threads = 0
    private var idle = 0

    private init(name: String, threads: Int, most: Int) {
        self.name = name
        self.most = most
        condition.lock()
        for _ in 0..<threads { startThread() }
        condition.unlock()
    }

    /// Under `condition`. The executors live as long as the test process: threads never end.
    private func startThread() {
        let thread = Thread { self.work() }
        thread.name = "\(name)-\(threads)"
        threads += 1
        thread.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        if jobs.count - next > idle && threads < most { startThread() }
        condition.signal()
        condition.unlock()
    }

    private func work() {
        let executor = asUnownedTaskExecutor()
        while true {
            condition.lock()
            while next == jobs.count {
                idle += 1
                condition.wait()
                idle -= 1
            }
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
