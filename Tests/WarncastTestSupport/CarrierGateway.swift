import Foundation
import Hummingbird
import Logging
import NIOFoundationEssentialsCompat
import Synchronization
import WarncastNet

/// A carrier's HTTP/JSON SMS gateway on loopback, as the carrier-sms adapter's tests
/// configure it: `POST /sms/send` with `{"mobile","content","notify","outId"}` and an API key
/// header, answering `{"code":"OK","data":{"msgId":"m-N"}}`; then it calls `notify` with
/// `{"status":"DELIVRD"}` (or `UNDELIV` with reason `MK:0005` for numbers ending in 9), the
/// way carriers report delivery.
public final class CarrierGateway: Sendable {
    public struct Sent: Sendable {
        public var mobile: String
        public var content: String
        public var apiKey: String?
        /// The sender's own id of the message: the same on each try of one message.
        public var outId: String
    }

    private let sent = Mutex<[Sent]>([])
    private let callbacks = Mutex<[Int]>([])
    private let task = Mutex<Task<Void, any Error>?>(nil)
    public let port: Int

    public var url: String { "http://127.0.0.1:\(port)/sms/send" }
    public var messages: [Sent] { sent.withLock { $0 } }
    /// HTTP statuses warncastd answered the callbacks with.
    public var callbackStatuses: [Int] { callbacks.withLock { $0 } }

    struct Request: Decodable {
        var mobile: String
        var content: String
        var notify: String
        var outId: String
    }

    public init() async throws {
        let router = Router()
        let box = Mutex<CarrierGateway?>(nil)
        router.post("/sms/send") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            guard let gateway = box.withLock({ $0 }),
                let parsed = try? JSONDecoder().decode(Request.self, from: Data(buffer: body))
            else {
                return Response(status: .badRequest, body: .init(byteBuffer: ByteBuffer(string: #"{"code":"BAD_REQUEST"}"#)))
            }
            let number = gateway.sent.withLock { sent in
                sent.append(
                    Sent(mobile: parsed.mobile, content: parsed.content, apiKey: request.headers[.init("X-Api-Key")!], outId: parsed.outId))
                return sent.count
            }
            let report = parsed.mobile.hasSuffix("9") ? #"{"status":"UNDELIV","reason":"MK:0005"}"# : #"{"status":"DELIVRD"}"#
            Thread.detachNewThread {
                Thread.sleep(forTimeInterval: 0.05)
                let answer = try? CurlTransfer.perform(
                    HTTPRequestSpec(
                        method: "POST", url: parsed.notify, headers: ["Content-Type: application/json"], body: Data(report.utf8)))
                gateway.callbacks.withLock { $0.append(answer?.status ?? 0) }
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"code":"OK","data":{"msgId":"m-\#(number)"}}"#)))
        }
        let (boundPort, running) = await LoopbackServer.start(router, label: "carrier")
        port = boundPort
        task.withLock { $0 = running }
        box.withLock { $0 = self }
    }

    public func stop() {
        task.withLock { $0?.cancel() }
    }
}
