import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The HTTP side of push mode: a POST to any path is a pushed warning, handed to
/// `MessageIntake` with its signing headers and its body as received.
public struct PushController: Sendable {
    public let intake: MessageIntake
    /// The node's loudspeaker bodies carry the CAP XML; 4 MiB is far above any warning.
    public var maxBodyBytes = 4 << 20

    public init(intake: MessageIntake) {
        self.intake = intake
    }

    public func register(on router: Router<BasicRequestContext>) {
        router.post("/") { request, _ in try await handle(request) }
        router.post("**") { request, _ in try await handle(request) }
    }

    func handle(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: maxBodyBytes)
        let answer = await intake.receive(
            SignedRequest(
                idempotencyKey: request.headers[Self.idempotencyKey], timestamp: request.headers[Self.timestamp],
                keyID: request.headers[Self.keyID], signature: request.headers[Self.signature], body: Data(body.readableBytesView)))
        return Response(
            status: .init(code: answer.status), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: answer.body)))
    }

    private static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    private static let timestamp = HTTPField.Name("Warncast-Timestamp")!
    private static let keyID = HTTPField.Name("Warncast-Key-Id")!
    private static let signature = HTTPField.Name("Warncast-Signature")!
}
