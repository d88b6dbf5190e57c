import Foundation
import HTTPTypes
import NIOFoundationEssentialsCompat
import Testing
import WarncastCore
import WarncastServer
import WarncastStore
import WarncastTestSupport

@Suite("POST /v1/warnings and reading warnings back")
struct WarningControllerTests {
    @Test("a county weather bureau submits a red warning: 201, pending approval, Location, readable")
    func submitAndRead() async throws {
        let api = try await APIHarness()
        let issuer = try await api.token(.issuer, department: "csx-weather")
        try await api.test { client in
            let response = try await client.submit("rainstorm-red-csx.xml", token: issuer)
            #expect(response.status == .created)
            let accepted = try response.decode(Accepted.self)
            #expect(accepted.status == "pending_approval")
            #expect(response.headers[.location] == "/v1/warnings/\(accepted.id)")
            #expect(accepted.location == "/v1/warnings/\(accepted.id)")

            let read = try await client.get(accepted.location, token: issuer)
            #expect(read.status == .ok)
            let warning = try read.decode(Warning.self)
            #expect(warning.level == .red && warning.event == "rainstorm")
            #expect(warning.alert.info.first?.headline == "长沙县气象局发布暴雨红色预警信号")

            let raw = try await client.get(accepted.location + "/cap", token: issuer)
            #expect(raw.headers[.contentType] == "application/cap+xml")
            #expect(Data(buffer: raw.body) == TestSupport.fixture("rainstorm-red-csx.xml"))
            // The issuer's bytes are never a page in the browser that opens them (a script in
            // an XHTML namespace would run with the console's session): a download, sandboxed.
            #expect(raw.headers[.contentDisposition]?.hasPrefix("attachment; filename=") == true)
            #expect(raw.headers[.contentSecurityPolicy] == "default-src 'none'; frame-ancestors 'none'; sandbox")
            #expect(raw.headers[.xContentTypeOptions] == "nosniff")
            // Every /v1 answer says the same, errors too.
            #expect(read.headers[.contentSecurityPolicy]?.contains("sandbox") == true)
            let missing = try await client.get("/v1/warnings/none", token: issuer)
            #expect(missing.status == .notFound && missing.headers[.xContentTypeOptions] == "nosniff")
            let large = try await client.submit(Data(repeating: 0x20, count: 300_000), token: issuer, contentType: "application/cap+xml")
            #expect(large.status == .contentTooLarge && large.headers[.contentSecurityPolicy]?.contains("sandbox") == true)
        }
    }

    @Test("the identical message again returns the same id with 200; XML and JSON forms count as identical")
    func idempotent() async throws {
        let api = try await APIHarness()
        let issuer = try await api.token(.issuer, department: "csx-weather")
        try await api.test { client in
            let first = try await client.submit("rainstorm-red-csx.xml", token: issuer).decode(Accepted.self)
            let again = try await client.submit("rainstorm-red-csx.xml", token: issuer)
            #expect(again.status == .ok)
            #expect(try again.decode(Accepted.self).id == first.id)
            #expect(try again.decode(Accepted.self).duplicate)
            let asJSON = try await client.submit("rainstorm-red-csx.json", token: issuer)
            #expect(asJSON.status == .ok)
            #expect(try asJSON.decode(Accepted.self).id == first.id)
            let listing = try await client.get("/v1/warnings", token: issuer).decode(Listing.self)
            #expect(listing.count == 1)
        }
    }

    @Test(
        "every refusal has its own status and error code",
        arguments: [
            ("refuse-malformed.xml", 400, "malformed_xml"),
            ("refuse-xxe.xml", 400, "xml_doctype_forbidden"),
            ("refuse-billion-laughs.xml", 400, "xml_doctype_forbidden"),
            ("refuse-wrong-namespace.xml", 422, "not_cap_1_2"),
            ("refuse-missing-identifier.xml", 422, "missing_field"),
            ("refuse-unknown-region.xml", 422, "unknown_region"),
            ("refuse-invalid-region-code.xml", 422, "invalid_region_code"),
            ("refuse-event-not-allowed.xml", 403, "event_not_allowed"),
            ("refuse-unknown-event.xml", 422, "unknown_event_type"),
            ("refuse-area-outside.xml", 403, "area_outside_jurisdiction"),
            ("refuse-expires-before-effective.xml", 422, "expires_before_effective"),
            ("refuse-already-expired.xml", 422, "already_expired"),
            ("refuse-time-without-offset.xml", 422, "invalid_time"),
            ("refuse-level-mismatch.xml", 422, "level_severity_mismatch"),
            ("refuse-update-unknown-reference.xml", 422, "unknown_reference"),
        ])
    func refusals(fixture: String, status: Int, code: String) async throws {
        let api = try await APIHarness()
        let issuer = try await api.token(.issuer, department: "csx-weather")
        try await api.test { client in
            let response = try await client.submit(fixture, token: issuer)
            #expect(response.status.code == status)
            #expect(response.errorCode == code)
            #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
        }
        let audit = try await api.store.auditEntries(from: 1, limit: 100)
        #expect(audit.last?.action == "warning.refused")
        #expect(audit.last?.detail.contains(code) == true)
    }

    @Test("the same identifier with different content is a 409 conflict")
    func conflict() async throws {
        let api = try await APIHarness()
        let issuer = try await api.token(.issuer, department: "csx-weather")
        try await api.test { client in
            #expect(try await client.submit("rainstorm-red-csx.xml", token: issuer).status == .created)
            let response = try await client.submit("refuse-identifier-conflict.xml", token: issuer)
            #expect(response.status == .conflict)
            #expect(response.errorCode == "identifier_conflict")
        }
    }

