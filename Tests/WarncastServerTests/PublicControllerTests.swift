import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOFoundationEssentialsCompat
import Testing
import WarncastCore
import WarncastServer
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

    @Test("a released warning is in the feed, the JSON list and the page; its CAP reads back; pending ones are not")
    func releasedWarningPublished() async throws {
        let api = try await APIHarness()
        let t = try await tokens(api)
        try await api.test { client in
            let red = try await client.submit("rainstorm-red-csx.xml", token: t.issuer).decode(Accepted.self)
            let pending = String(buffer: try await client.get("/public/warnings.json", token: nil).body)
            #expect(!pending.contains(red.id))
            _ = try await client.post("/v1/warnings/\(red.id)/approve", token: t.leader)
            _ = try await client.post("/v1/warnings/\(red.id)/approve", token: t.government)

            let json = try await client.get("/public/warnings.json", token: nil)
            #expect(json.status == .ok)
            #expect(String(buffer: json.body).contains(#""id":"\#(red.id)""#))

            let atom = try await client.get("/public/warnings.atom", token: nil)
            #expect(atom.headers[.contentType] == "application/atom+xml; charset=utf-8")
            let feed = String(buffer: atom.body)
            #expect(feed.contains("<title>长沙县气象局发布暴雨红色预警信号</title>"))
            #expect(feed.contains("href=\"/public/cap/\(red.id)\""))

            let cap = try await client.get("/public/cap/\(red.id)", token: nil)
            let alert = try CAPReader.readXML(Data(buffer: cap.body))
            #expect(alert.identifier == "csx-weather-20260701-0001")
            #expect(alert.info.first?.headline == "长沙县气象局发布暴雨红色预警信号")

            let page = String(buffer: try await client.get("/public?region=430121", token: nil).body)
            #expect(page.contains("长沙县第1乡镇"))
            #expect(page.contains("data-level=\"red\""))
            let elsewhere = String(buffer: try await client.get("/public?region=430102", token: nil).body)
            #expect(elsewhere.contains("No active warnings"))
        }
    }

    @Test("cancelled and expired warnings leave the feed")
    func leaving() async throws {
        let api = try await APIHarness()
        let t = try await tokens(api)
        let clock = api.clock
        try await api.test { client in
            let red = try await client.submit("rainstorm-red-csx.xml", token: t.issuer).decode(Accepted.self)
            _ = try await client.post("/v1/warnings/\(red.id)/approve", token: t.leader)
            _ = try await client.post("/v1/warnings/\(red.id)/approve", token: t.government)
            let cancel = try await client.submit("cancel-csx.xml", token: t.issuer).decode(Accepted.self)
            _ = try await client.post("/v1/warnings/\(cancel.id)/approve", token: t.leader)
            let feed = String(buffer: try await client.get("/public/warnings.atom", token: nil).body)
            #expect(!feed.contains(red.id) && !feed.contains(cancel.id))
            #expect(try await client.get("/public/cap/\(red.id)", token: nil).status == .notFound)

            let yellow = try await client.submit("rainstorm-yellow-csx.json", token: t.issuer).decode(Accepted.self)
            _ = try await client.post("/v1/warnings/\(yellow.id)/approve", token: t.leader)
            #expect(String(buffer: try await client.get("/public/warnings.json", token: nil).body).contains(yellow.id))
            clock.advance(by: 100 * 365 * 86400)
            #expect(!String(buffer: try await client.get("/public/warnings.json", token: nil).body).contains(yellow.id))
        }
    }
}
