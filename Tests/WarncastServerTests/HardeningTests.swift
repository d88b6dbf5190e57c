import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Testing
import WarncastCore
import WarncastServer
import WarncastStore
import WarncastTestSupport

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// What an outsider, an operator of another county and a careless client can and cannot do.
@Suite("Hardening")
struct HardeningTests {
    @Test("a NUL in a receipt is refused, never stored: the audit chain stays intact")
    func nulInReceipt() async throws {
        let api = try await APIHarness()
        let auditor = try await api.token(.auditor, region: "430000")
        try await api.test { client in
            let response = try await client.post("/v1/receipts/ack", token: "anything", json: #"{"idempotencyKey":"abc\u0000def"}"#)
            #expect(response.status == .badRequest)
            #expect(response.errorCode == "control_character")
            let verify = String(buffer: try await client.get("/v1/audit/verify", token: auditor).body)
            #expect(verify.contains(#""intact":true"#))
        }
    }

    @Test("what the audit log stores reads back exactly as hashed, whatever a stranger sends")
    func storedTextRoundTrips() async throws {
        let store = try SQLiteStore.inMemory()
        let hostile = "abc\u{0}def\u{1b}[2J=cmd|' /C calc'!A0" + String(repeating: "x", count: 65_536)
        try await store.appendAudit(AuditEvent(actor: .anonymous, action: .receiptForged, subject: hostile), at: Date())
        #expect(try await store.verifyAudit() == .intact(entries: 1, lastHash: try await store.auditEntries(from: 1, limit: 1)[0].hash))
        let stored = try await store.auditEntries(from: 1, limit: 1)[0]
        #expect(stored.subject == AuditText.storable(hostile))
        #expect(stored.subject.count < 300)
        #expect(!stored.subject.unicodeScalars.contains { $0.value < 0x20 })
    }

    @Test("anonymous refusals are written at most 60 a minute; the rest are counted in one entry")
    func refusalsLimited() async throws {
        let api = try await APIHarness()
        let clock = api.clock
        try await api.test { client in
            for index in 0..<100 {
                let response = try await client.post(
                    "/v1/receipts/ack", token: "guess-\(index)", json: #"{"idempotencyKey":"w/\#(index)"}"#)
                #expect(response.status == .forbidden)
            }
            clock.advance(by: 61)
            _ = try await client.post("/v1/receipts/ack", token: "late", json: #"{"idempotencyKey":"w/late"}"#)
        }
        let entries = try await api.store.auditEntries(from: 1, limit: 10_000)
        #expect(entries.filter { $0.action == "receipt.forged" }.count == 61)
        let summary = try #require(entries.first { $0.action == "refusals.suppressed" })
        #expect(summary.detail.contains(#""count":"40""#))
        guard case .intact = try await api.store.verifyAudit() else {
            Issue.record("the audit chain broke")
            return
        }
    }

    @Test("an operator cannot take over, move or replace another county's loudspeaker; changes in its own are audited")
    func recipientTakeover() async throws {
        let api = try await APIHarness()
        let county = try await api.token(.operator, region: "430121", name: "长沙县值班员")
        let district = try await api.token(.operator, region: "430102", name: "芙蓉区值班员")
        try await api.test { client in
            let own =
                #"[{"id":"ls-v1","channel":"loudspeaker","region":"430121001001","name":"大喇叭","address":"http://10.0.0.1/a","secret":"s1"}]"#
            #expect(try await client.post("/v1/recipients", token: county, json: own).status == .created)
            let takeover =
                #"[{"id":"ls-v1","channel":"loudspeaker","region":"430102001001","name":"x","address":"http://attacker/","secret":"mine"}]"#
            let refused = try await client.post("/v1/recipients", token: district, json: takeover)
            #expect(refused.status == .forbidden)
            #expect(refused.errorCode == "recipient_out_of_scope")
            let moved =
                #"[{"id":"ls-v1","channel":"loudspeaker","region":"430121001002","name":"大喇叭","address":"http://10.0.0.2/a","secret":"s1"}]"#
            #expect(try await client.post("/v1/recipients", token: county, json: moved).status == .created)
        }
        let recipient = try #require(try await api.store.recipients(channel: nil, within: nil, limit: 10).first { $0.id == "ls-v1" })
        #expect(recipient.region.rawValue == "430121001002")
        let added = try #require(try await api.store.auditEntries(subject: "ls-v1").first { $0.action == "recipient.added" })
        #expect(
            added.detail.contains(#""region":"430121001001""#) && added.detail.contains("10.0.0.1")
                && added.detail.contains(#""secret":"set""#))
        #expect(added.actor.contains("长沙县值班员"))
        let change = try #require(try await api.store.auditEntries(subject: "ls-v1").first { $0.action == "recipient.changed" })
        #expect(change.detail.contains(#""region":"430121001001""#) && change.detail.contains(#""region.new":"430121001002""#))
        #expect(
            change.detail.contains(#""address.new":"http:\/\/10.0.0.2\/a""#)
                || change.detail.contains(#""address.new":"http://10.0.0.2/a""#))
    }

    /// The county red warning with a second `<info>` block made by `edit` from the first.
    static func twoBlocks(_ edit: (String) -> String) -> Data {
        let text = String(decoding: TestSupport.fixture("rainstorm-red-csx.xml"), as: UTF8.self)
        let start = text.range(of: "<info>")!.lowerBound
        let end = text.range(of: "</info>")!.upperBound
        let second = edit(String(text[start..<end]).replacingOccurrences(of: "zh-CN", with: "en-US"))
        var combined = text
        combined.insert(contentsOf: "\n" + second, at: end)
        return Data(combined.utf8)
    }

    @Test("every info block is authorised: another event, an unknown one or another level is refused naming the block")
    func everyBlock() async throws {
        let api = try await APIHarness()
        let issuer = try await api.token(.issuer, department: "csx-weather")
        let cases: [(String, Data)] = [
            ("geological hazard", Self.twoBlocks { $0.replacingOccurrences(of: "<event>暴雨</event>", with: "<event>地质灾害</event>") }),
            ("not in the catalogue", Self.twoBlocks { $0.replacingOccurrences(of: "<event>暴雨</event>", with: "<event>陨石</event>") }),
            (
                "another level",
                Self.twoBlocks {
                    $0.replacingOccurrences(of: "<value>red</value>", with: "<value>yellow</value>")
                        .replacingOccurrences(of: "<severity>Extreme</severity>", with: "<severity>Moderate</severity>")
                }
            ),
        ]
        try await api.test { client in
            for (name, body) in cases {
                let response = try await client.submit(body, token: issuer, contentType: "application/cap+xml")
                #expect(response.status == .unprocessableContent, "\(name)")
                #expect(response.errorCode == "info_block_invalid", "\(name)")
                #expect(String(buffer: response.body).contains("info[1]"), "\(name)")
            }
            let translated = Self.twoBlocks { $0.replacingOccurrences(of: "<event>暴雨</event>", with: "<event>Rainstorm</event>") }
            #expect(try await client.submit(translated, token: issuer, contentType: "application/cap+xml").status == .created)
        }
    }

    @Test("a UTF-16 document with a DOCTYPE is refused for its encoding before anything reads it")
    func utf16() async throws {
        let api = try await APIHarness()
        let issuer = try await api.token(.issuer, department: "csx-weather")
        let xml = String(decoding: TestSupport.fixture("refuse-billion-laughs.xml"), as: UTF8.self)
        let utf16 = Data([0xFF, 0xFE]) + xml.data(using: .utf16LittleEndian)!
        let noMark = xml.replacingOccurrences(of: "UTF-8", with: "UTF-16").data(using: .utf16BigEndian)!
        try await api.test { client in
            for body in [utf16, noMark] {
                let response = try await client.submit(body, token: issuer, contentType: "application/cap+xml")
                #expect(response.status == .badRequest)
                #expect(response.errorCode == "unsupported_encoding")
            }
        }
    }

    @Test("every C0 control character and U+FFFE, U+FFFF are refused at intake; what is accepted comes out as well-formed XML")
    func controlCharacters() async throws {
        let api = try await APIHarness()
        let store = api.store
        let issuer = try await api.token(.issuer, department: "csx-weather")
        let json = String(decoding: TestSupport.fixture("rainstorm-red-csx.json"), as: UTF8.self)
        try await api.test { client in
            for value in (0..<0x20).filter({ ![0x09, 0x0A, 0x0D].contains($0) }) {
                let escaped = String(format: "\\u%04x", value)
                let body = json.replacingOccurrences(of: "长沙县气象局发布暴雨红色预警信号", with: "红色\(escaped)预警")
                let response = try await client.submit(Data(body.utf8), token: issuer, contentType: "application/json")
                #expect(response.status == .badRequest, "U+\(value)")
                #expect(response.errorCode == "control_character", "U+\(value)")
            }
            // The noncharacters XML cannot carry either, escaped or raw (EF BF BE / EF BF BF).
            for text in ["\\ufffe", "\\uFFFF", "\u{FFFE}", "\u{FFFF}"] {
                let body = json.replacingOccurrences(of: "长沙县气象局发布暴雨红色预警信号", with: "红色\(text)预警")
                let response = try await client.submit(Data(body.utf8), token: issuer, contentType: "application/json")
                #expect(response.status == .badRequest && response.errorCode == "control_character", "\(text)")
                #expect(response.errorDetail?.contains("which XML cannot carry") == true, "\(response.errorDetail ?? "-")")
            }
            let xml = String(decoding: TestSupport.fixture("rainstorm-red-csx.xml"), as: UTF8.self)
                .replacingOccurrences(of: "长沙县气象局发布暴雨红色预警信号", with: "红色&#1;预警")
            #expect(try await client.submit(Data(xml.utf8), token: issuer, contentType: "application/cap+xml").errorCode == "malformed_xml")

            // Tab and line feed are text: accepted, and every output that carries them parses.
            let allowed = json.replacingOccurrences(of: "长沙县气象局发布暴雨红色预警信号", with: "红色\\t预警\\n第二行 <&>")
            let accepted = try await client.submit(Data(allowed.utf8), token: issuer, contentType: "application/json")
            #expect(accepted.status == .created)
            let id = try accepted.decode(Accepted.self).id
            let warning = try #require(try await store.warning(id: Warning.ID(rawValue: id)))
            #expect(XMLParser(data: CAPWriter.xml(warning.alert)).parse(), "the CAP sent on is well-formed")
        }
    }

    @Test("unknown routes, wrong methods and oversized bodies answer the documented JSON error")
    func errorBodies() async throws {
        let api = try await APIHarness(maxBodyBytes: 1024)
        let issuer = try await api.token(.issuer, department: "csx-weather")
        try await api.test { client in
            let missing = try await client.get("/no/such/route", token: nil)
            #expect(missing.status == .notFound && missing.errorCode == "not_found")
            let method = try await client.execute(uri: "/v1/warnings", method: .delete, headers: [.authorization: "Bearer \(issuer)"])
            #expect(method.status == .methodNotAllowed && method.errorCode == "method_not_allowed")
            #expect(method.headers[.allow] == "POST, GET")
            let trace = try await client.execute(uri: "/v1/warnings/w-1/cap", method: .trace, headers: [:])
            #expect(trace.status == .methodNotAllowed && trace.headers[.allow] == "GET")
            let control = try await client.get("/public?region=43%000", token: nil)
            #expect(control.status == .badRequest && control.errorCode == "control_character")
            #expect(control.errorDetail == "the URL contains the control character U+0000; a URL may carry none")
            let big = try await client.submit(Data(repeating: 0x41, count: 4096), token: issuer, contentType: "application/cap+xml")
            #expect(big.status == .contentTooLarge && big.errorCode == "body_too_large")
        }
    }

    @Test("an expired token is refused like a revoked one")
    func tokenExpiry() async throws {
        let api = try await APIHarness()
        let clock = api.clock
        let token = AccessToken.generate()
        try await api.store.createToken(
            TokenGrant(
                id: token.id, name: "临时", role: .auditor, departmentID: nil, region: RegionCode("430000")!,
                createdAt: Timestamp(TestSupport.now), expiresAt: Timestamp(TestSupport.now.addingTimeInterval(60))),
            secretHash: AccessToken.hash(token.secret), audit: AuditEvent(actor: .test, action: .tokenCreated, subject: token.id))
        try await api.test { client in
            #expect(try await client.get("/v1/warnings", token: token.secret).status == .ok)
            clock.advance(by: 61)
            let expired = try await client.get("/v1/warnings", token: token.secret)
            #expect(expired.status == .unauthorized)
        }
    }

    @Test("the data directory and database are the daemon's alone, whatever the umask")
    func filePermissions() throws {
        let directory = try TestSupport.temporaryDirectory().appendingPathComponent("data")
        let old = umask(0o022)
        defer { umask(old) }
        _ = try SQLiteStore(path: directory.appendingPathComponent("warncast.sqlite").path)
        let dirMode = try FileManager.default.attributesOfItem(atPath: directory.path)[.posixPermissions] as? Int
        let fileMode =
            try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("warncast.sqlite").path)[
                .posixPermissions] as? Int
        #expect(dirMode == 0o700)
        #expect(fileMode == 0o600)
    }

    @Test("HTML pages forbid framing, sniffing, referrers and anything not their own")
    func pageHeaders() async throws {
        let api = try await APIHarness()
        try await api.test { client in
            let page = try await client.get("/public", token: nil)
            #expect(page.status == .ok)
            let policy = try #require(page.headers[.contentSecurityPolicy])
            #expect(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'") && !policy.contains("unsafe-inline"))
            #expect(page.headers[.xContentTypeOptions] == "nosniff")
            #expect(page.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
        }
    }

    @Test("a client that sends a 5 MiB body whole gets a prompt 413 in JSON and a closed connection")
    func oversizedBodyCloses() async throws {
        let api = try await APIHarness(maxBodyBytes: 64 * 1024)
        let issuer = try await api.token(.issuer, department: "csx-weather")
        let body = try TestSupport.temporaryDirectory().appendingPathComponent("big.xml")
        try Data(repeating: 0x41, count: 5 << 20).write(to: body)
        try await TestServer.run(api.router, logger: api.parts.logger) { client in
            let port = try #require(client.port)
            let started = Date()
            // `Expect:` empty: curl sends the whole body without waiting for a go-ahead.
            let (status, output) = try await Self.curl([
                "-s", "-S", "--max-time", "20", "-H", "Expect:", "-H", "Authorization: Bearer \(issuer)",
                "-H", "Content-Type: application/cap+xml", "--data-binary", "@\(body.path)",
                "-D", "-", "http://127.0.0.1:\(port)/v1/warnings",
            ])
            #expect(Date().timeIntervalSince(started) < 10, "answered promptly")
            #expect(output.contains(" 413"), "\(output.prefix(300))")
            #expect(output.lowercased().contains("connection: close"))
            #expect(output.contains(#""error":"body_too_large""#))
            #expect(status == 0 || status == 55 || status == 56, "curl exit \(status): the server may close while the rest is unsent")
        }
    }

    @Test("a request the HTTP parser cannot read gets the documented JSON error: a NUL in a header, headers too large")
    func parserErrors() async throws {
        let api = try await APIHarness()
        try await TestServer.run(api.router, logger: api.parts.logger) { client in
            let port = try #require(client.port)
            let nul = try await Self.raw(port: port, Data("GET /healthz HTTP/1.1\r\nHost: a\r\nX-A: a\u{0}b\r\n\r\n".utf8))
            #expect(nul.hasPrefix("HTTP/1.1 400 "), "\(nul.prefix(200))")
            #expect(nul.lowercased().contains("connection: close"))
            #expect(nul.contains(#""error":"bad_request""#) && nul.contains("not valid HTTP/1.1"))
            let big = "GET /healthz HTTP/1.1\r\nHost: a\r\nX-Big: \(String(repeating: "a", count: 100_000))\r\n\r\n"
            let large = try await Self.raw(port: port, Data(big.utf8))
            #expect(large.hasPrefix("HTTP/1.1 431 "), "\(large.prefix(200))")
            #expect(large.contains(#""error":"headers_too_large""#))
            // A good request on the same server is untouched.
            let fine = try await Self.raw(port: port, Data("GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n".utf8))
            #expect(fine.hasPrefix("HTTP/1.1 200 "), "\(fine.prefix(200))")
        }
    }

    /// Sends `request` on a new connection and reads until the server closes it (5 s at most).
    static func raw(port: Int, _ request: Data) async throws -> String {
        let script = """
            import socket, sys
            s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
            s.sendall(sys.stdin.buffer.read())
            data = b""
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except socket.timeout:
                pass
            sys.stdout.buffer.write(data)
            """
        return try await TestSupport.run(["python3", "-c", script, String(port)], input: request).output
    }

    @Test("a county auditor's audit export shows its own county's warnings and only the place in the chain of the rest")
    func scopedAuditExport() async throws {
        let api = try await APIHarness()
        let county = try await api.token(.issuer, department: "csx-weather")
        let district = try await api.token(.issuer, department: "fr-weather")
        let districtAuditor = try await api.token(.auditor, region: "430102", name: "芙蓉区审计")
        let provinceAuditor = try await api.token(.auditor, region: "430000", name: "省审计")
        let window = "since=2026-06-01T00:00:00Z&until=2026-08-01T00:00:00Z&format=json"
        try await api.test { client in
            let districtXML = String(decoding: TestSupport.fixture("rainstorm-red-csx.xml"), as: UTF8.self)
                .replacingOccurrences(of: "csx-weather", with: "fr-weather")
                .replacingOccurrences(of: "<value>430121", with: "<value>430102")
                .replacingOccurrences(of: "430121001", with: "430102001").replacingOccurrences(of: "430121003", with: "430102002")
            let districtResponse = try await client.submit(Data(districtXML.utf8), token: district, contentType: "application/cap+xml")
            #expect(districtResponse.status == .created, "\(String(buffer: districtResponse.body))")
            let districtWarning = try districtResponse.decode(Accepted.self).id
            // The county's after the district's: an entry the district auditor sees comes right
            // before ones it does not.
            let countyWarning = try await client.submit("rainstorm-red-csx.xml", token: county).decode(Accepted.self).id

            let scoped = try await client.get("/v1/export/audit?\(window)", token: districtAuditor)
            #expect(scoped.status == .ok)
            let scopedText = String(buffer: scoped.body)
            #expect(scopedText.contains(districtWarning))
            #expect(!scopedText.contains(countyWarning), "another county's warning is not named")
            #expect(!scopedText.contains("token.created"), "token grants are node business")
            let check = try ExportVerifier.verify(Data(scopedText.utf8))
            #expect(check.redacted > 0)
            // A shown entry anywhere before a redacted one can be rewritten with the hashes up
            // to the redacted one and its link, and the file still verifies with the same last
            // hash: the verifier counts those it cannot vouch for.
            let lines = scopedText.split(separator: "\n").map(String.init)
            let lastRedacted = try #require(lines.lastIndex { $0.contains(#""action":"redacted""#) })
            let shownBefore = lines[..<lastRedacted].filter { !$0.contains(#""action":"redacted""#) }.count
            #expect(shownBefore > 0 && check.unanchored == shownBefore, "\(check)")

            let full = String(buffer: try await client.get("/v1/export/audit?\(window)", token: provinceAuditor).body)
            #expect(full.contains(countyWarning) && full.contains(districtWarning))
            #expect(try ExportVerifier.verify(Data(full.utf8)).redacted == 0)
        }
    }

    static func curl(_ arguments: [String]) async throws -> (Int32, String) {
        try await TestSupport.run(["curl"] + arguments)
    }
}
