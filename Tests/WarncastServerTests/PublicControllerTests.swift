import Foundation
import HTTPTypes
import NIOCore
import NIOFoundationEssentialsCompat
import Testing
import WarncastCore
import WarncastServer
import WarncastStore
import WarncastTestSupport

@Suite("The public web channel: feed, JSON, CAP per warning, HTML page")
struct PublicControllerTests {
    struct Tokens: Sendable {
        var issuer, leader, government: String
    }

    func tokens(_ api: APIHarness) async throws -> Tokens {
        Tokens(
            issuer: try await api.token(.issuer, department: "csx-weather", name: "值班员"),
            leader: try await api.token(.approver, department: "csx-weather", name: "带班领导", approvalRole: "duty-leader"),
            government: try await api.token(.approver, region: "430121", name: "副县长", approvalRole: "government-leader"))
    }

    /// Submits `fixture` (or `body`) and approves it as far as its rule asks (two leaders for red).
    func release(
        _ client: any TestClientProtocol, _ t: Tokens, fixture: String, replacing: [String: String] = [:]
    ) async throws -> String {
        var text = String(decoding: TestSupport.fixture(fixture), as: UTF8.self)
        for (old, new) in replacing { text = text.replacingOccurrences(of: old, with: new) }
        let accepted = try await client.submit(Data(text.utf8), token: t.issuer, contentType: "application/cap+xml")
        #expect(accepted.status == .created, "\(String(buffer: accepted.body))")
        let id = try accepted.decode(Accepted.self).id
        for token in [t.leader, t.government] {
            let status = try await client.get("/v1/warnings/\(id)", token: t.leader).decode(Status.self).status
            if status == "released" { break }
            _ = try await client.post("/v1/warnings/\(id)/approve", token: token)
        }
        #expect(try await client.get("/v1/warnings/\(id)", token: t.leader).decode(Status.self).status == "released")
        return id
    }

    struct Status: Decodable { var status: String }

