import Yams

/// One YAML mapping of the receiver's configuration being read. It remembers the keys
/// asked for, so a key nobody asked for (usually a misspelling) is reported, not ignored.
struct YAMLMapping {
    let path: String
    let file: String
    private let pairs: [(key: String, value: Yams.Node)]
    private var used: Set<String> = []

    init(_ node: Yams.Node, path: String, file: String) throws(ReceiverConfigError) {
        guard let mapping = node.mapping else {
            throw ReceiverConfigError(file: file, key: path, reason: "expected a mapping of keys to values")
        }
        self.path = path
        self.file = file
        pairs = mapping.map { (key: $0.key.string ?? "", value: $0.value) }
    }

    func error(_ key: String, _ reason: String) -> ReceiverConfigError {
        ReceiverConfigError(file: file, key: qualified(key), reason: reason)
    }

    mutating func has(_ key: String) -> Bool { node(key) != nil }

    mutating func optionalString(_ key: String) throws(ReceiverConfigError) -> String? {
        guard let node = node(key) else { return nil }
        guard node.scalar != nil, let value = node.string, !value.isEmpty else {
            throw error(key, "expected a non-empty text value")
        }
        return value
    }

    mutating func string(_ key: String) throws(ReceiverConfigError) -> String {
        guard let value = try optionalString(key) else { throw error(key, "is required") }
        return value
    }

    mutating func optionalInt(_ key: String, range: ClosedRange<Int>) throws(ReceiverConfigError) -> Int? {
        guard let node = node(key) else { return nil }
        guard let value = node.int, range.contains(value) else {
            throw error(key, "expected a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    mutating func optionalMapping(_ key: String) throws(ReceiverConfigError) -> YAMLMapping? {
        guard let node = node(key) else { return nil }
        return try YAMLMapping(node, path: qualified(key), file: file)
    }

    /// A mapping of text to text, such as `voices`.
    mutating func optionalTextMap(_ key: String) throws(ReceiverConfigError) -> [(String, String)]? {
        guard let node = node(key) else { return nil }
        guard let mapping = node.mapping else { throw error(key, "expected a mapping of text to text") }
        var entries: [(String, String)] = []
        for (name, value) in mapping {
            guard let name = name.string, !name.isEmpty, value.scalar != nil, let text = value.string, !text.isEmpty else {
                throw error(key, "expected a mapping of text to text")
            }
            entries.append((name, text))
        }
        return entries
    }

    func rejectUnknownKeys() throws(ReceiverConfigError) {
        if let unknown = pairs.first(where: { !used.contains($0.key) }) {
            throw error(unknown.key, "unknown key")
        }
    }

    private mutating func node(_ key: String) -> Yams.Node? {
        used.insert(key)
        guard let value = pairs.first(where: { $0.key == key })?.value else { return nil }
        return value.null == nil ? value : nil
    }

    private func qualified(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
}
