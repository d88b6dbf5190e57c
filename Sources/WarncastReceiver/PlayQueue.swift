/// Accepted warnings waiting for the loudspeaker, in the order they were accepted. The
/// HTTP handler adds; the one `PlayerService` takes them one at a time.
///
/// The queue is in memory: a warning accepted (and so in `played.log`) but not yet played
/// when the receiver stops is not played after the restart.
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
