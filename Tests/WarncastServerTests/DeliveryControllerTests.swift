import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOFoundationEssentialsCompat
import Testing
import WarncastCore
import WarncastServer
import WarncastTestSupport

@Suite("Recipients, deliveries and acknowledgements over the API")
struct DeliveryControllerTests {
    @Test("an operator adds a loudspeaker; a red warning plans its delivery; the terminal acknowledges with its secret")
    func recipientsDeliveriesAndAcks() async throws {
        let api = try await APIHarness()
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
            let ack = try await client.post("/v1/receipts/ack", token: "s3cret", json: body)
            #expect(ack.status == .ok)
            let after = String(buffer: try await client.get("/v1/warnings/\(red.id)/deliveries?state=delivered", token: auditor).body)
            #expect(after.contains(#""delivered":1"#) && after.contains(key))
        }
    }
}
