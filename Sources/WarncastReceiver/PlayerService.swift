import Logging
import ServiceLifecycle
import WarncastCore

/// The one player: takes the queued warnings in order and broadcasts each to its end before
/// the next, telling the monitor (for heartbeats) and the reporter (for the node). At a
/// graceful shutdown it finishes the warning it is playing and takes no more; those still
/// queued stay in the spool and play at the next start.
public struct PlayerService: Service {
    public var queue: PlayQueue
    public var speaker: Speaker
    public var monitor: TerminalMonitor
    public var reporter: PlaybackReporter
    /// Where the queued warnings wait on disk; each leaves it once played.
    public var spool: PlaySpool?

    public init(queue: PlayQueue, speaker: Speaker, monitor: TerminalMonitor, reporter: PlaybackReporter, spool: PlaySpool? = nil) {
        self.spool = spool
        self.queue = queue
        self.speaker = speaker
        self.monitor = monitor
        self.reporter = reporter
    }

    public func run() async throws {
        for await message in queue.messages.cancelOnGracefulShutdown() {
            await monitor.beganPlaying()
            let playback = await speaker.broadcast(message)
            await monitor.finished(message.idempotencyKey, succeeded: playback.result == "played")
            reporter.add(playback)
            spool?.remove(key: message.idempotencyKey)
        }
    }
}
