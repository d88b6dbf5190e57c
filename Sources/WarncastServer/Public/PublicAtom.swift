import Foundation
import WarncastCore

/// The Atom feed of the public channel, as alert aggregators read one: an entry per CAP
/// message (Alert, Update, Cancel) linking its CAP by absolute URL, with its standing and
/// every language it was issued in.
struct PublicAtom {
    let title: String
    let node: String
    /// Absolute base of every link, e.g. `https://warn.hunan.example`.
    let base: String
    /// The node's language: the entry's title and summary come from its block.
    let language: String
    let region: RegionCode?
    let entries: PublicEntries

    /// The feed's id and self link differ per region, so an aggregator keeps them apart.
    var id: String { "urn:warncast:\(node):public" + (region.map { ":region:\($0)" } ?? "") }
    var selfLink: String { base + "/public/warnings.atom" + (region.map { "?region=\($0)" } ?? "") }

    func render() -> String {
        let escape = CAPWriter.escape
        var xml = #"<?xml version="1.0" encoding="utf-8"?>"# + "\n"
        xml += #"<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="\#(escape(language))" xml:base="\#(escape(base))/">"# + "\n"
        xml += "  <title>\(escape(title)) 预警信息\(region.map { " (\($0))" } ?? "")</title>\n"
        xml += "  <id>\(escape(id))</id>\n"
        xml += "  <updated>\(Timestamp.string(entries.lastModified))</updated>\n"
        xml += "  <author><name>\(escape(title))</name></author>\n"
        xml += #"  <link rel="self" type="application/atom+xml" href="\#(escape(selfLink))"/>"# + "\n"
        xml += #"  <link rel="alternate" type="text/html" href="\#(escape(base))/public\#(region.map { "?region=\($0)" } ?? "")"/>"# + "\n"
        for entry in entries.entries { xml += self.entry(entry) }
        xml += "</feed>\n"
        return xml
    }

    private func entry(_ entry: PublicEntries.Entry) -> String {
        let escape = CAPWriter.escape
        let warning = entry.warning
        let alert = warning.alert
        let lead = alert.info(in: language)
        let title = lead?.headline ?? warning.headline ?? warning.event
        var xml = "  <entry>\n"
        xml += "    <id>urn:warncast:\(escape(node)):message:\(warning.id)</id>\n"
        xml += "    <title>\(escape(Self.prefix(entry) + title))</title>\n"
        xml += "    <updated>\(Timestamp.string(entry.changed))</updated>\n"
        xml += "    <published>\(Timestamp.string(entry.released))</published>\n"
        xml += "    <author><name>\(escape(lead?.senderName ?? warning.department))</name></author>\n"
        xml +=
            #"    <category scheme="urn:warncast:level" term="\#(warning.level.rawValue)" label="\#(escape(lead?.event ?? warning.event))"/>"#
            + "\n"
        xml += #"    <category scheme="urn:oasis:names:tc:emergency:cap:1.2:msgType" term="\#(warning.msgType.rawValue)"/>"# + "\n"
        xml += #"    <category scheme="urn:warncast:standing" term="\#(entry.standing.term)"/>"# + "\n"
        let cap = base + "/public/cap/\(warning.id)"
        xml += #"    <link rel="alternate" type="application/cap+xml" href="\#(escape(cap))"/>"# + "\n"
        if let by = Self.replacement(entry.standing) {
            xml += #"    <link rel="related" type="application/cap+xml" href="\#(escape(base))/public/cap/\#(by)"/>"# + "\n"
        }
        let summary = [lead?.description, lead?.instruction].compactMap { $0 }.joined(separator: " ")
        xml += "    <summary>\(escape(summary))</summary>\n"
        // Every language of the message, each in its own direction.
        xml += #"    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">"# + "\n"
        for block in alert.languageBlocks(leading: language) {
            let text = [block.info.headline, block.info.description, block.info.instruction].compactMap { $0 }
            let tag = escape(block.tag)
            xml += #"      <div xml:lang="\#(tag)" lang="\#(tag)" dir="\#(block.mode.direction)">"#
            xml += text.map { "<p>\(escape($0))</p>" }.joined()
            xml += "</div>\n"
        }
        xml += "    </div></content>\n"
        xml += "  </entry>\n"
        return xml
    }

    /// `[已更新]` / `[已解除]` before the title of an updated or cancelled entry.
    static func prefix(_ entry: PublicEntries.Entry) -> String {
        switch entry.standing {
        case .inForce: ""
        case .updated: "[已更新 Updated] "
        case .cancelled: "[已解除 Cancelled] "
        }
    }

    static func replacement(_ standing: PublicEntries.Standing) -> Warning.ID? {
        switch standing {
        case .inForce: nil
        case .updated(let by), .cancelled(let by): by
        }
    }
}
