import Foundation
import Logging
import ServiceLifecycle

/// Dial-in mode: the receiver keeps `GET /v1/terminals/{id}/stream` open to its node (from
/// behind NAT, nobody can reach it), takes every `warning` event through the same checks as
/// a push (`MessageIntake`), and acknowledges each one it accepted on
/// `POST /v1/terminals/{id}/ack`. When the stream ends it dials again, waiting 1 s, then
/// twice as long each time up to 30 s, and 1 s again after a connection that lasted a minute.
public struct DialInService: Service {
    public var node: NodeClient
    public var intake: MessageIntake
    public var secret: String
    public var logger: Logger
    /// With nothing at all for this long (the node sends a comment every 15 s), the
    /// connection is taken for dead and dialled again.
    public var silenceSeconds = 45
    /// The authorities to trust for an https:// node instead of the system's (`ca_bundle`).
    public var caBundle: String?
    /// The station's own certificate and key, for a node that asks for one.
    public var clientCertificate: String?
    public var clientKey: String?

    public init(node: NodeClient, intake: MessageIntake, secret: String, logger: Logger) {
        self.node = node
        self.intake = intake
        self.secret = secret
        self.logger = logger
    }

    public func run() async {
        var wait: Duration = .seconds(1)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let started = ContinuousClock.now
            let stream = EventStream()
            let consumer = Task { for await event in stream.events { await handle(event) } }
            let ending = await withGracefulShutdownHandler {
                await withTaskCancellationHandler {
                    await stream.run(
                        url: node.streamURL, headers: ["Authorization: Bearer \(secret)"], silence: silenceSeconds,
                        tls: .init(caBundle: caBundle, clientCertificate: clientCertificate, clientKey: clientKey))
                } onCancel: {
                    stream.stop()
                }
            } onGracefulShutdown: {
                stream.stop()
            }
            await consumer.value
            guard !Task.isShuttingDownGracefully && !Task.isCancelled else { return }
            if ContinuousClock.now - started > .seconds(60) { wait = .seconds(1) }
            logger.warning(
                "dial-in connection ended; dialling again",
                metadata: [
                    "status": "\(ending.status)", "error": "\(ending.error ?? "-")",
                    "in": "\(wait.components.seconds) s",
                ])
            if ending.status == 401 || ending.status == 403 {
                logger.error("the node refuses this terminal's id or secret: check terminal and secret in the configuration")
            }
            try? await cancelWhenGracefulShutdown { [wait] in try await Task.sleep(for: wait) }
            wait = min(wait * 2, .seconds(30))
        }
    }

    /// The JSON of a `warning` event.
    struct Pushed: Decodable {
        var headers: [String: String]
        var body: String
    }

    func handle(_ event: EventStream.Event) async {
        guard event["event"] == "warning", let data = event["data"] else { return }
        guard let pushed = try? JSONDecoder().decode(Pushed.self, from: Data(data.utf8)), let body = Data(base64Encoded: pushed.body)
        else {
            logger.warning("an event the receiver cannot read", metadata: ["id": "\(event["id"] ?? "-")"])
            return
        }
        let answer = await intake.receive(
            SignedRequest(
                idempotencyKey: pushed.headers["Idempotency-Key"], timestamp: pushed.headers["Warncast-Timestamp"],
                keyID: pushed.headers["Warncast-Key-Id"], signature: pushed.headers["Warncast-Signature"], body: body))
        guard let key = pushed.headers["Idempotency-Key"], !key.isEmpty else { return }
        do {
            if answer == .ack {
                try await node.acknowledge(key)
            } else {
                // Said at once: otherwise the node waits out its time, takes the connection
                // for dead, and pushes the same message down the next one.
                try await node.refuse(key, status: answer.status, reason: answer.reason)
            }
        } catch {
            // The node pushes it again when its wait runs out; the repeat is acknowledged, not played.
            logger.warning("acknowledgement failed", metadata: ["key": "\(key)", "error": "\(error)"])
        }
    }
}