    @Test("a released warning is in the feed, the JSON list and the page with absolute links; its CAP reads back; pending ones are not")
    func releasedWarningPublished() async throws {
        let api = try await APIHarness()
        let t = try await tokens(api)
        let store = api.store
        try await api.test { client in
            // Links are absolute, made from the Host the request came with.
            let base = "http://127.0.0.1:\(client.port ?? 0)"
            let red = try await client.submit("rainstorm-red-csx.xml", token: t.issuer).decode(Accepted.self)
            let pending = String(buffer: try await client.get("/public/warnings.json", token: nil).body)
            #expect(!pending.contains(red.id))
            _ = try await client.post("/v1/warnings/\(red.id)/approve", token: t.leader)
            _ = try await client.post("/v1/warnings/\(red.id)/approve", token: t.government)

            let json = try await client.get("/public/warnings.json", token: nil)
            #expect(json.status == .ok)
            let list = String(buffer: json.body)
            #expect(list.contains(#""id":"\#(red.id)""#) && list.contains(#""cap":"\#(base)/public/cap/\#(red.id)""#))

            let atom = try await client.get("/public/warnings.atom", token: nil)
            #expect(atom.headers[.contentType] == "application/atom+xml; charset=utf-8")
            let feed = String(buffer: atom.body)
            #expect(feed.contains("<title>湖南省突发事件预警信息发布中心 预警信息</title>"))
            #expect(feed.contains(#"xml:base="\#(base)/""#))
            #expect(feed.contains("<title>长沙县气象局发布暴雨红色预警信号</title>"))
            #expect(feed.contains(#"type="application/cap+xml" href="\#(base)/public/cap/\#(red.id)""#))
            #expect(feed.contains(#"<link rel="self" type="application/atom+xml" href="\#(base)/public/warnings.atom"/>"#))
            #expect(feed.contains("<id>urn:warncast:hunan-provincial-centre:public</id>"))
            // The feed's time is its newest entry's (the release), not the time of the request.
            let released = try #require(try await store.warning(id: Warning.ID(rawValue: red.id))?.approval?.releasedAt)
            #expect(feed.contains("  <updated>\(released)</updated>\n  <author>"))

            let cap = try await client.get("/public/cap/\(red.id)", token: nil)
            let alert = try CAPReader.readXML(Data(buffer: cap.body))
            #expect(alert.identifier == "csx-weather-20260701-0001")
            #expect(alert.info.first?.headline == "长沙县气象局发布暴雨红色预警信号")

            let page = String(buffer: try await client.get("/public?region=430121", token: nil).body)
            #expect(page.contains("<title>湖南省突发事件预警信息发布中心 预警信息</title>"))
            #expect(page.contains(#"<link rel="alternate" type="application/atom+xml""#))
            #expect(page.contains("data-level=\"red\"") && page.contains("红色预警"))
            // One card for the warning, naming both townships, times as people here read them.
            #expect(page.components(separatedBy: "<article").count == 2)
            let names = try #require(try await store.region(RegionCode("430121001")!)?.name)
            #expect(page.contains(names))
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "Asia/Shanghai")!
            let parts = calendar.dateComponents([.month, .day, .hour, .minute], from: released.date)
            let local = "\(parts.month!)月\(parts.day!)日 " + String(format: "%02d:%02d", parts.hour!, parts.minute!)
            #expect(page.contains(#"<time datetime="\#(released)">\#(local)</time>"#))
            // The instruction comes first on the card.
            let instruction = try #require(page.range(of: "停止集会"))
            #expect(instruction.lowerBound < (page.range(of: "<h2>长沙县气象局发布")?.lowerBound ?? page.startIndex))
            let elsewhere = String(buffer: try await client.get("/public?region=430102", token: nil).body)
            #expect(elsewhere.contains("No active warnings"))
        }
    }

    @Test("an Update then a Cancel are entries an aggregator can follow: the replaced ones stay, marked, until they expire")
    func updateThenCancel() async throws {
        let api = try await APIHarness()
        let t = try await tokens(api)
        let clock = api.clock
        try await api.test { client in
            // Links are absolute, made from the Host the request came with.
            let base = "http://127.0.0.1:\(client.port ?? 0)"
            let red = try await release(client, t, fixture: "rainstorm-red-csx.xml")
            let update = try await release(client, t, fixture: "update-csx.xml")
            var feed = String(buffer: try await client.get("/public/warnings.atom", token: nil).body)
            #expect(feed.contains("<title>[已更新 Updated] 长沙县气象局发布暴雨红色预警信号</title>"))
            #expect(feed.contains(#"<link rel="related" type="application/cap+xml" href="\#(base)/public/cap/\#(update)"/>"#))
            // The Cancel lifts both the warning and its update.
            let cancel = try await release(
                client, t, fixture: "cancel-csx.xml",
                replacing: [
                    "</references>":
                        " csx-weather@warncast.example,csx-weather-20260701-0002,2026-07-01T09:00:00+08:00</references>"
                ])
            feed = String(buffer: try await client.get("/public/warnings.atom", token: nil).body)
            for id in [red, update, cancel] {
                #expect(feed.contains("<id>urn:warncast:hunan-provincial-centre:message:\(id)</id>"))
                #expect(try await client.get("/public/cap/\(id)", token: nil).status == .ok)
            }
            #expect(feed.components(separatedBy: #"term="cancelled""#).count == 3, "the warning and its update, cancelled")
            #expect(feed.contains(#"term="Cancel""#) && feed.contains("<title>长沙县气象局解除暴雨红色预警信号</title>"))
            let list = try client.decodeJSON(try await client.get("/public/warnings.json", token: nil))
            #expect(list.map(\.standing).sorted() == ["cancelled", "cancelled", "in_force"])

            // As a feed reader sees it (feedparser): three entries, each linking its CAP absolutely.
            let read = try await PublicControllerTests.feedparser(feed)
            #expect(!read.bozo, "\(read.error)")
            #expect(read.id == "urn:warncast:hunan-provincial-centre:public")
            #expect(Set(read.entries.map(\.id)) == Set([red, update, cancel].map { "urn:warncast:hunan-provincial-centre:message:\($0)" }))
            for entry in read.entries {
                let id = String(entry.id.split(separator: ":").last!)
                #expect(
                    entry.links.contains {
                        $0.rel == "alternate" && $0.type == "application/cap+xml" && $0.href == "\(base)/public/cap/\(id)"
                    })
                let standing = entry.tags.first { $0.scheme == "urn:warncast:standing" }?.term
                #expect(standing == (id == cancel ? "in_force" : "cancelled"), "\(entry)")
            }
            let page = String(buffer: try await client.get("/public", token: nil).body)
            #expect(page.contains("No active warnings") && page.contains("已解除"))

            // A region's feed is a feed of its own.
            let county = String(buffer: try await client.get("/public/warnings.atom?region=430121", token: nil).body)
            #expect(county.contains("<id>urn:warncast:hunan-provincial-centre:public:region:430121</id>"))
            #expect(county.contains(#"href="\#(base)/public/warnings.atom?region=430121""#))

            // Everything leaves when it expires.
            clock.advance(by: 100 * 365 * 86400)
            #expect(!String(buffer: try await client.get("/public/warnings.atom", token: nil).body).contains("<entry>"))
            #expect(try await client.get("/public/cap/\(red)", token: nil).status == .notFound)
        }
    }

    @Test("ETag and Last-Modified: a conditional GET that finds nothing new gets 304, a new warning gets 200")
    func conditionalGet() async throws {
        let api = try await APIHarness()
        let t = try await tokens(api)
        let clock = api.clock
        try await api.test { client in
            _ = try await release(client, t, fixture: "rainstorm-red-csx.xml")
            for path in ["/public/warnings.atom", "/public/warnings.json", "/public"] {
                let first = try await client.get(path, token: nil)
                let tag = try #require(first.headers[.eTag])
                let again = try await client.execute(uri: path, method: .get, headers: [.ifNoneMatch: tag])
                #expect(again.status == .notModified && again.body.readableBytes == 0, "\(path)")
                #expect(again.headers[.eTag] == tag)
                if path != "/public" {
                    let modified = try #require(first.headers[.lastModified])
                    clock.advance(by: 60)
                    let since = try await client.execute(uri: path, method: .get, headers: [.ifModifiedSince: modified])
                    #expect(since.status == .notModified, "\(path)")
                }
            }
            let feed = try await client.get("/public/warnings.atom", token: nil)
            clock.advance(by: 60)
            _ = try await release(client, t, fixture: "update-csx.xml")
            let changed = try await client.execute(
                uri: "/public/warnings.atom", method: .get,
                headers: [.ifNoneMatch: feed.headers[.eTag]!, .ifModifiedSince: feed.headers[.lastModified]!])
            #expect(changed.status == .ok && changed.headers[.eTag] != feed.headers[.eTag])
            let later = try await client.execute(
                uri: "/public/warnings.atom", method: .get, headers: [.ifModifiedSince: feed.headers[.lastModified]!])
            #expect(later.status == .ok, "the Update was released after the first Last-Modified")
        }
    }

    @Test("every language on the page and in the feeds, each set as it is read; block order does not matter")
    func languages() async throws {
        let api = try await APIHarness()
        let t = try await tokens(api)
        try await api.test { client in
            let id = try await release(client, t, fixture: "rainstorm-red-csx-languages.xml")
            let page = String(buffer: try await client.get("/public", token: nil).body)
            #expect(page.contains(#"<div class="info vertical" lang="mn-Mong" dir="ltr">"#))
            #expect(page.contains(#"<div class="info" lang="ug" dir="rtl">"#))
            #expect(page.contains(#"<div class="info" lang="zh-CN" dir="ltr">"#))
            #expect(page.contains(#"<div class="info" lang="en" dir="ltr">"#))
            #expect(page.contains("ᠬᠦᠴᠦᠲᠡᠢ ᠪᠣᠷᠤᠭᠠᠨ") && page.contains("قاتتىق يامغۇر"))
            // The node's language leads although the Mongolian block comes first in the message.
            let zh = try #require(page.range(of: #"lang="zh-CN" dir"#))
            let mn = try #require(page.range(of: #"lang="mn-Mong""#))
            #expect(zh.lowerBound < mn.lowerBound)

            let feed = String(buffer: try await client.get("/public/warnings.atom", token: nil).body)
            #expect(feed.contains(#"<div xml:lang="mn-Mong" lang="mn-Mong" dir="ltr">"#))
            #expect(feed.contains(#"<div xml:lang="ug" lang="ug" dir="rtl">"#))
            #expect(feed.contains("<title>长沙县气象局发布暴雨红色预警信号</title>"))

            let list = try client.decodeJSON(try await client.get("/public/warnings.json", token: nil))
            let entry = try #require(list.first { $0.id == id })
            #expect(entry.languages.map(\.language) == ["zh-CN", "mn-Mong", "ug", "en"])
            #expect(entry.languages.map(\.writingMode) == ["ltr", "vertical", "rtl", "ltr"])
        }
    }

    @Test("Test and Exercise messages are never public")
    func testMessagesNotPublic() async throws {
        let api = try await APIHarness()
        let t = try await tokens(api)
        try await api.test { client in
            let id = try await release(
                client, t, fixture: "rainstorm-red-csx.xml", replacing: ["<status>Actual</status>": "<status>Test</status>"])
            for path in ["/public/warnings.atom", "/public/warnings.json", "/public"] {
                #expect(!String(buffer: try await client.get(path, token: nil).body).contains(id))
            }
            #expect(try await client.get("/public/cap/\(id)", token: nil).status == .notFound)
        }
    }
}

