import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import WarncastCore
import WarncastServer
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
            let text = String(buffer: try await client.get("/metrics", token: nil).body)
            #expect(text.contains(#"warncast_submissions_total{result="accepted",reason=""} 1"#))
            #expect(text.contains(#"warncast_submissions_total{result="duplicate",reason=""} 1"#))
            #expect(text.contains(#"warncast_submissions_total{result="refused",reason="xml_doctype_forbidden"} 1"#))
            #expect(text.contains(#"warncast_http_requests_total{method="POST",route="/v1/warnings",status="201"} 1"#))
            #expect(text.contains(#"warncast_http_requests_total{method="POST",route="/v1/warnings",status="401"} 1"#))
        }
    }
}
