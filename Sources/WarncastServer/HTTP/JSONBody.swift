import Foundation
import Hummingbird
import NIOFoundationEssentialsCompat
import WarncastCore

/// Reading a JSON request body: control characters XML 1.0 cannot carry are refused
/// (400 `control_character`) before anything is decoded, and a body that does not decode
/// is 400 `malformed_json` with `expected` as the hint.
enum JSONBody {
    static func decode<T: Decodable>(_ type: T.Type, from body: ByteBuffer, expected: String) throws -> T {
        let data = Data(buffer: body)
        if let control = ControlCharacters.firstEscaped(inJSON: data) { throw APIError.controlCharacter(control) }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw APIError(.badRequest, code: "malformed_json", detail: "\(expected): \(error)")
        }
    }
}
