import Crypto
import Foundation
import Logging
import Synchronization
import WarncastCore
import WarncastNet
import WarncastReceiver

/// A node's signing side for tests: a fresh Ed25519 key that signs pushed messages exactly
/// as warncastd does (`MessageSigner`), and the key set a terminal would pin for it.
struct TestNode {
    let signer = MessageSigner(key: Curve25519.Signing.PrivateKey())

    var key: KeySet.Key {
        KeySet.Key(id: signer.keyID, publicKey: signer.publicKey.rawRepresentation.base64EncodedString(), status: "active")
    }

    var keys: KeySet { KeySet(keys: [key]) }

    /// A loudspeaker body as `LoudspeakerAdapter` writes it.
    static func body(key: String, text: String = "暴雨红色预警", language: String = "zh-CN", repeat times: Int = 3) -> Data {
        let fields: [String: Any] = [
            "cap": "<alert/>", "event": "rainstorm", "headline": "长沙县气象局发布暴雨红色预警信号", "idempotencyKey": key,
            "language": language, "level": "red", "msgType": "Alert", "repeat": times, "text": text, "warning": "w-1",
        ]
        return try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
    }

    /// `body` signed for `key` at `time`, as the receiver's HTTP side hands it on.
    func request(key: String, body: Data? = nil, at time: Date = Date()) -> SignedRequest {
        let body = body ?? Self.body(key: key)
        let headers = try! signer.headers(body: body, idempotencyKey: key, timestamp: Timestamp.string(time))
        func value(_ name: String) -> String? {
            headers.first { $0.hasPrefix(name + ": ") }.map { String($0.dropFirst(name.count + 2)) }
        }
        return SignedRequest(
            idempotencyKey: value("Idempotency-Key"), timestamp: value("Warncast-Timestamp"), keyID: value("Warncast-Key-Id"),
            signature: value("Warncast-Signature"), body: body)
    }
}

/// A node answering in process: each request is recorded and answered by `answer`.
final class FakeNode: Transport {
    private let requests = Mutex<[HTTPRequestSpec]>([])
    private let answer: @Sendable (HTTPRequestSpec, Int) -> HTTPResult

    /// `answer` gets the request and how many came before it.
    init(answer: @escaping @Sendable (HTTPRequestSpec, Int) -> HTTPResult = { _, _ in HTTPResult(status: 200, body: Data("{}".utf8)) }) {
        self.answer = answer
    }

    func perform(_ request: HTTPRequestSpec) async throws -> HTTPResult {
        let count = requests.withLock { requests in
            requests.append(request)
            return requests.count - 1
        }
        return answer(request, count)
    }

    var received: [HTTPRequestSpec] { requests.withLock { $0 } }
}

/// A folder of its own under the temporary directory, removed by `remove()`.
struct ScratchFolder {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("warncast-receiver-tests-\(UUID().uuidString)")

    init() {
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}

/// Logs nowhere: tests read results, not log lines.
let quietLogger: Logger = {
    var logger = Logger(label: "warncast-receiver-tests")
    logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG"] == nil ? .critical : .trace
    return logger
}()

/// A value shared between a test and the closures it hands out.
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) {
        mutex = Mutex(value)
    }

    var value: Value { mutex.withLock { $0 } }

    func update(_ change: (inout Value) -> Void) {
        mutex.withLock { change(&$0) }
    }

    func withValue<Result>(_ change: (inout Value) -> Result) -> Result {
        mutex.withLock { change(&$0) }
    }
}
