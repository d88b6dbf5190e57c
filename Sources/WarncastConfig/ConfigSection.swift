import Foundation
import WarncastCore
import Yams

/// A YAML mapping being read, remembering which keys were used so that unknown (often
/// misspelt) keys are reported instead of silently ignored.
final class ConfigSection {
    let path: String
    let file: String
    private let pairs: [(key: String, value: Yams.Node)]
    private var used: Set<String> = []

    init(_ node: Yams.Node, path: String, file: String) throws(ConfigError) {
        self.path = path
        self.file = file
        guard let mapping = node.mapping else {
            throw ConfigError(file: file, key: path, reason: "expected a mapping of keys to values")
        }
        self.pairs = mapping.map { (key: $0.key.string ?? "", value: $0.value) }
    }

    func error(_ key: String, _ reason: String) -> ConfigError {
        ConfigError(file: file, key: qualified(key), reason: reason)
    }

    func has(_ key: String) -> Bool { node(key) != nil }

    /// Every key of this mapping, each marked as used (for mappings keyed by names).
    var keys: [String] {
        for pair in pairs { used.insert(pair.key) }
        return pairs.map(\.key)
    }

    func optionalBool(_ key: String) throws(ConfigError) -> Bool? {
        guard let node = node(key) else { return nil }
        guard let value = node.bool else { throw error(key, "expected true or false") }
        return value
    }

    func section(_ key: String) throws(ConfigError) -> ConfigSection {
        guard let node = node(key) else { throw error(key, "is required") }
        return try ConfigSection(node, path: qualified(key), file: file)
    }

    func optionalSection(_ key: String) throws(ConfigError) -> ConfigSection? {
        guard let node = node(key) else { return nil }
        return try ConfigSection(node, path: qualified(key), file: file)
    }

    func list(_ key: String) throws(ConfigError) -> [ConfigSection] {
        guard let node = node(key) else { throw error(key, "is required") }
        guard let items = node.sequence else { throw error(key, "expected a list") }
        var sections: [ConfigSection] = []
        for (index, item) in items.enumerated() {
            sections.append(try ConfigSection(item, path: "\(qualified(key))[\(index)]", file: file))
        }
        return sections
    }

    func string(_ key: String) throws(ConfigError) -> String {
        guard let value = try optionalString(key) else { throw error(key, "is required") }
        return value
    }

    func optionalString(_ key: String, allowed: [String]? = nil) throws(ConfigError) -> String? {
        guard let node = node(key) else { return nil }
        guard node.scalar != nil, let value = node.string, !value.isEmpty else {
            throw error(key, "expected a non-empty text value")
        }
        if let allowed, !allowed.contains(value) {
            throw error(key, "'\(value)' is not one of \(allowed.joined(separator: ", "))")
        }
        return value
    }

    /// A scalar (text, number or true/false) as text, for free-form settings.
    func optionalScalar(_ key: String) throws(ConfigError) -> String? {
        guard let node = node(key) else { return nil }
        guard let scalar = node.scalar else { throw error(key, "expected a single value, not a list or mapping") }
        return scalar.string
    }

    func optionalInt(_ key: String, range: ClosedRange<Int>) throws(ConfigError) -> Int? {
        guard let node = node(key) else { return nil }
        guard let value = node.int, range.contains(value) else {
            throw error(key, "expected a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    func strings(_ key: String) throws(ConfigError) -> [String] {
        guard let node = node(key) else { throw error(key, "is required") }
        guard let items = node.sequence, !items.isEmpty else { throw error(key, "expected a non-empty list") }
        var values: [String] = []
        for item in items {
            guard let value = item.string, !value.isEmpty else { throw error(key, "expected a list of text values") }
            values.append(value)
        }
        return values
    }

    /// A list of text values that may be empty (`[]`).
    func optionalStringList(_ key: String) throws(ConfigError) -> [String] {
        guard let node = node(key) else { return [] }
        guard let items = node.sequence else { throw error(key, "expected a list") }
        var values: [String] = []
        for item in items {
            guard let value = item.string, !value.isEmpty else { throw error(key, "expected a list of text values") }
            values.append(value)
        }
        return values
    }

    func region(_ key: String) throws(ConfigError) -> RegionCode {
        let text = try string(key)
        guard let code = RegionCode(text) else {
            throw error(key, "'\(text)' is not a division code (6, 9 or 12 digits)")
        }
        return code
    }

    func rejectUnknownKeys() throws(ConfigError) {
        if let unknown = pairs.first(where: { !used.contains($0.key) }) {
            throw error(unknown.key, "unknown key")
        }
    }

    private func node(_ key: String) -> Yams.Node? {
        used.insert(key)
        guard let value = pairs.first(where: { $0.key == key })?.value else { return nil }
        return value.null == nil ? value : nil
    }

    private func qualified(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
}
