/// A problem with the receiver's configuration file, naming the file, the key and what is
/// wrong, e.g. `receiver.yaml: listen.port: is required`.
public struct ReceiverConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// Dotted path of the key, e.g. `listen.port`; empty for the file as a whole.
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
