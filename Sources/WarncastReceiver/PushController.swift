import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The HTTP side of push mode: a POST to any path is a pushed warning, handed to
/// `MessageIntake` with its signing headers and its body as received.
public struct PushController: Sendable {
    public let intake: MessageIntake
    /// The node's loudspeaker bodies carry the CAP XML (tens of KiB with several
    /// languages); 1 MiB is far above any warning, and little for a small station to hold.
    public var maxBodyBytes = 1 << 20

    public init(intake: MessageIntake) {
        self.intake = intake
    }

    public func register(on router: Router<BasicRequestContext>) {
        router.post("/") { request, _ in try await handle(request) }
        router.post("**") { request, _ in try await handle(request) }
    }

    func handle(_ request: Request) async throws -> Response {
        var signed = SignedRequest(
            idempotencyKey: request.headers[Self.idempotencyKey], timestamp: request.headers[Self.timestamp],
            keyID: request.headers[Self.keyID], signature: request.headers[Self.signature], body: Data())
        // Unsigned or stale: refused on its headers, the body never read.
        if let refusal = intake.admit(signed) { return Self.response(refusal) }
        signed.body = Data(try await request.body.collect(upTo: maxBodyBytes).readableBytesView)
        return Self.response(await intake.receive(signed))
    }

    private static func response(_ answer: MessageIntake.Answer) -> Response {
        Response(
            status: .init(code: answer.status), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: answer.body)))
    }

    private static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    private static let timestamp = HTTPField.Name("Warncast-Timestamp")!
    private static let keyID = HTTPField.Name("Warncast-Key-Id")!
    private static let signature = HTTPField.Name("Warncast-Signature")!
}
