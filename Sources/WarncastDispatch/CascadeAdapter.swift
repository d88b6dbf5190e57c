import Foundation
import WarncastCore
import WarncastNet

/// A lower-tier Warncast node as a recipient: the warning's CAP XML is POSTed, signed by
/// this node (as every outgoing message is), to the lower node's `/v1/cascade/warnings`.
/// A message that arrived as CAP XML is handed down byte for byte as it was received, so an
/// enveloped `<Signature>` of its issuer still verifies below; this node's signature is in
/// the request's headers beside it. One that arrived as JSON goes as this node writes it.
/// The lower node knows this node's public key (its `cascade.upstream`), verifies the
/// signature, and files the warning under this node. `Warncast-Path` lists the nodes the
/// warning has passed, this one last, so a node that finds itself in it refuses a loop.
///
/// A recipient's `address` is the lower node's base URL (`http://10.1.0.5:8080`) and its
/// `region` the division it serves: it gets every warning whose area overlaps that division.
/// 201 or 200 (already there) is delivered; the lower node's id for the warning is kept as
/// the attempt's reference, to ask it for its roll-up later.
public struct CascadeAdapter: ChannelAdapter {
    let node: String

    public static let intakePath = "/v1/cascade/warnings"

    /// A lower node serves its whole division, so it also gets warnings for areas inside it.
    public static let registration = AdapterRegistration(
        kind: .cascade, capabilities: .coversDivisions, make: { try CascadeAdapter($0) })

    public init(_ context: AdapterContext) throws(AdapterSettingError) {
        try context.rejectUnknown(except: [])
        node = context.callbacks.node
    }

    public func request(for job: DeliveryJob, message: OutgoingMessage) throws -> HTTPRequestSpec {
        let base = job.recipient.address.hasSuffix("/") ? String(job.recipient.address.dropLast()) : job.recipient.address
        let path = (message.warning.upstreamPath ?? []) + [node]
        return HTTPRequestSpec(
            method: "POST", url: base + Self.intakePath,
            headers: ["Content-Type: application/cap+xml", "Warncast-Path: \(path.joined(separator: ","))"],
            body: message.original ?? message.cap)
    }

    public var wantsOriginal: Bool { true }

    public func outcome(of result: HTTPResult) -> DeliveryOutcome {
        switch HTTPStatusClass(result.status) {
        case .taken: .delivered
        case .retryable: .retry("HTTP \(result.status)")
        case .refused: .failed("HTTP \(result.status): \(Self.reason(result))")
        }
    }

    /// The lower node's id of the warning, from its `{"id": …}` answer.
    public func reference(in result: HTTPResult) -> String? {
        guard (200..<300).contains(result.status) else { return nil }
        return (try? JSONDecoder().decode(Answer.self, from: result.body))?.id
    }

    struct Answer: Decodable {
        var id: String?
        var error: String?
        var detail: String?
    }

    private static func reason(_ result: HTTPResult) -> String {
        guard let answer = try? JSONDecoder().decode(Answer.self, from: result.body) else {
            return String(decoding: result.body.prefix(200), as: UTF8.self)
        }
        return [answer.error, answer.detail].compactMap { $0 }.joined(separator: ": ")
    }
}

extension AdapterKind {
    public static let cascade: AdapterKind = "cascade"
}
