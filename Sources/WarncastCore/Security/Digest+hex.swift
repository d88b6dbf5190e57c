import Crypto
import Foundation

extension Sequence where Element == UInt8 {
    /// Lower-case hexadecimal, two digits a byte.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// SHA-256 over a list of fields, each written as `<byte count>:<bytes>` and a missing one as
/// `-1:`, so no two different lists hash the same input. The audit log, the receipts' seals
/// and exports chain their rows with it.
public enum FieldHash {
    public static func sha256(_ fields: [String?]) -> String {
        // The whole input in one buffer, hashed at once: every receipt sealed and every
        // audit entry written comes here, and a hasher update per piece cost more than the
        // hash.
        var input: [UInt8] = []
        input.reserveCapacity(fields.reduce(0) { $0 + ($1?.utf8.count ?? 0) + 8 })
        for field in fields {
            if let field {
                input.append(contentsOf: String(field.utf8.count).utf8)
                input.append(UInt8(ascii: ":"))
                input.append(contentsOf: field.utf8)
            } else {
                input.append(contentsOf: "-1:".utf8)
            }
        }
        return SHA256.hash(data: input).hexString
    }
}
