import Foundation
import Hummingbird
import NIOCore
import WarncastCore
import WarncastStore

/// Streamed exports for auditors: the audit log, or the deliveries, of a time range, as
/// CSV or JSON Lines. Rows are read from the store a page at a time and written as they
/// come, so a month of deliveries never sits in memory. Each export is itself recorded in
/// the audit log with its row count and last hash.
struct ExportController {
    let store: any Store
    let now: @Sendable () -> Date
    /// The node's own region: an exporter whose region contains it is node-wide.
    let nodeRegion: RegionCode
    /// Rows read from the store at a time.
    let page = 2000

    func register<Methods: RouterMethods>(on registrar: RouteRegistrar<Methods>)
    where Methods.Context == WarncastRequestContext {
        registrar.on(.get, "/export/audit", use: audit)
        registrar.on(.get, "/export/deliveries", use: deliveries)
    }

    struct Window {
        var since: Date
        var until: Date
        var format: ExportFormat
    }

    /// `since` (default 30 days before `until`), `until` (default now), `format` (default csv).
    func window(_ request: Request) throws -> Window {
        let query = request.uri.queryParameters
        func time(_ name: Substring) throws -> Date? {
            guard let text = query[name] else { return nil }
            guard let date = Timestamp.parse(String(text)) else {
                throw APIError.badQuery("\(name) must be a time with an offset, e.g. 2026-07-01T00:00:00+08:00")
            }
            return date
        }
        let until = try time("until") ?? now()
        let since = try time("since") ?? until.addingTimeInterval(-30 * 86_400)
        guard since < until else { throw APIError.badQuery("since must be before until") }
        let formatText = query["format"].map(String.init) ?? "csv"
        guard let format = ExportFormat(rawValue: formatText) else { throw APIError.badQuery("format must be csv or json") }
        return Window(since: since, until: until, format: format)
    }

    private func requireExporter(_ context: WarncastRequestContext) throws -> Principal {
        let principal = try context.requirePrincipal()
        guard [.auditor, .operator].contains(principal.role) else {
            throw APIError.forbidden("only auditor and operator tokens may export")
        }
        return principal
    }

    /// The whole audit log of the window, with each entry's chain hashes. A node-wide
    /// auditor (one whose region contains the node's) sees every entry; anyone else sees in
    /// full the entries about warnings of their region and their own actions, and the
    /// others redacted to their place in the chain, so the export still verifies as complete.
    @Sendable func audit(_ request: Request, context: WarncastRequestContext) async throws -> Response {
        let principal = try requireExporter(context)
        let window = try window(request)
        let store = self.store
        let page = self.page
        let now = self.now
        let nodeRegion = self.nodeRegion
        return stream(window, kind: .audit, name: "audit", principal: principal, store: store, now: now) { writer, encoder in
            try await writer.write(ByteBuffer(string: encoder.header))
            var after: Int64 = 0
            let nodeWide = nodeRegion.isWithin(principal.scope)
            guard let span = try await store.auditSpan(since: window.since, until: window.until) else { return }
            while true {
                let entries = try await store.exportAudit(in: span, after: after, limit: page)
                guard let last = entries.last else { break }
                let visible = nodeWide ? [] : try await store.visibleWarnings(entries.map(\.subject), within: principal.scope)
                var chunk = ""
                for entry in entries {
                    let shown = nodeWide || visible.contains(entry.subject) || entry.actor == principal.auditName
                    chunk += encoder.line(shown ? entry : entry.redacted)
                }
                try await writer.write(ByteBuffer(string: chunk))
                after = last.sequence
            }
        }
    }

    /// The deliveries planned in the window to recipients in the caller's region, chained.
    @Sendable func deliveries(_ request: Request, context: WarncastRequestContext) async throws -> Response {
        let principal = try requireExporter(context)
        let window = try window(request)
        let store = self.store
        let page = self.page
        let now = self.now
        return stream(window, kind: .deliveries, name: "deliveries", principal: principal, store: store, now: now) {
            writer, encoder in
            try await writer.write(ByteBuffer(string: encoder.header))
            var after: Int64 = 0
            while true {
                let rows = try await store.exportDeliveries(
                    since: window.since, until: window.until, within: principal.scope, after: after, limit: page)
                guard let last = rows.last else { break }
                var chunk = ""
                for row in rows {
                    chunk += encoder.line(DeliveryExportFields(warning: row.warning, identifier: row.identifier, delivery: row.delivery))
                }
                try await writer.write(ByteBuffer(string: chunk))
                after = last.delivery.id
            }
        }
    }

    /// The export as a streamed download, written by `body`, and its audit entry once it has
    /// ended: finished, or cut off when the client went away part way (an export read only
    /// until it had what it wanted is on record too, with the rows sent until then).
    private func stream(
        _ window: Window, kind: ExportKind, name: String, principal: Principal, store: any Store,
        now: @escaping @Sendable () -> Date,
        _ body: @escaping @Sendable (inout any ResponseBodyWriter, inout ExportEncoder) async throws -> Void
    ) -> Response {
        let file =
            "warncast-\(name)-\(Timestamp.string(window.since).prefix(10))-\(Timestamp.string(window.until).prefix(10)).\(window.format == .csv ? "csv" : "jsonl")"
        return Response(
            status: .ok,
            headers: [.contentType: window.format.contentType, .contentDisposition: "attachment; filename=\"\(file)\""],
            body: ResponseBody { writer in
                var encoder = ExportEncoder(kind: kind, format: window.format)
                do {
                    try await body(&writer, &encoder)
                } catch {
                    try? await Self.record(store, principal, kind: kind, window, encoder, complete: false, at: now())
                    throw error
                }
                try await Self.record(store, principal, kind: kind, window, encoder, complete: true, at: now())
                try await writer.finish(nil)
            })
    }

    /// Who exported what, with the count and last hash, so a file can be matched to its export.
    private static func record(
        _ store: any Store, _ principal: Principal, kind: ExportKind, _ window: Window, _ encoder: ExportEncoder, complete: Bool,
        at date: Date
    ) async throws {
        try await store.appendAudit(
            AuditEvent(
                actor: .principal(principal), action: .export(kind.rawValue), subject: kind.rawValue,
                detail: [
                    "since": Timestamp.string(window.since), "until": Timestamp.string(window.until),
                    "format": window.format.rawValue, "rows": String(encoder.rows), "lastHash": encoder.lastHash,
                    "complete": complete ? "yes" : "no: the client went away after these rows",
                ]),
            at: date)
    }
}
