import Crypto
import Foundation
import Hummingbird
import NIOCore
import NIOFoundationEssentialsCompat
import WarncastCore
import WarncastStore

/// The public web channel, no token needed: an Atom feed and a JSON list of active
/// warnings, each CAP message at its own URL, and a plain HTML page by region. Only
/// released, public, actual warnings appear; expired, cancelled and superseded ones leave.
struct PublicController {
    let store: any Store
    let nodeName: String
    /// The node's language: the `<info>` block the page and the feeds show.
    let language: String
    let now: @Sendable () -> Date

    func register<Methods: RouterMethods>(on registrar: RouteRegistrar<Methods>)
    where Methods.Context == WarncastRequestContext {
        registrar.on(.get, "/public", use: page)
        registrar.on(.get, "/public/warnings.atom", use: atom)
        registrar.on(.get, "/public/warnings.json", use: json)
        registrar.on(.get, "/public/cap/{id}", use: cap)
    }

    private func active(region: RegionCode? = nil) async throws -> [Warning] {
        try await store.activeWarnings(at: now()).filter { warning in
            // A Cancel (解除) ends a warning; the lifted warning leaves, and the notice is no warning.
            warning.capStatus == "Actual" && warning.alert.scope == "Public" && warning.msgType != .cancel
                && (region.map { code in warning.areas.contains { $0.overlaps(code) } } ?? true)
        }
    }

    /// One active warning as the public JSON list shows it.
    struct PublicWarning: Codable {
        var id: Warning.ID
        var headline: String?
        var event: String
        var level: Level
        var msgType: MessageType
        var areas: [RegionCode]
        var effective: Timestamp
        var expires: Timestamp?
        var releasedAt: Timestamp?
        var instruction: String?
        var cap: String
    }

    struct PublicList: ResponseEncodable {
        var updated: String
        var warnings: [PublicWarning]
    }

    @Sendable func json(_ request: Request, context: WarncastRequestContext) async throws -> PublicList {
        let list = try await active(region: try regionFilter(request)).map { warning in
            PublicWarning(
                id: warning.id, headline: warning.headline, event: warning.event, level: warning.level,
                msgType: warning.msgType, areas: warning.areas, effective: warning.effective, expires: warning.expires,
                releasedAt: warning.approval?.releasedAt, instruction: warning.alert.info(in: language)?.instruction,
                cap: "/public/cap/\(warning.id)")
        }
        return PublicList(updated: Timestamp.string(now()), warnings: list)
    }

