import Dispatch
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

/// Where test peers' handlers run: threads of their own, not Swift's cooperative pool. The
/// pool has one thread per core (two here), and a test that waits synchronously for a
/// daemon (a blocking request, a sleep between polls) holds one of them; with two such
/// tests at once, a peer's answer (a carrier gateway's, say) waited for a thread to free,
/// and the daemon saw a late or timed-out answer the peer would not have given.
final class PeerExecutor: TaskExecutor {
    static let shared = PeerExecutor()
    private let queue = DispatchQueue(label: "warncast-test-peers", attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
