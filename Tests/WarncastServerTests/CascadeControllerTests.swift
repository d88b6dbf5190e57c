import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationEssentialsCompat
import Testing
import WarncastConfig
import WarncastCore
import WarncastDispatch
import WarncastServer
import WarncastStore
import WarncastTestSupport

/// The lower-tier side of the cascade: warnings handed down are taken only with a valid,
/// fresh signature of a configured upper node, never in a loop, and filed under that node.
@Suite("Warnings handed down by an upper-tier node")
struct CascadeControllerTests {
    let upper = SigningKeyring.generate()

    /// The answer to a hand-down, as the upper node reads it.
    struct Accepted: Decodable {
        var id: String
        var status: String
        var duplicate: Bool
    }

    func harness(approval: WarncastConfiguration.Upstream.Approval = .preApproved) async throws -> APIHarness {
        let key = try upper.signer().publicKey.rawRepresentation.base64EncodedString()
        return try await APIHarness { configuration in
            configuration.cascade.upstream = [
                .init(name: "national-centre", region: RegionCode("430000")!, publicKeys: [key], approval: approval)
            ]
        }
    }

    /// The headers of a signed hand-down, as the cascade adapter sends them.
    func headers(
        _ body: Data, signer: MessageSigner, at date: Date, key: String = "w-1/node-changsha", path: String = "national-centre"
    ) throws -> HTTPFields {
        var fields: HTTPFields = [.contentType: "application/cap+xml"]
        fields[HTTPField.Name("Warncast-Path")!] = path
        for line in try signer.headers(body: body, idempotencyKey: key, timestamp: Timestamp.string(date)) {
            let parts = line.split(separator: ":", maxSplits: 1)
            fields[HTTPField.Name(String(parts[0]))!] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        return fields
    }

    @Test("a signed provincial warning is released at once when the upstream is pre-approved, and again is a duplicate")
    func accepted() async throws {
        let harness = try await harness()
        let body = TestSupport.fixture("rainstorm-red-province.xml")
        let signed = try headers(body, signer: try upper.signer(), at: harness.clock.now())
        let (first, again) = try await harness.test { client in
            (
                try await client.execute(uri: "/v1/cascade/warnings", method: .post, headers: signed, body: ByteBuffer(data: body)),
                try await client.execute(uri: "/v1/cascade/warnings", method: .post, headers: signed, body: ByteBuffer(data: body))
            )
        }
        #expect(first.status == .created)
        #expect(again.status == .ok)
        let accepted = try first.decode(Accepted.self)
        #expect(accepted.status == "released" && !accepted.duplicate)
        #expect(try again.decode(Accepted.self).duplicate)
        let id = accepted.id
        let stored = try await harness.store.warning(id: Warning.ID(rawValue: id))
        let warning = try #require(stored)
        #expect(warning.department == "upstream-national-centre")
        #expect(warning.upstreamPath == ["national-centre"])
    }

    @Test("with approval: local, the node's own rules apply")
    func localApproval() async throws {
        let harness = try await harness(approval: .local)
        let body = TestSupport.fixture("rainstorm-red-province.xml")
        let signed = try headers(body, signer: try upper.signer(), at: harness.clock.now())
        let answer = try await harness.test { client in
            try await client.execute(uri: "/v1/cascade/warnings", method: .post, headers: signed, body: ByteBuffer(data: body))
        }
        #expect(answer.status == .created)
        #expect(try answer.decode(Accepted.self).status == "pending_approval")
    }

    @Test(
        "unsigned, unknown key, altered body, stale timestamp and a loop are each refused with their reason; a stranger's oversized body is refused by its headers, unread"
    )
    func refusals() async throws {
        let harness = try await harness()
        let body = TestSupport.fixture("rainstorm-red-province.xml")
        let now = harness.clock.now()
        let stranger = try SigningKeyring.generate().signer()
        let cases: [(HTTPFields, Data, HTTPResponse.Status, String)] = [
            ([.contentType: "application/cap+xml"], body, .unauthorized, "unsigned"),
            (try headers(body, signer: stranger, at: now), body, .unauthorized, "unknown_upstream_key"),
            // Four times server.max_body_bytes: a body read first would be 413 body_too_large.
            ([.contentType: "application/cap+xml"], Data(repeating: 0x20, count: 1 << 20), .unauthorized, "unsigned"),
            (try headers(body, signer: stranger, at: now), Data(repeating: 0x20, count: 1 << 20), .unauthorized, "unknown_upstream_key"),
            (
                try headers(body, signer: try upper.signer(), at: now.addingTimeInterval(-600)), Data(repeating: 0x20, count: 1 << 20),
                .unauthorized, "stale_signature"
            ),
            (try headers(body, signer: try upper.signer(), at: now), body + Data(" ".utf8), .unauthorized, "bad_signature"),
            (try headers(body, signer: try upper.signer(), at: now.addingTimeInterval(-600)), body, .unauthorized, "stale_signature"),
            (
                try headers(body, signer: try upper.signer(), at: now, path: "national-centre,hunan-provincial-centre,changsha-city"),
                body, .conflict, "cascade_loop"
            ),
        ]
        for (fields, sent, status, code) in cases {
            let answer = try await harness.test { client in
                try await client.execute(uri: "/v1/cascade/warnings", method: .post, headers: fields, body: ByteBuffer(data: sent))
            }
            #expect(answer.status == status, "\(code)")
            #expect(answer.errorCode == code)
        }
        let audit = try await harness.store.auditEntries(from: 1, limit: 10_000).map(\.action)
        #expect(audit.contains("cascade.loop") && audit.contains("cascade.refused"))
        #expect(try await harness.store.warnings(WarningQuery(visibleTo: RegionCode("430000")!)).isEmpty)
    }

    @Test(
        "a hand-down for a sibling's area, or a message signed for another purpose (a subscriber's mail, keyed by the warning alone; a report request), is refused"
    )
    func notForThisNode() async throws {
        let key = try upper.signer().publicKey.rawRepresentation.base64EncodedString()
        let harness = try await APIHarness { configuration in
            configuration.cascade.upstream = [
                .init(name: "national-centre", region: RegionCode("430000")!, publicKeys: [key], approval: .preApproved)
            ]
            // A county's node: Changsha County.
            configuration.node.region = RegionCode("430121")!
        }
        let province = TestSupport.fixture("rainstorm-red-province.xml")
        let sibling = Data(
            String(decoding: province, as: UTF8.self).replacingOccurrences(of: "<value>430000</value>", with: "<value>430102</value>")
                .replacingOccurrences(of: "hn-weather-20260701-bench", with: "hn-weather-20260701-sibling").utf8)
        let now = harness.clock.now()
        let signer = try upper.signer()
        let cases: [(HTTPFields, Data, HTTPResponse.Status, String?)] = [
            (try headers(sibling, signer: signer, at: now), sibling, .forbidden, "area_outside_node"),
            (try headers(province, signer: signer, at: now, key: "w-1"), province, .unauthorized, "not_a_hand_down"),
            (try headers(province, signer: signer, at: now, key: "w-1/"), province, .unauthorized, "not_a_hand_down"),
            (
                try headers(province, signer: signer, at: now, key: "GET /v1/cascade/warnings/w-1/report"), province, .unauthorized,
                "not_a_hand_down"
            ),
            // The province-wide warning concerns the county: filed.
            (try headers(province, signer: signer, at: now), province, .created, nil),
        ]
        for (fields, sent, status, code) in cases {
            let answer = try await harness.test { client in
                try await client.execute(uri: "/v1/cascade/warnings", method: .post, headers: fields, body: ByteBuffer(data: sent))
            }
            #expect(answer.status == status, "\(code ?? "filed")")
            #expect(answer.errorCode == code)
        }
        let filed = try await harness.store.warnings(WarningQuery(visibleTo: RegionCode("430000")!))
        #expect(filed.map(\.identifier) == ["hn-weather-20260701-bench"])

        // An Update narrowing the warning to the sibling county still replaces the copy here.
        let narrowed = Data(
            String(decoding: sibling, as: UTF8.self)
                .replacingOccurrences(of: "<msgType>Alert</msgType>", with: "<msgType>Update</msgType>")
                .replacingOccurrences(
                    of: "<scope>Public</scope>",
                    with:
                        "<scope>Public</scope>\n  <references>hn-weather@warncast.example,hn-weather-20260701-bench,2026-07-01T08:00:00+08:00</references>"
                ).utf8)
        let update = try await harness.test { client in
            try await client.execute(
                uri: "/v1/cascade/warnings", method: .post, headers: try headers(narrowed, signer: signer, at: now),
                body: ByteBuffer(data: narrowed))
        }
        #expect(update.status == .created, "\(String(buffer: update.body))")
        let original = try #require(filed.first)
        #expect(try await harness.store.warning(id: original.id)?.status == .superseded)
    }

    @Test("an upper node's Update that widens a warning to this node is taken as news; a Cancel of what it never had is not")
    func widenedUpdate() async throws {
        let harness = try await harness()
        let province = String(decoding: TestSupport.fixture("rainstorm-red-province.xml"), as: UTF8.self)
        func replacing(_ type: String, identifier: String) -> Data {
            Data(
                province.replacingOccurrences(of: "<msgType>Alert</msgType>", with: "<msgType>\(type)</msgType>")
                    .replacingOccurrences(
                        of: "<identifier>hn-weather-20260701-bench</identifier>", with: "<identifier>\(identifier)</identifier>"
                    )
                    .replacingOccurrences(
                        of: "<scope>Public</scope>",
                        with:
                            "<scope>Public</scope>\n  <references>hn-weather@warncast.example,hn-weather-20260701-bench,2026-07-01T08:00:00+08:00</references>"
                    )
                    .utf8)
        }
        let update = replacing("Update", identifier: "hn-weather-20260701-bench-2")
        let cancel = replacing("Cancel", identifier: "hn-weather-20260701-bench-3")
        let now = harness.clock.now()
        let signer = try upper.signer()
        let (updated, cancelled) = try await harness.test { client in
            (
                try await client.execute(
                    uri: "/v1/cascade/warnings", method: .post, headers: try headers(update, signer: signer, at: now),
                    body: ByteBuffer(data: update)),
                try await client.execute(
                    uri: "/v1/cascade/warnings", method: .post, headers: try headers(cancel, signer: signer, at: now),
                    body: ByteBuffer(data: cancel))
            )
        }
        #expect(updated.status == .created, "\(String(buffer: updated.body))")
        #expect(try updated.decode(Accepted.self).status == "released")
        #expect(cancelled.status == .unprocessableContent && cancelled.errorCode == "unknown_reference")
    }

    @Test("the upper node may read this node's report of a warning it handed down, signed for that very report")
    func report() async throws {
        let harness = try await harness()
        let body = TestSupport.fixture("rainstorm-red-province.xml")
        let signer = try upper.signer()
        let now = harness.clock.now()
        let signed = try headers(body, signer: signer, at: now)
        let id = try await harness.test { client in
            try await client.execute(uri: "/v1/cascade/warnings", method: .post, headers: signed, body: ByteBuffer(data: body))
        }.decode(Accepted.self).id
        let path = "/v1/cascade/warnings/\(id)/report"
        let good = try headers(Data(), signer: signer, at: now, key: "GET \(path)")
        let other = try headers(Data(), signer: signer, at: now, key: "GET /v1/cascade/warnings/another/report")
        let (ok, replayed) = try await harness.test { client in
            (
                try await client.execute(uri: path, method: .get, headers: good),
                try await client.execute(uri: path, method: .get, headers: other)
            )
        }
        #expect(ok.status == .ok)
        let report = try ok.decode(WarningReport.self)
        #expect(report.warning.rawValue == id && report.node == "hunan-provincial-centre")
        #expect(replayed.status == .unauthorized && replayed.errorCode == "bad_signature")
    }
}
