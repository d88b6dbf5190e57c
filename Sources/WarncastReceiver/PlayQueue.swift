/// Accepted warnings waiting for the loudspeaker, in the order they were accepted. The
/// HTTP handler adds; the one `PlayerService` takes them one at a time.
///
/// The queue itself is in memory; `PlaySpool` keeps the same warnings on disk, and they are
/// queued again at the next start.
public struct PlayQueue: Sendable {
    public let messages: AsyncStream<BroadcastMessage>
    private let continuation: AsyncStream<BroadcastMessage>.Continuation

    public init() {
        (messages, continuation) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    public func add(_ message: BroadcastMessage) {
        continuation.yield(message)
    }

    /// No more warnings: the player ends once it has played those queued.
    public func close() {
        continuation.finish()
    }
}
