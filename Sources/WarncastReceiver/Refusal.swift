/// Why a pushed message is refused; the raw value is the `error` code of the answer.
public enum Refusal: String, Error, Sendable, Equatable {
    case unsigned
    case unknownKey = "unknown_key"
    case badSignature = "bad_signature"
    case stale
    case badPayload = "bad_payload"
    /// Signed for another terminal (its idempotency key ends in another recipient id).
    case otherTerminal = "other_terminal"
    /// Signed by a key the node retired, after it retired it.
    case retiredKey = "retired_key"

    /// 401 for anything about the signature, 400 for a body that makes no sense.
    public var status: Int { self == .badPayload ? 400 : 401 }
}
