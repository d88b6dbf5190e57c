import ServiceLifecycle

/// Asks the node for its keys every `interval` (adding any new ones to the pinned set), and
/// every minute while none is pinned yet, as when the node was down at the first start.
public struct KeyRefreshService: Service {
    public var keys: PinnedKeys
    public var interval: Duration

    public init(keys: PinnedKeys, interval: Duration) {
        self.keys = keys
        self.interval = interval
    }

    public func run() async {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let wait = await keys.current.isEmpty ? min(interval, .seconds(PinnedKeys.unknownKeyInterval)) : interval
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
            } catch {
                return
            }
            guard !Task.isShuttingDownGracefully else { return }
            await keys.refresh()
        }
    }
}
