import Foundation
import HTTPTypes
import NIOCore
import Testing
import WarncastCore
import WarncastServer
import WarncastStore
import WarncastTestSupport

@Suite("The auditor reads everything and changes nothing")
struct AuditorAccessTests {
    @Test("every write endpoint refuses an auditor token; reads, history and verify answer")
    func writeRefusalMatrix() async throws {
        let api = try await APIHarness()
        let auditor = try await api.token(.auditor, region: "430000", name: "审计")
        let issuer = try await api.token(.issuer, department: "csx-weather", name: "发布员")
        // Receipts and hand-downs authenticate otherwise (a recipient's secret, a delivery's
        // token, an upper node's signature), and so does signing in to the console (a
        // password); they are tried below.
        let otherwise = [
            "/console/session",
            "/v1/receipts/ack", "/v1/receipts/carrier/{channel}", "/v1/cascade/warnings", "/v1/terminals/{id}/heartbeat",
            "/v1/terminals/{id}/playback", "/v1/terminals/{id}/ack",
        ]
        let writes = api.routes.routes.filter { $0.method == "POST" && !otherwise.contains($0.path) }.map(\.path)
        #expect(writes.count >= 4)
        try await api.test { client in
            let red = try await client.submit("rainstorm-red-csx.xml", token: issuer).decode(Accepted.self)
            for path in writes {
                let response = try await client.post(
                    path.replacingOccurrences(of: "{id}", with: red.id), token: auditor, json: #"{"reason":"x"}"#)
                #expect(response.status == .forbidden, "\(path) let an auditor write")
            }
            let signIn = try await client.post("/console/session", token: auditor, json: #"{"username":"x","password":"not a token"}"#)
            #expect(signIn.status == .unauthorized && signIn.errorCode == "bad_credentials")
            // The receipt endpoint takes a recipient's secret, which an auditor token is not.
            let ack = try await client.post("/v1/receipts/ack", token: auditor, json: #"{"idempotencyKey":"x"}"#)
            #expect(ack.status == .forbidden)
            // So do a terminal's heartbeats and playback reports.
            let beat = try await client.post("/v1/terminals/ls-1/heartbeat", token: auditor, json: #"{"status":"normal"}"#)
            #expect(beat.status == .forbidden && beat.errorCode == "forged_terminal")
            // Nor is it a delivery's report token, nor an upper node's signature.
            let report = try await client.get("/v1/receipts/sms?d=1&t=\(String(repeating: "ab", count: 32))&type=1", token: auditor)
            #expect(report.status == .forbidden && report.errorCode == "forged_receipt")
            let handDown = try await client.post("/v1/cascade/warnings", token: auditor, json: #"{"identifier":"x"}"#)
            #expect(handDown.status == .unauthorized && handDown.errorCode == "unsigned")
            #expect(try await client.get(red.location, token: auditor).decode(Warning.self).status == .pendingApproval)

            let history = String(buffer: try await client.get(red.location + "/history", token: auditor).body)
            #expect(history.contains(#""action":"warning.accepted""#))
            let tiers = try await client.get(red.location + "/report?depth=county", token: auditor)
            #expect(tiers.status == .ok)
            let verify = String(buffer: try await client.get("/v1/audit/verify", token: auditor).body)
            #expect(verify.contains(#""intact":true"#))
            #expect(try await client.get("/v1/audit/verify", token: issuer).status == .forbidden)
        }
        let audit = try await api.store.auditEntries(from: 1, limit: 1000).map(\.action)
        #expect(!audit.contains("approval.recorded") && !audit.contains("recipients.saved"))
    }
}
