import Foundation

/// A minimal element tree: enough to read CAP, nothing to evaluate.
struct XMLNode: Sendable {
    var name: String
    var namespace: String?
    var text: String = ""
    var children: [XMLNode] = []

    func child(_ name: String) -> XMLNode? { children.first { $0.name == name } }

    func all(_ name: String) -> [XMLNode] { children.filter { $0.name == name } }

    /// Trimmed text of the first child named `name`, `nil` when absent or empty.
    func value(_ name: String) -> String? {
        guard let text = child(name)?.text.trimmingCharacters(in: .whitespacesAndNewlines),
            !text.isEmpty
        else { return nil }
        return text
    }

    func values(_ name: String) -> [String] {
        all(name).map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }
}
