import Crypto
import Foundation
import WarncastCore

/// The HTML page residents see: one card per warning in force, naming its areas, in the
/// level's colour with its word, the instruction first, then every language the warning was
/// issued in, each set as it is read (traditional Mongolian vertically, Uyghur and Kazakh in
/// Arabic script right to left). Lifted and updated warnings are listed below while their
/// entries stay in the feed.
struct PublicPage {
    let title: String
    let language: String
    let timeZone: TimeZone
    let region: RegionCode?
    let entries: PublicEntries
    let names: [RegionCode: String]

    private static let colours: [Level: String] = [.blue: "#1e5bd8", .yellow: "#b38f00", .orange: "#d86400", .red: "#c81414"]
    static let levelNames: [Level: String] = [.blue: "蓝色", .yellow: "黄色", .orange: "橙色", .red: "红色"]

    /// The page's only style, inline; the Content-Security-Policy allows it by its hash.
    static let stylesheet =
        "body{font-family:sans-serif;margin:1rem;max-width:60rem;line-height:1.5}"
        + ".warning{border-left:.6rem solid;padding:.5rem 1rem;margin:.8rem 0;background:#f6f6f6}"
        + ".level{font-weight:bold;color:#fff;display:inline-block;padding:0 .5rem;border-radius:.2rem}"
        + ".instruction{font-weight:bold;font-size:1.1rem}.areas{color:#333}.meta{color:#555;font-size:.9rem}"
        + ".info{margin:.5rem 0;padding-top:.3rem;border-top:1px solid #ddd}"
        + ".vertical{writing-mode:vertical-lr;max-height:22rem;overflow-x:auto}"
        + Level.allCases.map {
            ".level-\($0.rawValue){border-color:\(colours[$0]!)}.level-\($0.rawValue) .level{background:\(colours[$0]!)}"
        }
        .joined()

    /// `style-src` for `stylesheet`.
    static var styleSource: String {
        "'sha256-" + Data(SHA256.hash(data: Data(stylesheet.utf8))).base64EncodedString() + "'"
    }

    /// A time as people here read it: `7月1日 08:00` in the node's zone.
    static func local(_ date: Date, in zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.month, .day, .hour, .minute], from: date)
        return "\(parts.month ?? 0)月\(parts.day ?? 0)日 " + String(format: "%02d:%02d", parts.hour ?? 0, parts.minute ?? 0)
    }

    private func time(_ date: Date) -> String {
        "<time datetime=\"\(Timestamp.string(date))\">\(Self.local(date, in: timeZone))</time>"
    }

    func render(now: Date) -> String {
        let escape = CAPWriter.escape
        let query = region.map { "?region=\($0)" } ?? ""
        var html = """
            <!DOCTYPE html>
            <html lang="zh-CN"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title)) 预警信息</title>
            <link rel="alternate" type="application/atom+xml" title="\(escape(title)) Atom" href="/public/warnings.atom\(query)">
            <style>\(Self.stylesheet)</style></head><body>
            <h1>\(escape(title)) 预警信息 <small lang="en">Active warnings</small></h1>
            <p class="meta">更新 \(time(now))\(region.map { " · 地区 \(escape(names[$0] ?? $0.rawValue)) (\($0))" } ?? "")
             · <a href="/public/warnings.atom\(query)">Atom</a> · <a href="/public/warnings.json\(query)">JSON</a></p>

            """
        let inForce = entries.entries.filter(\.isInForce)
        if inForce.isEmpty {
            html += "<p id=\"none\">当前无生效预警。<span lang=\"en\">No active warnings.</span></p>\n"
        }
        for entry in inForce { html += card(entry) }
        let ended = entries.entries.filter { !$0.isInForce }
        if !ended.isEmpty {
            html += "<h2>已解除、已更新 <small lang=\"en\">Lifted or updated</small></h2>\n<ul id=\"ended\">\n"
            for entry in ended {
                let warning = entry.warning
                let what =
                    switch entry.standing {
                    case .updated: "已更新"
                    case .cancelled: "已解除"
                    case .inForce: warning.msgType == .cancel ? "解除通知" : ""
                    }
                html +=
                    "<li data-id=\"\(warning.id)\">\(what) · \(escape(warning.alert.info(in: language)?.headline ?? warning.event)) · \(time(entry.changed))</li>\n"
            }
            html += "</ul>\n"
        }
        html += "</body></html>\n"
        return html
    }

    private func card(_ entry: PublicEntries.Entry) -> String {
        let escape = CAPWriter.escape
        let warning = entry.warning
        let alert = warning.alert
        let lead = alert.info(in: language)
        let areas = warning.areas.map { escape(names[$0] ?? $0.rawValue) }.joined(separator: "、")
        var html = """
            <article class="warning level-\(warning.level.rawValue)" id="w-\(warning.id)" data-level="\(warning.level.rawValue)" data-areas="\(warning.areas.map(\.rawValue).joined(separator: " "))">
            <p><span class="level">\(Self.levelNames[warning.level]!)预警</span> \(escape(lead?.event ?? warning.event))</p>
            <p class="areas">\(areas)</p>

            """
        for (position, block) in alert.languageBlocks(leading: language).enumerated() {
            let info = block.info
            let vertical = block.mode == .vertical ? " vertical" : ""
            html += "<div class=\"info\(vertical)\" lang=\"\(escape(block.tag))\" dir=\"\(block.mode.direction)\">"
            if let instruction = info.instruction { html += "<p class=\"instruction\">\(escape(instruction))</p>" }
            let heading = position == 0 ? "h2" : "h3"
            if let headline = info.headline { html += "<\(heading)>\(escape(headline))</\(heading)>" }
            if let description = info.description { html += "<p>\(escape(description))</p>" }
            html += "</div>\n"
        }
        html += """
            <p class="meta">\(escape(lead?.senderName ?? warning.department)) · 发布 \(time(entry.released)) · 生效 \(time(warning.effective.date))\(warning.expires.map { " · 截止 \(time($0.date))" } ?? "") · <a href="/public/cap/\(warning.id)">CAP</a></p>
            </article>

            """
        return html
    }
}
