import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationEssentialsCompat
import WarncastCore
import WarncastStore

/// The public web channel, no token needed: an Atom feed and a JSON list of the public
/// messages, each CAP message at its own URL, and the HTML page residents see. Only public,
/// actual messages appear (never Test, Exercise, System or Draft). An updated or cancelled
/// warning stays, marked so, until it expires. Every answer carries an ETag and a
/// Last-Modified, and a conditional GET that finds nothing new gets 304. What was read and
/// written is kept while it is still true (`PublicCache`).
struct PublicController {
    let store: any Store
    let node: String
    /// The centre's name as residents know it.
    let title: String
    /// The node's language: the `<info>` block the page and the feeds lead with.
    let language: String
    let timeZone: TimeZone
    /// `server.public_url`: the absolute base of the feeds' links. Without it, the base is
    /// taken from the request's Host.
    let publicURL: String?
    let now: @Sendable () -> Date
    let cache = PublicCache()

    func register<Methods: RouterMethods>(on registrar: RouteRegistrar<Methods>)
    where Methods.Context == WarncastRequestContext {
        registrar.on(.get, "/public", use: page)
        registrar.on(.get, "/public/warnings.atom", use: atom)
        registrar.on(.get, "/public/warnings.json", use: json)
        registrar.on(.get, "/public/cap/{id}", use: cap)
    }

    /// The entries as they stand at `at`, from the messages the cache keeps for `mark`.
    private func entries(region: RegionCode? = nil, at: Date, mark: ReleasedMessagesMark) async throws -> PublicEntries {
        let since = at.addingTimeInterval(-PublicEntries.lookBack)
        let messages = try await cache.messages(for: mark) { [store] in try await store.releasedMessages(since: since) }
        return PublicEntries(messages: messages, at: at, region: region)
    }

    /// The answer of `form` for `region` and `base`: kept from an earlier request in the same
    /// second while the released messages have not changed, else written by `write` from the
    /// entries as they stand now.
    private func answer(
        _ request: Request, form: String, region: RegionCode?, base: String,
        write: @escaping @Sendable (PublicEntries, Date) async throws -> PublicCache.Answer
    ) async throws -> Response {
        let at = now()
        let mark = try await store.releasedMessagesMark(since: at.addingTimeInterval(-PublicEntries.lookBack))
        let key = PublicCache.Key(form: form, region: region, base: base, second: Int64(at.timeIntervalSince1970.rounded(.down)))
        let answer = try await cache.answer(for: key, mark: mark) {
            try await write(try await entries(region: region, at: at, mark: mark), at)
        }
        return Self.conditional(request, answer)
    }

    /// One message as the public JSON list shows it.
    struct PublicWarning: Codable {
        var id: Warning.ID
        var headline: String?
        var event: String
        var level: Level
        var msgType: MessageType
        /// `in_force`, `updated` or `cancelled`.
        var standing: String
        var replacedBy: Warning.ID?
        var areas: [RegionCode]
        var effective: Timestamp
        var expires: Timestamp?
        var releasedAt: Timestamp?
        var updated: Timestamp
        var instruction: String?
        /// Every language of the message, the node's first.
        var languages: [Text]
        /// Absolute URL of the CAP message.
        var cap: String
    }

    struct Text: Codable {
        var language: String
        /// `ltr`, `rtl`, or `vertical` (traditional Mongolian).
        var writingMode: String
        var event: String
        var headline: String?
        var description: String?
        var instruction: String?
    }

    struct PublicList: Codable {
        var updated: Timestamp
        var warnings: [PublicWarning]
    }

    @Sendable func json(_ request: Request, context: WarncastRequestContext) async throws -> Response {
        let base = try base(of: request)
        return try await answer(request, form: "json", region: try regionFilter(request), base: base) { entries, _ in
            try Self.json(entries, base: base, language: language)
        }
    }

