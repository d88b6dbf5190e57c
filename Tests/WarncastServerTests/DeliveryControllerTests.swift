import Foundation
import HTTPTypes
import NIOCore
import NIOFoundationEssentialsCompat
import Testing
import WarncastCore
import WarncastServer
import WarncastStore
import WarncastTestSupport

@Suite("Recipients, deliveries and acknowledgements over the API")
struct DeliveryControllerTests {
    @Test(
        "an operator adds a loudspeaker; a red warning plans its delivery; the terminal acknowledges with its secret",
        arguments: [false, true])
    func recipientsDeliveriesAndAcks(keyed: Bool) async throws {
        let secrets = keyed ? RecipientSecrets(key: CallbackToken.newSecret()) : nil
        let api = try await APIHarness(recipientSecrets: secrets)
        let store = api.store
        let operatorToken = try await api.token(.operator, region: "430121", name: "值班员")
        let auditor = try await api.token(.auditor, region: "430000", name: "审计")
        let issuer = try await api.token(.issuer, department: "csx-weather", name: "发布员")
        let leader = try await api.token(.approver, department: "csx-weather", name: "带班领导", approvalRole: "duty-leader")
        let government = try await api.token(.approver, region: "430121", name: "副县长", approvalRole: "government-leader")
        try await api.test { client in
            let speakers =
                #"[{"id":"ls-1","channel":"loudspeaker","region":"430121001001","name":"大喇叭","address":"http://127.0.0.1:1/x","secret":"s3cret"}]"#
            #expect(try await client.post("/v1/recipients", token: operatorToken, json: speakers).status == .created)
            let outside = #"[{"id":"ls-2","channel":"loudspeaker","region":"430102001001","name":"x","address":"http://x"}]"#
            let refused = try await client.post("/v1/recipients", token: operatorToken, json: outside)
            #expect(refused.status == .unprocessableContent && refused.errorCode == "invalid_region_code")
            let badChannel = #"[{"id":"ls-3","channel":"fax","region":"430121001001","name":"x","address":"x"}]"#
            #expect(try await client.post("/v1/recipients", token: operatorToken, json: badChannel).errorCode == "unknown_channel")
            #expect(try await client.post("/v1/recipients", token: auditor, json: speakers).status == .forbidden)
            #expect(String(buffer: try await client.get("/v1/recipients", token: auditor).body).contains(#""count":1"#))

            let red = try await client.submit("rainstorm-red-csx.xml", token: issuer).decode(Accepted.self)
            _ = try await client.post("/v1/warnings/\(red.id)/approve", token: leader)
            _ = try await client.post("/v1/warnings/\(red.id)/approve", token: government)
            let list =
                try JSONSerialization.jsonObject(
                    with: Data(
                        buffer: try await client.get(
                            "/v1/warnings/\(red.id)/deliveries", token: auditor
                        ).body)) as? [String: Any]
            #expect((list?["summary"] as? [String: Int])?["queued"] == 1)
            let key = try #require(((list?["deliveries"] as? [[String: Any]])?.first)?["idempotencyKey"] as? String)

            let body = #"{"idempotencyKey":"\#(key)"}"#
            let anonymous = try await client.post("/v1/receipts/ack", token: nil, json: body)
            #expect(anonymous.status == .unauthorized)
            let forged = try await client.post("/v1/receipts/ack", token: "guess", json: body)
            #expect(forged.status == .forbidden && forged.errorCode == "forged_receipt")
            if keyed {
                // Kept keyed: the plain SHA-256 of the secret, all a copy of the database
                // would let one guess at, does not match.
                #expect(try await store.acknowledge(idempotencyKey: key, secretHashes: [AccessToken.hash("s3cret")], at: Date()) == .forged)
            }
            let ack = try await client.post("/v1/receipts/ack", token: "s3cret", json: body)
            #expect(ack.status == .ok)
            let after = String(buffer: try await client.get("/v1/warnings/\(red.id)/deliveries?state=delivered", token: auditor).body)
            #expect(after.contains(#""delivered":1"#) && after.contains(key))
        }
    }