/// What Tests/Peers/feed_check.py (feedparser) read of a feed.
struct ReadFeed: Decodable {
    struct Link: Decodable {
        var rel: String?
        var type: String?
        var href: String?
    }
    struct Tag: Decodable {
        var scheme: String?
        var term: String?
    }
    struct Entry: Decodable {
        var id: String
        var title: String?
        var links: [Link]
        var tags: [Tag]
    }
    var bozo: Bool
    var error: String
    var id: String?
    var entries: [Entry]
}

extension PublicControllerTests {
    static func feedparser(_ feed: String) async throws -> ReadFeed {
        let file = try TestSupport.temporaryDirectory().appendingPathComponent("feed.atom")
        try feed.write(to: file, atomically: true, encoding: .utf8)
        let (_, output) = try await TestSupport.run(
            ["python3", TestSupport.root.appendingPathComponent("Tests/Peers/feed_check.py").path, file.path])
        return try JSONDecoder().decode(ReadFeed.self, from: Data(output.utf8))
    }
}

struct PublicEntryView: Decodable {
    struct Text: Decodable {
        var language: String
        var writingMode: String
    }
    var id: String
    var standing: String
    var languages: [Text]
}

struct PublicEntryList: Decodable { var warnings: [PublicEntryView] }

extension TestClientProtocol {
    func decodeJSON(_ response: TestResponse) throws -> [PublicEntryView] {
        try JSONDecoder().decode(PublicEntryList.self, from: Data(buffer: response.body)).warnings
    }
}
