import Foundation
import HTTPTypes
import NIOCore
import Testing
import WarncastCore
import WarncastServer
import WarncastStore
import WarncastTestSupport

@Suite("/healthz and /metrics")
struct HealthControllerTests {
    @Test("healthz answers ok without a token")
    func health() async throws {
        let api = try await APIHarness()
        try await api.test { client in
            let response = try await client.get("/healthz", token: nil)
            #expect(response.status == .ok)
            #expect(String(buffer: response.body).contains(#""status":"ok""#))
        }
    }

    @Test("metrics count requests and submissions by result and refusal reason")
    func metrics() async throws {
        let api = try await APIHarness()
        let issuer = try await api.token(.issuer, department: "csx-weather")
        try await api.test { client in
            _ = try await client.submit("rainstorm-red-csx.xml", token: issuer)
            _ = try await client.submit("rainstorm-red-csx.xml", token: issuer)
            _ = try await client.submit("refuse-xxe.xml", token: issuer)
            _ = try await client.submit("refuse-xxe.xml", token: nil)
            for _ in 0..<3 { _ = try await client.get("/healthz", token: nil) }
            // A method outside the usual seven is counted under `other`: each made-up one would
            // otherwise be a new label value kept for good.
            for method in ["TRACE", "PROPFIND"] { _ = try await client.execute(uri: "/healthz", method: .init(method)!) }
            let text = String(buffer: try await client.get("/metrics", token: nil).body)
            #expect(text.contains(#"warncast_http_requests_total{method="GET",route="/healthz",status="200"} 3"#))
            #expect(text.contains(#"method="other""#) && !text.contains("TRACE") && !text.contains("PROPFIND"), "\(text)")
            #expect(text.contains(#"warncast_submissions_total{result="accepted",reason=""} 1"#))
            #expect(text.contains(#"warncast_submissions_total{result="duplicate",reason=""} 1"#))
            #expect(text.contains(#"warncast_submissions_total{result="refused",reason="xml_doctype_forbidden"} 1"#))
            #expect(text.contains(#"warncast_http_requests_total{method="POST",route="/v1/warnings",status="201"} 1"#))
            #expect(text.contains(#"warncast_http_requests_total{method="POST",route="/v1/warnings",status="401"} 1"#))
        }
    }

    @Test("metrics: how long the oldest red warning's deliveries have waited, and resends")
    func waiting() async throws {
        let api = try await APIHarness()
        let issuer = try await api.token(.issuer, department: "csx-weather")
        let leader = try await api.token(.approver, department: "csx-weather", approvalRole: "duty-leader")
        let government = try await api.token(.approver, region: "430121", approvalRole: "government-leader")
        let county = try await api.token(.operator, region: "430121")
        try await api.store.saveRecipients(
            [
                (
                    recipient: Recipient(
                        id: "ls-1", channel: "loudspeaker", region: RegionCode("430121001001")!, name: "大喇叭",
                        address: "http://127.0.0.1:9/ls-1"), secretHash: String?.none
                )
            ], audit: AuditEvent(actor: .test, action: .recipientsSaved, subject: "1"))
        let clock = api.clock
        try await api.test { client in
            func gauge() async throws -> String {
                String(buffer: try await client.get("/metrics", token: nil).body).split(separator: "\n")
                    .first { $0.hasPrefix(#"warncast_oldest_undelivered_seconds{level="red"}"#) }.map(String.init) ?? ""
            }
            let id = try await client.submit("rainstorm-red-csx.xml", token: issuer).decode(Accepted.self).id
            #expect(try await gauge() == #"warncast_oldest_undelivered_seconds{level="red"} 0.0"#)
            _ = try await client.post("/v1/warnings/\(id)/approve", token: leader)
            _ = try await client.post("/v1/warnings/\(id)/approve", token: government)
            // No dispatcher runs here: the delivery waits.
            clock.advance(by: 42)
            #expect(try await gauge() == #"warncast_oldest_undelivered_seconds{level="red"} 42.0"#)
            _ = try await client.post("/v1/warnings/\(id)/resend", token: county, json: #"{"reason":"x","channel":"loudspeaker"}"#)
            let text = String(buffer: try await client.get("/metrics", token: nil).body)
            #expect(text.contains(#"warncast_deliveries_resent_total{channel="loudspeaker"} 0"#))
        }
    }
}
