import Foundation
import Logging
import ServiceLifecycle
import WarncastCore

/// The one player: takes the queued warnings in order and broadcasts each to its end before
/// the next, telling the monitor (for heartbeats) and the reporter (for the node).
///
/// A warning leaves the spool only once it has been played. A broadcast that fails (the
/// sound card gone, `aplay` refusing) is reported as `failed` and tried again after
/// `retryPause`, up to `attempts` times while the warning has not expired; after that it
/// stays in the spool and is tried again at the next start. At a graceful shutdown the
/// warning playing is finished and no more are taken; one cut short stays in the spool too.
public struct PlayerService: Service {
    public var queue: PlayQueue
    public var speaker: Speaker
    public var monitor: TerminalMonitor
    public var reporter: PlaybackReporter
    /// Where the queued warnings wait on disk; each leaves it once played.
    public var spool: PlaySpool?
    public var attempts = 3
    public var retryPause: Duration = .seconds(20)
    public var logger: Logger?
    public var now: @Sendable () -> Date = Date.init

    public init(queue: PlayQueue, speaker: Speaker, monitor: TerminalMonitor, reporter: PlaybackReporter, spool: PlaySpool? = nil) {
        self.spool = spool
        self.queue = queue
        self.speaker = speaker
        self.monitor = monitor
        self.reporter = reporter
    }

    public func run() async throws {
        for await message in queue.messages.cancelOnGracefulShutdown() {
            await play(message)
        }
    }

    /// Broadcasts `message` until it has been played, it expires, the attempts run out, or
    /// the receiver stops.
    func play(_ message: BroadcastMessage) async {
        let key = message.idempotencyKey
        for attempt in 1...max(1, attempts) {
            await monitor.beganPlaying()
            let playback = await speaker.broadcast(message)
            let played = playback.result == "played"
            await monitor.finished(key, succeeded: played)
            if played {
                reporter.add(playback)
                spool?.remove(key: key)
                return
            }
            // Cut short by a stop: played at the next start, nothing to report yet.
            if Task.isCancelled { return }
            reporter.add(playback)
            let last = attempt == max(1, attempts) || message.hasExpired(at: now()) || Task.isShuttingDownGracefully
            if last {
                logger?.error(
                    "the warning could not be played; it stays queued for the next start",
                    metadata: ["key": "\(key)", "attempts": "\(attempt)"])
                return
            }
            logger?.warning("playing the warning again", metadata: ["key": "\(key)", "in": "\(retryPause)"])
            do {
                try await cancelWhenGracefulShutdown { [retryPause] in try await Task.sleep(for: retryPause) }
            } catch {
                return
            }
        }
    }
}
