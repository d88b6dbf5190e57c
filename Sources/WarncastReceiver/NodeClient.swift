import Foundation
import WarncastCore
import WarncastNet

/// What the receiver asks of its warncastd node: the public keys, and (as this terminal,
/// with its secret as the bearer token) heartbeats and playback reports. Sends through
/// WarncastNet's `Transport`, so tests can answer in process.
public struct NodeClient: Sendable {
    public let node: String
    public let terminal: String
    private let secret: String
    private let transport: any Transport

    public init(node: String, terminal: String, secret: String, transport: any Transport) {
        self.node = node
        self.terminal = terminal
        self.secret = secret
        self.transport = transport
    }

    public init(_ config: ReceiverConfig, transport: any Transport) {
        self.init(node: config.node, terminal: config.terminal, secret: config.secret, transport: transport)
    }

    /// `GET /.well-known/warncast-keys`.
    public func fetchKeys() async throws(NodeError) -> KeySet {
        let result = try await send(HTTPRequestSpec(url: node + "/.well-known/warncast-keys", headers: ["Accept: application/json"]))
        do {
            return try KeySet.decode(result.body)
        } catch {
            throw .badAnswer("the keys could not be read: \(error)")
        }
    }

    /// `POST /v1/terminals/{terminal}/heartbeat`.
    public func sendHeartbeat(_ heartbeat: TerminalHeartbeat) async throws(NodeError) {
        _ = try await post("heartbeat", heartbeat)
    }

    /// `POST /v1/terminals/{terminal}/playback`.
    public func reportPlayback(_ playback: TerminalPlayback) async throws(NodeError) {
        _ = try await post("playback", playback)
    }

    /// `POST /v1/terminals/{terminal}/ack`: a message pushed down the dial-in stream was taken.
    public func acknowledge(_ idempotencyKey: String) async throws(NodeError) {
        _ = try await post("ack", ["idempotencyKey": idempotencyKey])
    }

    /// The same endpoint refusing the message, with the status and reason a push would
    /// have been answered with, so the node need not wait for its time to run out.
    public func refuse(_ idempotencyKey: String, status: Int, reason: String) async throws(NodeError) {
        _ = try await post("ack", Refusal(idempotencyKey: idempotencyKey, status: status, error: reason))
    }

    private struct Refusal: Encodable {
        var idempotencyKey: String
        var status: Int
        var error: String
    }

    /// The dial-in stream, `GET /v1/terminals/{terminal}/stream`.
    public var streamURL: String { "\(node)/v1/terminals/\(pathSegment)/stream" }

    private var pathSegment: String { terminal.addingPercentEncoding(withAllowedCharacters: Self.segment) ?? terminal }

    private func post(_ endpoint: String, _ value: some Encodable) async throws(NodeError) -> HTTPResult {
        let body: Data
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .withoutEscapingSlashes
            body = try encoder.encode(value)
        } catch {
            throw .badAnswer("cannot encode the \(endpoint): \(error)")
        }
        return try await send(
            HTTPRequestSpec(
                method: "POST", url: "\(node)/v1/terminals/\(pathSegment)/\(endpoint)",
                headers: ["Content-Type: application/json", "Authorization: Bearer \(secret)"], body: body))
    }

    private func send(_ request: HTTPRequestSpec) async throws(NodeError) -> HTTPResult {
        var request = request
        request.connectTimeoutMilliseconds = 5000
        request.totalTimeoutMilliseconds = 15_000
        let result: HTTPResult
        do {
            result = try await transport.perform(request)
        } catch let error as CurlError where error.code == CurlError.untrustedPeer {
            throw .unreachable("\(error); \(NodeError.privateCAHint)")
        } catch {
            throw .unreachable("\(error)")
        }
        guard (200..<300).contains(result.status) else {
            throw .refused(status: result.status, body: String(decoding: result.body.prefix(512), as: UTF8.self))
        }
        return result
    }

    /// What may stand in one path segment: unreserved characters only.
    private static let segment = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
}
