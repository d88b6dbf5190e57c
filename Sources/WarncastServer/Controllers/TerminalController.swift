import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOFoundationEssentialsCompat
import WarncastCore
import WarncastDispatch
import WarncastStore

/// Broadcast terminals: their heartbeats and playback reports (authenticated with the
/// terminal's recipient secret, like acknowledgements), and the list of who is online.
struct TerminalController {
    let store: any Store
    let watch: TerminalWatch
    let refusals: AnonymousRefusals
    /// How recipients' secrets are kept; nil: plain SHA-256.
    let secrets: RecipientSecrets?
    /// Dial-in terminals' connections; nil: none may dial in.
    let hub: DialInHub?
    let now: @Sendable () -> Date

    /// Routes a terminal calls with its secret.
    func registerTerminalCalls<Methods: RouterMethods>(on registrar: RouteRegistrar<Methods>)
    where Methods.Context == WarncastRequestContext {
        registrar.on(.post, "/v1/terminals/{id}/heartbeat", use: heartbeat)
        registrar.on(.post, "/v1/terminals/{id}/playback", use: playback)
        registrar.on(.get, "/v1/terminals/{id}/stream", use: stream)
        registrar.on(.post, "/v1/terminals/{id}/ack", use: acknowledge)
    }

    /// Routes behind the bearer token.
    func register<Methods: RouterMethods>(on registrar: RouteRegistrar<Methods>)
    where Methods.Context == WarncastRequestContext {
        registrar.on(.get, "/terminals", use: list)
    }

    struct HeartbeatAnswer: ResponseEncodable {
        var terminal: String
        var status: TerminalStatus
        /// When the next heartbeat is due, and after how many missed ones the terminal is offline.
        var heartbeatSeconds: Int
        var offlineAfter: Int
    }