    @Test("Update and Cancel of an accepted warning are accepted; another department's are refused")
    func updatesAndCancels() async throws {
        let api = try await APIHarness()
        let county = try await api.token(.issuer, department: "csx-weather")
        let city = try await api.token(.issuer, department: "cs-weather")
        try await api.test { client in
            #expect(try await client.submit("rainstorm-red-csx.xml", token: county).status == .created)
            // The city may not speak as the county's bureau, nor update the county's warning
            // under its own name.
            let spoofed = try await client.submit("update-csx.xml", token: city)
            #expect(spoofed.status == .forbidden)
            #expect(spoofed.errorCode == "sender_not_allowed")
            let ownName = String(decoding: TestSupport.fixture("update-csx.xml"), as: UTF8.self)
                .replacingOccurrences(of: "<sender>csx-weather@", with: "<sender>cs-weather@")
            let foreign = try await client.submit(Data(ownName.utf8), token: city, contentType: "application/cap+xml")
            #expect(foreign.status == .forbidden)
            #expect(foreign.errorCode == "reference_not_owned")
            #expect(try await client.submit("update-csx.xml", token: county).status == .created)
            #expect(try await client.submit("cancel-csx.xml", token: county).status == .created)
        }
    }

    @Test("a body over the limit is 413, an unknown content type 415")
    func sizeAndType() async throws {
        let api = try await APIHarness(maxBodyBytes: 2048)
        let issuer = try await api.token(.issuer, department: "csx-weather")
        try await api.test { client in
            let big = Data(repeating: UInt8(ascii: " "), count: 4096)
            let tooLarge = try await client.submit(big, token: issuer, contentType: "application/cap+xml")
            #expect(tooLarge.status == .contentTooLarge)
            #expect(tooLarge.errorCode == "body_too_large")
            let text = try await client.submit("rainstorm-red-csx.xml", token: issuer, contentType: "text/plain")
            #expect(text.status == .unsupportedMediaType)
            #expect(text.errorCode == "unsupported_media_type")
        }
    }

    @Test("no token or a wrong one is 401; a valid token without the right is 403")
    func authentication() async throws {
        let api = try await APIHarness()
        let approver = try await api.token(.approver, department: "csx-weather")
        let receiver = try await api.token(.receiver, region: "430121001001")
        try await api.test { client in
            let none = try await client.submit("rainstorm-red-csx.xml", token: nil)
            #expect(none.status == .unauthorized)
            #expect(none.errorCode == "unauthenticated")
            #expect(none.headers[.wwwAuthenticate] != nil)
            #expect(try await client.submit("rainstorm-red-csx.xml", token: "wct_not-a-real-token").status == .unauthorized)
            let wrongRole = try await client.submit("rainstorm-red-csx.xml", token: approver)
            #expect(wrongRole.status == .forbidden)
            #expect(wrongRole.errorCode == "not_an_issuer")
            let reading = try await client.get("/v1/warnings", token: receiver)
            #expect(reading.status == .forbidden)
        }
    }

    @Test("reads are scoped: the neighbouring district sees nothing, the province and the village see it")
    func scopedReads() async throws {
        let api = try await APIHarness()
        let issuer = try await api.token(.issuer, department: "csx-weather")
        let neighbour = try await api.token(.issuer, department: "fr-weather")
        let provincialAuditor = try await api.token(.auditor, region: "430000")
        let villageOperator = try await api.token(.operator, region: "430121001004")
        try await api.test { client in
            let accepted = try await client.submit("rainstorm-red-csx.xml", token: issuer).decode(Accepted.self)
            #expect(try await client.get(accepted.location, token: neighbour).status == .notFound)
            #expect(try await client.get(accepted.location + "/cap", token: neighbour).status == .notFound)
            #expect(try await client.get("/v1/warnings", token: neighbour).decode(Listing.self).count == 0)
            #expect(try await client.get(accepted.location, token: provincialAuditor).status == .ok)
            #expect(try await client.get("/v1/warnings", token: villageOperator).decode(Listing.self).count == 1)
        }
    }

    @Test("listing filters by status, level, region and since; bad filters are 400")
    func listingFilters() async throws {
        let api = try await APIHarness()
        let issuer = try await api.token(.issuer, department: "csx-weather")
        try await api.test { client in
            _ = try await client.submit("rainstorm-red-csx.xml", token: issuer)
            _ = try await client.submit("rainstorm-yellow-csx.json", token: issuer)
            func count(_ query: String) async throws -> Int {
                try await client.get("/v1/warnings?\(query)", token: issuer).decode(Listing.self).count
            }
            #expect(try await count("") == 2)
            #expect(try await count("level=red") == 1)
            #expect(try await count("level=yellow&status=pending_approval") == 1)
            #expect(try await count("status=released") == 0)
            #expect(try await count("region=430121002") == 2)
            #expect(try await count("region=430121005") == 0)
            #expect(try await count("since=2026-07-01T00:00:00Z") == 2)
            #expect(try await count("since=2026-07-03T00:00:00%2B08:00") == 0)
            for bad in ["level=purple", "status=lost", "region=12", "since=tomorrow", "limit=0"] {
                let response = try await client.get("/v1/warnings?\(bad)", token: issuer)
                #expect(response.status == .badRequest)
                #expect(response.errorCode == "invalid_query")
            }
        }
    }
}
