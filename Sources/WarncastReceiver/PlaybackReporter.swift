import Foundation
import Logging
import ServiceLifecycle
import WarncastCore

/// Tells the node how each broadcast went (`POST /v1/terminals/{id}/playback`), one report
/// after the other, trying a report again with backoff while the node is unreachable or
/// busy, up to `policy.maxAttempts`; a refusal (403 not this terminal's, 404 unknown) is
/// logged and dropped.
///
/// Reports waiting are kept in memory only: they are few, small and soon sent, and the
/// node still knows each warning was delivered. A restart loses the ones not yet sent.
public struct PlaybackReporter: Service {
    private let node: NodeClient
    private let policy: RetryPolicy
    private let logger: Logger
    private let sleep: @Sendable (TimeInterval) async -> Void
    private let reports: AsyncStream<TerminalPlayback>
    private let continuation: AsyncStream<TerminalPlayback>.Continuation

    public init(
        node: NodeClient, logger: Logger, policy: RetryPolicy = RetryPolicy(maxAttempts: 8, initialDelay: 2, maxDelay: 300),
        sleep: @escaping @Sendable (TimeInterval) async -> Void = PlaybackReporter.pause
    ) {
        self.node = node
        self.policy = policy
        self.logger = logger
        self.sleep = sleep
        (reports, continuation) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    public func add(_ playback: TerminalPlayback) {
        continuation.yield(playback)
    }

    /// Sends reports until a graceful shutdown; then sends those already waiting, each once.
    public func run() async {
        await withGracefulShutdownHandler {
            for await playback in reports { _ = await deliver(playback) }
        } onGracefulShutdown: {
            continuation.finish()
        }
    }

    /// Sends one report, trying again while that may help. Whether the node took it.
    func deliver(_ playback: TerminalPlayback) async -> Bool {
        var attempt = 1
        while true {
            do {
                try await node.reportPlayback(playback)
                logger.info("playback reported", metadata: ["key": "\(playback.idempotencyKey)", "result": "\(playback.result)"])
                return true
            } catch {
                let again = error.isTransient && policy.shouldRetry(attempt: attempt) && !Task.isShuttingDownGracefully
                logger.warning(
                    again ? "playback report failed; trying again" : "playback report failed; giving up",
                    metadata: ["key": "\(playback.idempotencyKey)", "attempt": "\(attempt)", "error": "\(error)"])
                guard again else { return false }
                await sleep(policy.delay(afterAttempt: attempt))
                attempt += 1
            }
        }
    }

    /// Waits, but no longer once the receiver is shutting down.
    public static func pause(_ seconds: TimeInterval) async {
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(Int(seconds * 1000))) }
    }
}