    static func json(_ entries: PublicEntries, base: String, language: String) throws -> PublicCache.Answer {
        let list = entries.entries.map { entry in
            let warning = entry.warning
            let alert = warning.alert
            return PublicWarning(
                id: warning.id, headline: alert.info(in: language)?.headline ?? warning.headline, event: warning.event,
                level: warning.level, msgType: warning.msgType, standing: entry.standing.term,
                replacedBy: PublicAtom.replacement(entry.standing), areas: warning.areas, effective: warning.effective,
                expires: warning.expires, releasedAt: warning.approval?.releasedAt, updated: Timestamp(entry.changed),
                instruction: alert.info(in: language)?.instruction,
                languages: alert.languageBlocks(leading: language).map { block in
                    Text(
                        language: block.tag, writingMode: block.mode == .vertical ? "vertical" : block.mode.direction,
                        event: block.info.event, headline: block.info.headline, description: block.info.description,
                        instruction: block.info.instruction)
                },
                cap: base + "/public/cap/\(warning.id)")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = try encoder.encode(PublicList(updated: Timestamp(entries.lastModified), warnings: list))
        return answer(body: body, lastModified: entries.lastModified, contentType: "application/json; charset=utf-8")
    }

    @Sendable func cap(_ request: Request, context: WarncastRequestContext) async throws -> Response {
        let id = Warning.ID(rawValue: try context.parameters.require("id"))
        let at = now()
        let mark = try await store.releasedMessagesMark(since: at.addingTimeInterval(-PublicEntries.lookBack))
        guard let entry = try await entries(at: at, mark: mark).entries.first(where: { $0.warning.id == id }) else {
            throw APIError.notFound("no public warning '\(id)' (unknown, not public, or expired)")
        }
        return Self.conditional(
            request,
            Self.answer(
                body: CAPWriter.xml(entry.warning.alert), lastModified: entry.changed, contentType: "application/cap+xml; charset=utf-8"))
    }

    @Sendable func atom(_ request: Request, context: WarncastRequestContext) async throws -> Response {
        let region = try regionFilter(request)
        let base = try base(of: request)
        return try await answer(request, form: "atom", region: region, base: base) { [title, node, language] entries, _ in
            let feed = PublicAtom(title: title, node: node, base: base, language: language, region: region, entries: entries)
            return Self.answer(
                body: Data(feed.render().utf8), lastModified: entries.lastModified, contentType: "application/atom+xml; charset=utf-8")
        }
    }

    /// Every HTML page Warncast serves: its own resources only, no framing, no sniffing,
    /// no referrer leaving the site.
    static let htmlHeaders: HTTPFields = [
        .contentType: "text/html; charset=utf-8",
        .contentSecurityPolicy:
            "default-src 'none'; style-src \(PublicPage.styleSource); img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        .xContentTypeOptions: "nosniff",
        .init("Referrer-Policy")!: "no-referrer",
        .init("X-Frame-Options")!: "DENY",
    ]

    @Sendable func page(_ request: Request, context: WarncastRequestContext) async throws -> Response {
        let region = try regionFilter(request)
        // The page's links are relative: one answer whatever the Host.
        var response = try await answer(request, form: "page", region: region, base: "") {
            [store, title, language, timeZone] entries, at in
            var names: [RegionCode: String] = [:]
            for code in Set(entries.entries.flatMap(\.warning.areas) + [region].compactMap { $0 }) {
                names[code] = try await store.region(code)?.name ?? code.rawValue
            }
            let html = PublicPage(title: title, language: language, timeZone: timeZone, region: region, entries: entries, names: names)
                .render(now: at)
            return Self.answer(body: Data(html.utf8), lastModified: nil, contentType: "text/html; charset=utf-8")
        }
        for field in Self.htmlHeaders { response.headers[field.name] = field.value }
        return response
    }

    private func regionFilter(_ request: Request) throws -> RegionCode? {
        guard let text = request.uri.queryParameters["region"], !text.isEmpty else { return nil }
        guard let code = RegionCode(String(text)) else { throw APIError.badQuery("region '\(text)' is not a division code") }
        return code
    }

    /// The absolute base of links: `server.public_url`, else `http://` and the request's Host
    /// when it is a plain host name or address with an optional port.
    private func base(of request: Request) throws -> String {
        if let publicURL { return publicURL }
        let host = request.head.authority ?? ""
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]")
        guard !host.isEmpty, host.count <= 255, host.allSatisfy(allowed.contains) else {
            throw APIError(.badRequest, code: "bad_host", detail: "the Host header is missing or not a host name; set server.public_url")
        }
        return "http://" + host
    }

    // MARK: Conditional GET

    /// `body` with its ETag (a digest of the body).
    static func answer(body: Data, lastModified: Date?, contentType: String) -> PublicCache.Answer {
        let tag = "\"" + SHA256.hash(data: body).prefix(12).map { String(format: "%02x", $0) }.joined() + "\""
        return PublicCache.Answer(body: body, tag: tag, lastModified: lastModified, contentType: contentType)
    }

    /// A 200 with the answer's body, ETag and Last-Modified, or a 304 when the request's
    /// If-None-Match names that ETag (or, without If-None-Match, its If-Modified-Since is
    /// not before Last-Modified).
    static func conditional(_ request: Request, _ answer: PublicCache.Answer) -> Response {
        let (body, tag, lastModified, contentType) = (answer.body, answer.tag, answer.lastModified, answer.contentType)
        var headers: HTTPFields = [.eTag: tag, .cacheControl: "no-cache"]
        if let lastModified { headers[.lastModified] = HTTPDate.format(lastModified) }
        let notModified: Bool
        if let match = request.headers[.ifNoneMatch] {
            notModified = match.split(separator: ",").contains { candidate in
                let trimmed = candidate.trimmingCharacters(in: .whitespaces)
                return trimmed == "*" || trimmed == tag || trimmed == "W/" + tag
            }
        } else if let since = request.headers[.ifModifiedSince].flatMap(HTTPDate.parse), let lastModified {
            notModified = lastModified <= since
        } else {
            notModified = false
        }
        if notModified { return Response(status: .notModified, headers: headers) }
        headers[.contentType] = contentType
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(data: body)))
    }
}

/// RFC 9110 HTTP dates (`Sun, 06 Nov 1994 08:49:37 GMT`).
enum HTTPDate {
    private static func formatter() -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter
    }

    static func format(_ date: Date) -> String { formatter().string(from: date) }
    static func parse(_ text: String) -> Date? { formatter().date(from: text.trimmingCharacters(in: .whitespaces)) }
}