    @Sendable func cap(_ request: Request, context: WarncastRequestContext) async throws -> Response {
        let id = Warning.ID(rawValue: try context.parameters.require("id"))
        guard let warning = try await active().first(where: { $0.id == id }) else {
            throw APIError.notFound("no active public warning '\(id)'")
        }
        return Response(
            status: .ok, headers: [.contentType: "application/cap+xml; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(data: CAPWriter.xml(warning.alert))))
    }

    @Sendable func atom(_ request: Request, context: WarncastRequestContext) async throws -> Response {
        let warnings = try await active(region: try regionFilter(request))
        let escape = CAPWriter.escape
        var xml = #"<?xml version="1.0" encoding="utf-8"?>"# + "\n"
        xml += #"<feed xmlns="http://www.w3.org/2005/Atom">"# + "\n"
        xml += "  <title>\(escape(nodeName)) 预警信息 (active warnings)</title>\n"
        xml += "  <id>urn:warncast:\(escape(nodeName)):active</id>\n"
        xml += "  <updated>\(Timestamp.string(now()))</updated>\n"
        xml += #"  <link rel="self" href="/public/warnings.atom"/>"# + "\n"
        for warning in warnings {
            let info = warning.alert.info(in: language)
            xml += "  <entry>\n"
            xml += "    <id>urn:warncast:warning:\(warning.id)</id>\n"
            xml += "    <title>\(escape(warning.headline ?? warning.event))</title>\n"
            xml += "    <updated>\(warning.approval?.releasedAt ?? warning.receivedAt)</updated>\n"
            xml += "    <author><name>\(escape(info?.senderName ?? warning.department))</name></author>\n"
            xml += "    <category term=\"\(warning.level.rawValue)\" label=\"\(warning.event)\"/>\n"
            xml += "    <link rel=\"alternate\" type=\"application/cap+xml\" href=\"/public/cap/\(warning.id)\"/>\n"
            xml += "    <summary>\(escape([info?.description, info?.instruction].compactMap { $0 }.joined(separator: " ")))</summary>\n"
            xml += "  </entry>\n"
        }
        xml += "</feed>\n"
        return Response(
            status: .ok, headers: [.contentType: "application/atom+xml; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: xml)))
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
        let warnings = try await active(region: region)
        var names: [RegionCode: String] = [:]
        for code in Set(warnings.flatMap(\.areas)) {
            names[code] = try await store.region(code)?.name ?? code.rawValue
        }
        let html = PublicPage(nodeName: nodeName, language: language, region: region, warnings: warnings, names: names, generated: now())
            .render()
        return Response(
            status: .ok, headers: PublicController.htmlHeaders,
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    private func regionFilter(_ request: Request) throws -> RegionCode? {
        guard let text = request.uri.queryParameters["region"], !text.isEmpty else { return nil }
        guard let code = RegionCode(String(text)) else { throw APIError.badQuery("region '\(text)' is not a division code") }
        return code
    }
}

/// The HTML of the public page: active warnings grouped by the areas they cover.
struct PublicPage {
    let nodeName: String
    let language: String
    let region: RegionCode?
    let warnings: [Warning]
    let names: [RegionCode: String]
    let generated: Date

    private static let colours: [Level: String] = [.blue: "#1e5bd8", .yellow: "#e6b800", .orange: "#f07800", .red: "#d81e1e"]
    private static let levelNames: [Level: String] = [.blue: "蓝色", .yellow: "黄色", .orange: "橙色", .red: "红色"]

    /// The page's only style, inline; the Content-Security-Policy allows it by its hash.
    static let stylesheet =
        "body{font-family:sans-serif;margin:1.5rem;max-width:60rem}"
        + ".warning{border-left:.5rem solid;padding:.5rem 1rem;margin:.5rem 0;background:#f6f6f6}.level{font-weight:bold}"
        + Level.allCases.map { ".level-\($0.rawValue){border-color:\(colours[$0]!)}" }.joined()

    /// `style-src` for `stylesheet`.
    static var styleSource: String {
        "'sha256-" + Data(SHA256.hash(data: Data(stylesheet.utf8))).base64EncodedString() + "'"
    }

    func render() -> String {
        let escape = CAPWriter.escape
        var byArea: [(RegionCode, [Warning])] = []
        for code in Set(warnings.flatMap(\.areas)).sorted() {
            byArea.append((code, warnings.filter { $0.areas.contains(code) }))
        }
        var html = """
            <!DOCTYPE html>
            <html lang="zh-CN"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(nodeName)) 预警信息</title>
            <style>\(Self.stylesheet)</style></head><body>
            <h1>\(escape(nodeName)) 预警信息 <small>Active warnings</small></h1>
            <p>更新时间 Updated \(Timestamp.string(generated))\(region.map { " · 地区 Region \($0)" } ?? "")
             · <a href="/public/warnings.atom">Atom</a> · <a href="/public/warnings.json">JSON</a></p>

            """
        if warnings.isEmpty {
            html += "<p id=\"none\">当前无生效预警。No active warnings.</p>\n"
        }
        for (code, list) in byArea {
            html += "<section class=\"region\" data-region=\"\(code)\"><h2>\(escape(names[code] ?? code.rawValue)) (\(code))</h2>\n"
            for warning in list {
                let info = warning.alert.info(in: language)
                html += """
                    <article class="warning level-\(warning.level.rawValue)" id="w-\(warning.id)" data-level="\(warning.level.rawValue)">
                    <p class="level">\(Self.levelNames[warning.level]!)预警 · \(escape(info?.event ?? warning.event))</p>
                    <h3>\(escape(warning.headline ?? ""))</h3>
                    <p>\(escape(info?.description ?? ""))</p>
                    <p><strong>\(escape(info?.instruction ?? ""))</strong></p>
                    <p><small>\(escape(info?.senderName ?? warning.department)) · 生效 \(warning.effective)\(warning.expires.map { " · 截止 \($0)" } ?? "") · <a href="/public/cap/\(warning.id)">CAP</a></small></p>
                    </article>

                    """
            }
            html += "</section>\n"
        }
        html += "</body></html>\n"
        return html
    }
}