    @Test(
        "a reader sees its own region's part of a warning: deliveries, their counts, the report's rows and blind spots, the history's counts"
    )
    func readsWithinRegion() async throws {
        let api = try await APIHarness()
        let county = try await api.token(.operator, region: "430121", name: "长沙县值班员")
        let township = try await api.token(.auditor, region: "430121001", name: "第1乡镇审计")
        let issuer = try await api.token(.issuer, department: "csx-weather", name: "发布员")
        let leader = try await api.token(.approver, department: "csx-weather", name: "带班领导", approvalRole: "duty-leader")
        let government = try await api.token(.approver, region: "430121", name: "副县长", approvalRole: "government-leader")
        try await api.test { client in
            // The red warning covers two townships; one loudspeaker in each.
            let speakers = """
                [{"id":"ls-a","channel":"loudspeaker","region":"430121001001","name":"第1乡镇 大喇叭","address":"http://127.0.0.1:1/a"},
                 {"id":"ls-b","channel":"loudspeaker","region":"430121002001","name":"第2乡镇 大喇叭","address":"http://127.0.0.1:1/b"}]
                """
            #expect(try await client.post("/v1/recipients", token: county, json: speakers).status == .created)
            let red = try await client.submit("rainstorm-red-csx.xml", token: issuer).decode(Accepted.self)
            _ = try await client.post("/v1/warnings/\(red.id)/approve", token: leader)
            _ = try await client.post("/v1/warnings/\(red.id)/approve", token: government)

            struct Listed: Decodable {
                struct Delivery: Decodable { var recipient: String }
                var total: Int
                var deliveries: [Delivery]
            }
            struct Report: Decodable {
                struct Row: Decodable { var region: String }
                struct Spot: Decodable { var recipient: String }
                var tiers: [Row]
                var blindSpots: [Spot]
            }
            struct History: Decodable { var deliveries: [String: Int] }
            func read(_ token: String) async throws -> (Listed, Report, History) {
                (
                    try await client.get("/v1/warnings/\(red.id)/deliveries", token: token).decode(),
                    try await client.get("/v1/warnings/\(red.id)/report?depth=village", token: token).decode(),
                    try await client.get("/v1/warnings/\(red.id)/history", token: token).decode()
                )
            }
            let (all, countyReport, countyHistory) = try await read(county)
            #expect(all.total == 2 && Set(all.deliveries.map(\.recipient)) == ["ls-a", "ls-b"])
            #expect(countyReport.tiers.contains { $0.region == "430121" } && countyReport.blindSpots.count == 2)
            #expect(countyHistory.deliveries.values.reduce(0, +) == 2)

            let (own, ownReport, ownHistory) = try await read(township)
            #expect(own.total == 1 && own.deliveries.map(\.recipient) == ["ls-a"], "the other township's loudspeaker is not listed")
            #expect(
                ownReport.tiers.allSatisfy { $0.region.hasPrefix("430121001") }, "no row counting the other township: \(ownReport.tiers)")
            #expect(ownReport.tiers.contains { $0.region == "430121001001" })
            #expect(ownReport.blindSpots.map(\.recipient) == ["ls-a"])
            #expect(ownHistory.deliveries.values.reduce(0, +) == 1)
            // The report's default depth (county) is above the township: its own rows still.
            let shallow: Report = try await client.get("/v1/warnings/\(red.id)/report", token: township).decode()
            #expect(shallow.tiers.map(\.region) == ["430121001"], "\(shallow.tiers)")
        }
    }

    @Test("resend refuses a warning lifted since (409 not_in_force): its deliveries must not go out again")
    func resendNotInForce() async throws {
        let api = try await APIHarness()
        let issuer = try await api.token(.issuer, department: "csx-weather")
        let leader = try await api.token(.approver, department: "csx-weather", name: "带班领导", approvalRole: "duty-leader")
        let government = try await api.token(.approver, region: "430121", name: "副县长", approvalRole: "government-leader")
        let county = try await api.token(.operator, region: "430121", name: "长沙县值班员")
        let store = api.store
        try await api.test { client in
            let red = try await client.submit("rainstorm-red-csx.xml", token: issuer).decode(Accepted.self).id
            _ = try await client.post("/v1/warnings/\(red)/approve", token: leader)
            _ = try await client.post("/v1/warnings/\(red)/approve", token: government)
            let path = "/v1/warnings/\(red)/resend"
            #expect(try await client.post(path, token: county, json: #"{"reason":"gateway back"}"#).status == .ok, "in force")
            let cancel = try await client.submit("cancel-csx.xml", token: issuer).decode(Accepted.self).id
            _ = try await client.post("/v1/warnings/\(cancel)/approve", token: leader)
            let status = try await store.warning(id: Warning.ID(rawValue: red))?.status
            #expect(status == .cancelled)
            let refused = try await client.post(path, token: county, json: #"{"reason":"gateway back"}"#)
            #expect(refused.status == .conflict && refused.errorCode == "not_in_force", "\(String(buffer: refused.body))")
        }
    }

    @Test("resend: operators only, of warnings they can see, with a reason")
    func resendRules() async throws {
        let api = try await APIHarness()
        let issuer = try await api.token(.issuer, department: "csx-weather")
        let county = try await api.token(.operator, region: "430121", name: "长沙县值班员")
        let district = try await api.token(.operator, region: "430102", name: "芙蓉区值班员")
        let auditor = try await api.token(.auditor, region: "430000")
        let id = try await api.test { client in
            try await client.submit("rainstorm-red-csx.xml", token: issuer).decode(Accepted.self).id
        }
        try await api.test { client in
            let path = "/v1/warnings/\(id)/resend"
            let ok = try await client.post(path, token: county, json: #"{"reason":"gateway back","states":["failed","expired"]}"#)
            #expect(ok.status == .ok)
            #expect(String(buffer: ok.body).contains(#""resent":0"#))
            #expect(try await client.post(path, token: district, json: #"{"reason":"x"}"#).status == .notFound)
            #expect(try await client.post(path, token: auditor, json: #"{"reason":"x"}"#).status == .forbidden)
            #expect(try await client.post(path, token: county, json: #"{}"#).errorCode == "malformed_json")
            #expect(try await client.post(path, token: county, json: #"{"reason":" "}"#).errorCode == "reason_required")
            #expect(try await client.post(path, token: county, json: #"{"reason":"x","states":["delivered"]}"#).status == .badRequest)
            let outside = try await client.post(path, token: county, json: #"{"reason":"x","region":"430102"}"#)
            #expect(outside.status == .badRequest && outside.errorCode == "invalid_query")
        }
        let resent = try await api.store.auditEntries(subject: id).filter { $0.action == "deliveries.resent" }
        #expect(resent.count == 1 && resent[0].detail.contains("gateway back"), "only the accepted resend is on record")
    }
}
