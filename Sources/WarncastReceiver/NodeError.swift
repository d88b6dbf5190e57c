/// Why a request to the node did not succeed.
public enum NodeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No answer: refused, timed out, name not resolved …
    case unreachable(String)
    /// An answer other than 2xx.
    case refused(status: Int, body: String)
    /// A 2xx whose body made no sense.
    case badAnswer(String)

    /// What to add when the node's certificate was not trusted (curl error 60).
    static let privateCAHint = "a node whose certificate comes from a private CA needs that CA as ca_bundle"

    /// Whether the same request may succeed later: no answer, 408, 429 or 5xx.
    public var isTransient: Bool {
        switch self {
        case .unreachable: true
        case .refused(let status, _): status == 408 || status == 429 || status >= 500
        case .badAnswer: false
        }
    }

    public var description: String {
        switch self {
        case .unreachable(let reason): "node unreachable: \(reason)"
        case .refused(let status, let body): "node answered \(status): \(body)"
        case .badAnswer(let reason): reason
        }
    }
}
