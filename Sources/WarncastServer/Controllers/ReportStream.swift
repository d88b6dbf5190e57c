import Foundation
import Hummingbird
import NIOCore
import NIOFoundationEssentialsCompat
import Synchronization
import WarncastCore
import WarncastDispatch
import WarncastStore

extension DeliveryController {
    /// The report as Server-Sent Events: an event `report` (the report's JSON) at once and
    /// again each time it changes (looked at every 2 s), a comment at the other looks (it
    /// keeps proxies from closing the connection, and finds a client gone), for at most an
    /// hour (a browser then connects again). The caller's token or session is checked again
    /// every 10 s: the stream ends once it is revoked, expired or signed out. At most
    /// `ReportStreams.limit` streams at once, `ReportStreams.perToken` of one token (503
    /// `too_many_streams` beyond). The console's coverage view reads it; `curl -N` does too.
    @Sendable func reportStream(_ request: Request, context: WarncastRequestContext) async throws -> Response {
        let id = Warning.ID(rawValue: try context.parameters.require("id"))
        let reader = try context.requireReader()
        let region = reader.scope
        _ = try await store.warning(id: id, visibleTo: reader)
        let depth = try WarningReportBuilder.depth(of: request)
        // The slot is let go when the body has run, or when the response is dropped unsent (a
        // client gone before the head was written): the body would never run to release it.
        guard let slot = streams.open(for: reader.tokenID) else {
            var error = APIError(
                .serviceUnavailable, code: "too_many_streams",
                detail:
                    "\(ReportStreams.limit) report streams are open, or \(ReportStreams.perToken) of this token's: read GET /v1/warnings/\(id)/report instead, or try later"
            )
            error.headers[.retryAfter] = "30"
            throw error
        }
        let (reports, store, now) = (self.reports, self.store, self.now)
        let body = ResponseBody { writer in
            defer { withExtendedLifetime(slot) {} }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            var last = Data()
            try await writer.write(ByteBuffer(string: "retry: 3000\n\n"))
            for tick in 0..<1800 {
                if tick > 0, tick % 5 == 0 {
                    guard let principal = try? await BearerAuthenticator.principal(of: request, store: store, now: now()),
                        (try? await store.warning(id: id, visibleTo: principal)) != nil
                    else { break }
                }
                let data = try encoder.encode(try await reports.report(warningID: id, depth: depth, within: region))
                if data != last {
                    last = data
                    try await writer.write(ByteBuffer(string: "event: report\ndata: " + String(decoding: data, as: UTF8.self) + "\n\n"))
                } else {
                    // Every tick: a client gone is found by the next write or the one after,
                    // and its place freed within seconds (a write is all that notices).
                    try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                }
                try await Task.sleep(for: .seconds(2))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"], body: body)
    }
}

/// How many report streams are open, up to `limit`, and `perToken` of one token (or console
/// session): each costs a report every 2 s (and, on a node with lower nodes, a request to
/// each of them), and one reader must not take every place.
final class ReportStreams: Sendable {
    static let limit = 100
    static let perToken = 8
    private let counts = Mutex((all: 0, byToken: [String: Int]()))

    /// One open stream's place: held while the stream runs, given back when the last
    /// reference to it goes, however the stream ends (or never starts).
    final class Slot: Sendable {
        private let streams: ReportStreams
        private let token: String
        fileprivate init(_ streams: ReportStreams, token: String) {
            self.streams = streams
            self.token = token
        }
        deinit {
            streams.counts.withLock { counts in
                counts.all -= 1
                let left = (counts.byToken[token] ?? 1) - 1
                counts.byToken[token] = left > 0 ? left : nil
            }
        }
    }

    /// A place for one more stream of `token`, or nil when `limit` are open, or `perToken`
    /// of its own.
    func open(for token: String) -> Slot? {
        let taken = counts.withLock { counts in
            guard counts.all < Self.limit, counts.byToken[token, default: 0] < Self.perToken else { return false }
            counts.all += 1
            counts.byToken[token, default: 0] += 1
            return true
        }
        return taken ? Slot(self, token: token) : nil
    }
}
