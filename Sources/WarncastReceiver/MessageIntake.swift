import Foundation
import Logging

/// Takes one pushed warning: checks it (`MessageVerifier`, asking the node for keys when
/// it names an unknown one), records its key in `played.log`, queues it for the player,
/// and says what to answer. Knows nothing of HTTP, so tests call it directly.
public struct MessageIntake: Sendable {
    /// The answer to send: a status and a JSON body.
    public struct Answer: Sendable, Equatable {
        public var status: Int
        public var body: String

        public init(status: Int, body: String) {
            self.status = status
            self.body = body
        }

        public static let ack = Answer(status: 200, body: #"{"ack":true}"#)

        /// The `error` code of a refusal.
        public var reason: String {
            struct Body: Decodable { var error: String? }
            return (try? JSONDecoder().decode(Body.self, from: Data(body.utf8)))?.error ?? "refused"
        }

        static func refused(_ refusal: Refusal) -> Answer {
            Answer(status: refusal.status, body: #"{"error":"\#(refusal.rawValue)"}"#)
        }
    }

    public var verifier: MessageVerifier
    public var keys: PinnedKeys
    public var played: PlayedLog
    public var queue: PlayQueue
    /// Where accepted warnings wait until played; nil keeps them in memory only (tests).
    public var spool: PlaySpool?
    public var logger: Logger
    public var now: @Sendable () -> Date

    public init(
        verifier: MessageVerifier, keys: PinnedKeys, played: PlayedLog, queue: PlayQueue, spool: PlaySpool? = nil, logger: Logger,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.spool = spool
        self.verifier = verifier
        self.keys = keys
        self.played = played
        self.queue = queue
        self.logger = logger
        self.now = now
    }

    /// The refusal of a push whose headers alone show it will be refused (unsigned, stale),
    /// so that its body need not be read; nil when the body is worth reading.
    public func admit(_ headers: SignedRequest) -> Answer? {
        guard let refusal = verifier.precheck(headers, now: now()) else { return nil }
        logRefusal(refusal, headers)
        return .refused(refusal)
    }

    private func logRefusal(_ refusal: Refusal, _ request: SignedRequest) {
        logger.warning(
            "refused a message",
            metadata: [
                "reason": "\(refusal.rawValue)", "key": "\(request.idempotencyKey ?? "-")", "keyId": "\(request.keyID ?? "-")",
                "timestamp": "\(request.timestamp ?? "-")",
            ])
    }

    public func receive(_ request: SignedRequest) async -> Answer {
        var verdict = verifier.check(request, keys: await keys.current, now: now())
        if case .failure(.unknownKey) = verdict, let id = request.keyID, await keys.refresh(forUnknown: id) {
            verdict = verifier.check(request, keys: await keys.current, now: now())
        }
        let message: BroadcastMessage
        switch verdict {
        case .failure(let refusal):
            logRefusal(refusal, request)
            return .refused(refusal)
        case .success(let verified):
            message = verified
        }
        do {
            guard !(await played.contains(message.idempotencyKey)) else {
                logger.info("a repeat: acknowledged, not played again", metadata: ["key": "\(message.idempotencyKey)"])
                return .ack
            }
            // Kept on disk first, then marked as taken: a stop in between plays it at the
            // next start (which marks it then), and the node's retry is a repeat.
            try spool?.keep(request.body, key: message.idempotencyKey, at: now())
            guard try await played.record(message.idempotencyKey) else {
                logger.info("a repeat: acknowledged, not played again", metadata: ["key": "\(message.idempotencyKey)"])
                return .ack
            }
        } catch {
            // Not acknowledged, so the node sends it again.
            logger.error("cannot record the message in played.log", metadata: ["key": "\(message.idempotencyKey)", "error": "\(error)"])
            return Answer(status: 500, body: #"{"error":"storage","detail":"cannot record the message"}"#)
        }
        logger.notice(
            "accepted a warning",
            metadata: ["key": "\(message.idempotencyKey)", "level": "\(message.level ?? "-")", "language": "\(message.language)"])
        queue.add(message)
        return .ack
    }
}