    @Sendable func heartbeat(_ request: Request, context: WarncastRequestContext) async throws -> HeartbeatAnswer {
        let id = try context.parameters.require("id")
        let secret = try Self.secret(of: request)
        let body = try await request.body.collect(upTo: 16 * 1024)
        let beat = try JSONBody.decode(
            TerminalHeartbeat.self, from: body,
            expected: #"send {"status": "normal|off|fault|recovered|broadcasting", "volume": 0-100, "lastPlayed": "…", "version": "…"}"#)
        if let volume = beat.volume, !(0...100).contains(volume) {
            throw APIError(.unprocessableContent, code: "bad_heartbeat", detail: "volume must be 0 to 100")
        }
        for (name, text) in [("lastPlayed", beat.lastPlayed), ("version", beat.version)] {
            if let text, text.count > 200 || ControlCharacters.first(in: text) != nil {
                throw APIError(.unprocessableContent, code: "bad_heartbeat", detail: "\(name) must be at most 200 printable characters")
            }
        }
        let at = now()
        switch try await store.recordHeartbeat(terminal: id, secretHashes: forms(of: secret), beat, watch: watch, at: at) {
        case .recorded(let previous):
            if previous != beat.status {
                context.logger.info(
                    "terminal status", metadata: ["terminal": .string(id), "status": .string(beat.status.rawValue)])
            }
            return HeartbeatAnswer(
                terminal: id, status: beat.status, heartbeatSeconds: watch.heartbeatSeconds, offlineAfter: watch.missedBeats)
        case .forged:
            try await refusals.record(AuditEvent(actor: .anonymous, action: .receiptForged, subject: "terminal:\(id)"))
            throw APIError(.forbidden, code: "forged_terminal", detail: "no terminal with this id has the presented secret")
        }
    }

    struct PlaybackAnswer: ResponseEncodable {
        var idempotencyKey: String
        var state: DeliveryState
    }

    @Sendable func playback(_ request: Request, context: WarncastRequestContext) async throws -> PlaybackAnswer {
        let id = try context.parameters.require("id")
        let secret = try Self.secret(of: request)
        let body = try await request.body.collect(upTo: 16 * 1024)
        var report = try JSONBody.decode(
            TerminalPlayback.self, from: body,
            expected: #"send {"idempotencyKey", "started", "ended", "timesPlayed", "result": "played|failed"}"#)
        let at = now()
        guard ["played", "failed"].contains(report.result) else {
            throw APIError(.unprocessableContent, code: "bad_playback", detail: "result must be played or failed")
        }
        // Compared and kept as instants: a terminal may write its times with any offset.
        report.started = Timestamp(report.started.date)
        report.ended = Timestamp(report.ended.date)
        guard report.started.date <= report.ended.date, report.ended.date <= at.addingTimeInterval(300) else {
            throw APIError(
                .unprocessableContent, code: "bad_playback", detail: "started must not be after ended, nor ended in the future")
        }
        guard (0...100).contains(report.timesPlayed), report.result == "failed" || report.timesPlayed > 0 else {
            throw APIError(.unprocessableContent, code: "bad_playback", detail: "timesPlayed must be 1 to 100 for a played message")
        }
        switch try await store.recordPlayback(terminal: id, secretHashes: forms(of: secret), report, at: at) {
        case .recorded(let state):
            return PlaybackAnswer(idempotencyKey: report.idempotencyKey, state: state)
        case .forged:
            try await refusals.record(AuditEvent(actor: .anonymous, action: .receiptForged, subject: report.idempotencyKey))
            throw APIError(
                .forbidden, code: "forged_receipt", detail: "no delivery with this key belongs to this terminal and secret")
        }
    }

    /// A dial-in terminal's connection: Server-Sent Events, one `warning` event per
    /// message, carrying the signed request's headers and its body in base64 (the bytes the
    /// signature covers). Everything waiting for the terminal is sent once it is connected.
    @Sendable func stream(_ request: Request, context: WarncastRequestContext) async throws -> Response {
        guard let hub else { throw APIError.notFound("this node takes no dial-in terminals") }
        let id = try context.parameters.require("id")
        let secret = try Self.secret(of: request)
        let forms = forms(of: secret)
        // In a task of its own: the store's call goes some frames deeper than anything else
        // this connection's task will do, and a task keeps the memory of its deepest frames
        // until it ends, which for an event stream is hours (about 0.8 KB a connection,
        // measured with 15,000 connected).
        let check = Task { try await store.terminalAccepts(id, secretHashes: forms, watch: watch) }
        let accepted = try await withTaskCancellationHandler {
            try await check.value
        } onCancel: {
            check.cancel()
        }
        guard accepted else {
            try await refusals.record(AuditEvent(actor: .anonymous, action: .receiptForged, subject: "terminal:\(id)"))
            throw APIError(.forbidden, code: "forged_terminal", detail: "no terminal with this id has the presented secret")
        }
        let logger = context.logger
        let body = ResponseBody { writer in
            // Connected only once the answer is under way: a terminal gone before that
            // leaves nothing behind in the hub.
            // The hub only has to know the same secret again when the terminal
            // acknowledges: its plain digest is enough, and cheaper to compute per
            // acknowledgement than the keyed form (the store has checked that one above).
            let (number, pushes) = await hub.connect(terminal: id, secretHashes: [AccessToken.hash(secret)])
            logger.info("terminal dialled in", metadata: ["terminal": .string(id)])
            defer {
                hub.disconnect(terminal: id, number: number)
                logger.info("terminal hung up", metadata: ["terminal": .string(id)])
            }
            try await writer.write(ByteBuffer(string: "retry: 5000\n: connected\n\n"))
            // Pushes, and the hub's keep-alive for every connection: one task per
            // connection, nothing else (15,000 terminals may be connected).
            for await push in pushes {
                try await writer.write(push.isKeepAlive ? ByteBuffer(string: ": keep-alive\n\n") : Self.event(push))
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"], body: body)
    }

    /// One SSE event for `push`.
    static func event(_ push: DialInHub.Push) -> ByteBuffer {
        // Written by hand into one buffer, as the loudspeaker body is: a fan-out writes one
        // per connection, and two flat members need no encoder. Members in sorted order.
        let body = push.body.base64EncodedString()
        var buffer = ByteBuffer()
        buffer.reserveCapacity(body.utf8.count + 512)
        buffer.writeStaticString("event: warning\nid: ")
        let key = push.idempotencyKey
        // Line breaks would end the field: dropped byte by byte ("\r\n" is one Character).
        if key.utf8.contains(where: { $0 == 10 || $0 == 13 }) {
            buffer.writeBytes(key.utf8.filter { $0 != 10 && $0 != 13 })
        } else {
            buffer.writeString(key)
        }
        buffer.writeStaticString("\ndata: {\"body\":\"")
        buffer.writeString(body)
        buffer.writeStaticString("\",\"headers\":{")
        for (index, header) in push.headers.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { buffer.writeStaticString(",") }
            buffer.writeString(JSONText.quote(header.key))
            buffer.writeStaticString(":")
            buffer.writeString(JSONText.quote(header.value))
        }
        buffer.writeStaticString("}}\n\n")
        return buffer
    }

    struct AckRequest: Decodable {
        var idempotencyKey: String
        /// Set when the terminal refuses the message: the status and reason it would have
        /// answered a push over HTTP with.
        var status: Int?
        var error: String?
    }

    /// A dial-in terminal acknowledges a pushed message. The push waiting for it hears at
    /// once; an acknowledgement that comes after the push gave up is recorded like
    /// `POST /v1/receipts/ack`. Every terminal of a warning acknowledges at once, so the
    /// usual path (a push waiting) computes only the secret's plain digest, the form the
    /// hub keeps, and writes its small answer by hand.
    @Sendable func acknowledge(_ request: Request, context: WarncastRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let secret = try Self.secret(of: request)
        let digest = [AccessToken.hash(secret)]
        let body = try await request.body.collect(upTo: 16 * 1024)
        let ack =
            try Self.plainAck(body).map { AckRequest(idempotencyKey: $0) }
            ?? JSONBody.decode(AckRequest.self, from: body, expected: #"send {"idempotencyKey": "…"}"#)
        if let status = ack.status {
            // A refusal answers only a push still waiting: later, the node has moved on and
            // pushes again when the delivery is next due.
            guard (400..<600).contains(status), let reason = ack.error, !reason.isEmpty, reason.utf8.count <= 200 else {
                throw APIError(
                    .unprocessableContent, code: "bad_ack", detail: "a refusal gives status 400-599 and an error code of at most 200 bytes")
            }
            guard
                hub?.acknowledge(
                    terminal: id, idempotencyKey: ack.idempotencyKey, secretHashes: digest,
                    answer: .refused(status: status, reason: reason)) == true
            else {
                throw APIError(.conflict, code: "not_waiting", detail: "no push with this key waits for this terminal's answer")
            }
            return Self.ackAnswer(ack.idempotencyKey, .sending)
        }
        if hub?.acknowledge(terminal: id, idempotencyKey: ack.idempotencyKey, secretHashes: digest) == true {
            return Self.ackAnswer(ack.idempotencyKey, .delivered)
        }
        switch try await store.acknowledge(idempotencyKey: ack.idempotencyKey, secretHashes: forms(of: secret), at: now()) {
        case .delivered, .alreadyDelivered:
            return Self.ackAnswer(ack.idempotencyKey, .delivered)
        case .forged:
            try await refusals.record(AuditEvent(actor: .anonymous, action: .receiptForged, subject: ack.idempotencyKey))
            throw APIError(.forbidden, code: "forged_receipt", detail: "no delivery with this key belongs to this terminal and secret")
        }
    }

    /// The key of an acknowledgement written exactly `{"idempotencyKey":"…"}`, as terminals
    /// send it, with no escape, quote or control character in the key: read without a
    /// decoder (a warning's terminals all acknowledge at once, and the decoder was most of
    /// an acknowledgement's handling). Nil for anything else, which the decoder then reads
    /// (and refuses, if it must, with the usual reason).
    static func plainAck(_ body: ByteBuffer) -> String? {
        let head = #"{"idempotencyKey":""#.utf8
        let tail = #""}"#.utf8
        return body.withUnsafeReadableBytes { bytes -> String? in
            guard bytes.count > head.count + tail.count, bytes.starts(with: head), bytes.suffix(tail.count).elementsEqual(tail)
            else { return nil }
            let key = bytes[head.count..<(bytes.count - tail.count)]
            guard !key.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else { return nil }
            return String(validating: key, as: UTF8.self)
        }
    }

    /// The answer to an acknowledgement: what `PlaybackAnswer` encodes to, written
    /// directly (members in sorted order, as the encoder writes them).
    static func ackAnswer(_ idempotencyKey: String, _ state: DeliveryState) -> Response {
        let json = "{\"idempotencyKey\":\(JSONText.quote(idempotencyKey)),\"state\":\(JSONText.quote(state.rawValue))}"
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: json)))
    }

    struct TerminalList: ResponseEncodable {
        var terminals: [TerminalView]
        var count: Int
        var online: Int
        var offline: Int
        var heartbeatSeconds: Int
        var offlineAfter: Int
    }

    /// The terminals within the caller's region (or `region` inside it); `offline=true` for
    /// only those offline.
    @Sendable func list(_ request: Request, context: WarncastRequestContext) async throws -> TerminalList {
        let principal = try context.requireReader()
        var region = principal.scope
        if let text = request.uri.queryParameters["region"] {
            guard let code = RegionCode(String(text)), code.isWithin(principal.scope) else {
                throw APIError.badQuery("region must be a division code within \(principal.scope)")
            }
            region = code
        }
        var offlineOnly = false
        if let text = request.uri.queryParameters["offline"] {
            guard let flag = Bool(String(text)) else { throw APIError.badQuery("offline must be true or false") }
            offlineOnly = flag
        }
        let limit =
            try request.uri.queryParameters["limit"].map { text -> Int in
                guard let limit = Int(text), (1...100_000).contains(limit) else { throw APIError.badQuery("limit must be 1 to 100000") }
                return limit
            } ?? 1000
        let at = now()
        let terminals = try await store.terminals(watch, within: region, offlineOnly: offlineOnly, limit: limit, at: at)
        let summary = try await store.terminalSummary(watch, areas: [region], villages: false, at: at)
        return TerminalList(
            terminals: terminals, count: terminals.count, online: summary.online, offline: summary.offline,
            heartbeatSeconds: watch.heartbeatSeconds, offlineAfter: watch.missedBeats)
    }

    /// The secret of `Authorization: Bearer <secret>`.
    static func secret(of request: Request) throws -> String {
        // Compared byte by byte (every acknowledgement has one): the scheme's letters in
        // either case, then exactly one space.
        let scheme = "bearer ".utf8
        guard let header = request.headers[.authorization], header.utf8.count >= scheme.count,
            header.utf8.prefix(scheme.count).elementsEqual(scheme, by: { $0 == $1 || ($1 != 0x20 && $0 | 0x20 == $1) })
        else {
            throw APIError.unauthenticated("send the terminal's secret as 'Authorization: Bearer <secret>'")
        }
        return String(String(decoding: header.utf8.dropFirst(scheme.count), as: UTF8.self).trimmingASCIISpaces)
    }

    private func forms(of secret: String) -> [String] {
        secrets?.candidates(secret) ?? [AccessToken.hash(secret)]
    }
}

extension Store {
    /// The `terminals.at_release` audit entry's detail for a warning: its area's terminals as
    /// it went out. Nil if none was recorded (no terminals there, or released before v10).
    func terminalsAtRelease(warningID: Warning.ID) async throws -> [String: String]? {
        try await auditEntries(subject: warningID.rawValue)
            .last { $0.action == AuditAction.terminalsAtRelease.name }
            .flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.detail.utf8)) }
    }
}
