import Foundation
import Testing
import WarncastServer
import WarncastTestSupport
import Yams

@Suite("docs/openapi.yaml describes the API the server registers")
struct OpenAPIDocumentTests {
    @Test("the routes of the server and the paths of the document are the same set")
    func routesMatchDocument() async throws {
        let api = try await APIHarness()
        let registered = Set(api.routes.routes.map { "\($0.method) \($0.path)" })
        let text = try String(contentsOf: TestSupport.root.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        let document = try #require(try Yams.load(yaml: text) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: Any])
        var documented: Set<String> = []
        let methods: Set<String> = ["get", "post", "put", "patch", "delete"]
        for (path, item) in paths {
            for key in (item as? [String: Any])?.keys ?? [:].keys where methods.contains(key) {
                documented.insert("\(key.uppercased()) \(path)")
            }
        }
        #expect(!registered.isEmpty)
        #expect(registered.subtracting(documented).isEmpty, "registered but not documented")
        #expect(documented.subtracting(registered).isEmpty, "documented but not registered")
    }

    @Test("every error code the intake can produce is listed in the document")
    func errorCodesDocumented() throws {
        let text = try String(contentsOf: TestSupport.root.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        let codes = [
            "body_too_large", "unsupported_media_type", "malformed_xml", "xml_doctype_forbidden", "xml_too_complex",
            "xml_processing_instruction",
            "malformed_json", "not_cap_1_2", "missing_field", "invalid_field", "invalid_time", "unsupported_msg_type",
            "level_missing", "level_severity_mismatch", "unknown_event_type", "event_not_allowed", "area_missing", "area_needs_geocode",
            "invalid_region_code", "unknown_region", "area_outside_jurisdiction", "expires_before_effective",
            "already_expired", "references_missing", "unknown_reference", "reference_not_owned",
            "identifier_conflict", "not_an_issuer", "unauthenticated", "forbidden", "not_found", "invalid_query",
            "no_approval_rule", "not_an_approver", "self_approval", "approver_out_of_scope", "already_approved",
            "requirement_already_met", "not_pending", "warning_expired", "reason_required",
        ]
        for code in codes {
            #expect(text.contains(code), "\(code) missing from docs/openapi.yaml")
        }
    }

    @Test("every error code anything in Sources sends is in the document's error enum")
    func everySentCodeDocumented() throws {
        let text = try String(contentsOf: TestSupport.root.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        let document = try #require(try Yams.load(yaml: text) as? [String: Any])
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let error = try #require(((schemas["Error"] as? [String: Any])?["properties"] as? [String: Any])?["error"] as? [String: Any])
        let documented = Set(try #require(error["enum"] as? [String]))
        // Codes are written as `code: "…"`, as an error enum's `case .x: "…"`, or as the
        // first of a (code, detail) pair.
        let patterns = [#"code: "([a-z0-9_]+)""#, #"case [^:\n]+: "([a-z0-9_]+)"$"#, #"\("([a-z0-9_]+)", ""#]
        var sent: Set<String> = []
        let sources = TestSupport.root.appendingPathComponent("Sources")
        for case let file as URL in FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!
        where file.pathExtension == "swift" {
            let swift = try String(contentsOf: file, encoding: .utf8)
            let isErrorFile =
                file.lastPathComponent.hasSuffix("Error.swift") || swift.contains("APIError(") || swift.contains("code: String")
            guard isErrorFile else { continue }
            for pattern in patterns {
                let regex = try NSRegularExpression(pattern: pattern, options: [.anchorsMatchLines])
                for match in regex.matches(in: swift, range: NSRange(swift.startIndex..., in: swift)) {
                    if let range = Range(match.range(at: 1), in: swift) { sent.insert(String(swift[range])) }
                }
            }
        }
        #expect(sent.count > 40)
        #expect(sent.subtracting(documented).isEmpty, "sent but not in the error enum: \(sent.subtracting(documented).sorted())")
    }
}
