/// Why the dispatcher cannot start or send.
public enum DispatchError: Error, CustomStringConvertible {
    case unknownAdapter(channel: String, adapter: String, available: [String])
    case unknownWarning(String)

    public var description: String {
        switch self {
        case .unknownAdapter(let channel, let adapter, let available):
            "dispatch.channels.\(channel).adapter: unknown adapter '\(adapter)' (available: \(available.joined(separator: ", ")))"
        case .unknownWarning(let id): "no warning '\(id)'"
        }
    }
}
