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
        let running = Task { try await app.run() }
        var iterator = stream.makeAsyncIterator()
        return (await iterator.next() ?? 0, running)
    }
}
