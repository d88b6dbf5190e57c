/// A problem with the configuration file, naming the file, the key and what is wrong.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// Dotted path of the key, e.g. `server.port` or `events[2].kinds`.
    public var key: String
    public var reason: String

    public init(file: String, key: String, reason: String) {
        self.file = file
        self.key = key
        self.reason = reason
    }

    public var description: String {
        key.isEmpty ? "\(file): \(reason)" : "\(file): \(key): \(reason)"
    }
}
