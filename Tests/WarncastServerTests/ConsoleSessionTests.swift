import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationEssentialsCompat
import Testing
import WarncastConfig
import WarncastCore
import WarncastServer
import WarncastStore
import WarncastTestSupport

/// Signing in to the console: a password, a session cookie the API accepts like a token,
/// and a CSRF token for every change made with it.
@Suite("Console sign-in and sessions")
struct ConsoleSessionTests {
    static let password = "duty officer pw 1"

    func addUser(
        _ store: SQLiteStore, _ username: String = "zhang3", role: Role = .issuer, department: String? = "csx-weather",
        password: String = password
    )
        async throws
    {
        let region = try await store.department(id: department ?? "")?.region ?? RegionCode("430121")!
        try await store.saveConsoleUser(
            ConsoleUser(
                username: username, name: "值班员 张三", role: role, departmentID: department, region: region, approvalRole: nil,
                createdAt: Timestamp(Date())),
            passwordHash: ConsolePassword.hash(password, work: 4), audit: AuditEvent(actor: .test, action: .userSaved, subject: username))
    }

    struct Session: Decodable {
        var csrf: String
        var name: String
        var role: String
        var department: Department?
        struct Department: Decodable { var senders: [String] }
    }

    func signIn(_ client: any TestClientProtocol, _ username: String = "zhang3", password: String = password) async throws -> TestResponse {
        try await client.execute(
            uri: "/console/session", method: .post, headers: [.contentType: "application/json"],
            body: ByteBuffer(string: #"{"username":"\#(username)","password":"\#(password)"}"#))
    }

    /// A wrong password for zhang3, sent as if through a proxy for `address`.
    func signIn(_ client: any TestClientProtocol, from address: String) async throws -> TestResponse {
        try await client.execute(
            uri: "/console/session", method: .post,
            headers: [.contentType: "application/json", HTTPField.Name("X-Forwarded-For")!: address],
            body: ByteBuffer(string: #"{"username":"zhang3","password":"not the password"}"#))
    }

    /// The cookie's `name=value` from a sign-in answer.
    func cookie(_ response: TestResponse) -> String {
        String(response.headers[.setCookie]?.split(separator: ";").first ?? "")
    }

    @Test("a session cookie reads like a token; a change needs the CSRF token; signing out ends it")
    func sessionLifecycle() async throws {
        let api = try await APIHarness()
        try await addUser(api.store)
        let store = api.store
        try await api.test { client in
            let signedIn = try await signIn(client)
            #expect(signedIn.status == .ok)
            let setCookie = try #require(signedIn.headers[.setCookie])
            for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
                #expect(setCookie.contains(attribute), "Set-Cookie has \(attribute): \(setCookie)")
            }
            let session = try signedIn.decode(Session.self)
            #expect(session.role == "issuer" && session.name == "值班员 张三")
            #expect(session.department?.senders == ["csx-weather@warncast.example"])
            let cookie = cookie(signedIn)

            let read = try await client.execute(uri: "/v1/warnings", method: .get, headers: [.cookie: cookie])
            #expect(read.status == .ok)
            let body = ByteBuffer(data: TestSupport.fixture("rainstorm-red-csx.xml"))
            let noToken = try await client.execute(
                uri: "/v1/warnings", method: .post, headers: [.cookie: cookie, .contentType: "application/cap+xml"], body: body)
            #expect(noToken.status == .forbidden && noToken.errorCode == "csrf_failed")
            let wrongToken = try await client.execute(
                uri: "/v1/warnings", method: .post,
                headers: [
                    .cookie: cookie, .contentType: "application/cap+xml",
                    HTTPField.Name("X-CSRF-Token")!: String(repeating: "0", count: 64),
                ],
                body: body)
            #expect(wrongToken.status == .forbidden && wrongToken.errorCode == "csrf_failed")
            let submitted = try await client.execute(
                uri: "/v1/warnings", method: .post,
                headers: [.cookie: cookie, .contentType: "application/cap+xml", HTTPField.Name("X-CSRF-Token")!: session.csrf], body: body)
            #expect(submitted.status == .created)
            let id = try submitted.decode(Accepted.self).id
            let warning = try await store.warning(id: Warning.ID(rawValue: id))
            #expect(warning?.submitterName == "值班员 张三", "the warning names who submitted it from the console")

            let again = try await client.execute(uri: "/console/session", method: .get, headers: [.cookie: cookie])
            #expect(try again.decode(Session.self).csrf == session.csrf)
            let outWithoutToken = try await client.execute(uri: "/console/session", method: .delete, headers: [.cookie: cookie])
            #expect(outWithoutToken.status == .forbidden)
            let out = try await client.execute(
                uri: "/console/session", method: .delete, headers: [.cookie: cookie, HTTPField.Name("X-CSRF-Token")!: session.csrf])
            #expect(out.status == .noContent)
            #expect(out.headers[.setCookie]?.contains("Max-Age=0") == true)
            let after = try await client.execute(uri: "/v1/warnings", method: .get, headers: [.cookie: cookie])
            #expect(after.status == .unauthorized)
        }
        let actions = try await api.store.auditEntries(from: 0, limit: 1000).map(\.action)
        #expect(actions.contains("user.signed_in") && actions.contains("user.signed_out"))
    }

    @Test("a wrong password and an unknown user get the same 401; five wrong passwords lock the name for a while")
    func wrongPasswords() async throws {
        let api = try await APIHarness()
        try await addUser(api.store)
        let store = api.store
        let clock = api.clock
        try await api.test { client in
            let form = try await client.execute(
                uri: "/console/session", method: .post, headers: [.contentType: "text/plain"],
                body: ByteBuffer(string: #"{"username":"zhang3","password":"\#(Self.password)"}"#))
            #expect(form.status == .unsupportedMediaType, "a cross-site form cannot sign a browser in")
            let crossSite = try await client.execute(
                uri: "/console/session", method: .post,
                headers: [.contentType: "application/json", HTTPField.Name("Sec-Fetch-Site")!: "cross-site"],
                body: ByteBuffer(string: #"{"username":"zhang3","password":"\#(Self.password)"}"#))
            #expect(crossSite.status == .forbidden)
            let unknown = try await signIn(client, "nobody")
            let wrong = try await signIn(client, password: "not the password")
            #expect(unknown.status == .unauthorized && wrong.status == .unauthorized)
            #expect(unknown.errorCode == "bad_credentials" && unknown.errorDetail == wrong.errorDetail)
            #expect(unknown.headers[.setCookie] == nil)
            for _ in 0..<4 { _ = try await signIn(client, password: "not the password") }
            let locked = try await signIn(client)
            #expect(locked.status == .tooManyRequests && locked.errorCode == "too_many_attempts")
            #expect(Int(locked.headers[.retryAfter] ?? "") ?? 0 > 800)
            // Another name is not held up.
            try await addUser(store, "li4")
            #expect(try await signIn(client, "li4").status == .ok)
            // 15 minutes later the name may try again.
            clock.advance(by: 15 * 60 + 1)
            #expect(try await signIn(client).status == .ok)
        }
        let refused = try await api.store.auditEntries(from: 0, limit: 1000).filter { $0.action == "user.sign_in_refused" }
        #expect(refused.count == 7, "each wrong password is audited, and the locked attempt")
        #expect(refused.filter { $0.detail.contains("locked") }.count == 1)
        #expect(refused.allSatisfy { $0.detail.contains("127.0.0.1") }, "with the address it came from")
    }

    @Test("behind a trusted proxy the name locks per client address from X-Forwarded-For; without one the header counts for nothing")
    func behindProxy() async throws {
        let proxied = try await APIHarness { $0.server.trustedProxies = ["127.0.0.1"] }
        try await addUser(proxied.store)
        let statuses = try await proxied.test { client in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<6 { statuses.append(try await signIn(client, from: "203.0.113.9").status) }
            // Someone else behind the same proxy is not locked out by the guesses.
            statuses.append(try await signIn(client, from: "198.51.100.7").status)
            return statuses
        }
        #expect(statuses == Array(repeating: .unauthorized, count: 5) + [.tooManyRequests, .unauthorized])
        let audited = try await proxied.store.auditEntries(from: 0, limit: 1000).filter { $0.action == "user.sign_in_refused" }
        #expect(audited.filter { $0.detail.contains("203.0.113.9") }.count == 6)
        #expect(audited.filter { $0.detail.contains("198.51.100.7") }.count == 1)

        // No trusted proxy: the header is anyone's to write, and every attempt is the peer's.
        let direct = try await APIHarness()
        try await addUser(direct.store)
        let last = try await direct.test { client in
            for index in 0..<5 { _ = try await signIn(client, from: "203.0.113.\(index)") }
            return try await signIn(client, from: "203.0.113.99").status
        }
        #expect(last == .tooManyRequests, "five guesses from the peer, whatever the header said")
        let directAudit = try await direct.store.auditEntries(from: 0, limit: 1000).filter { $0.action == "user.sign_in_refused" }
        #expect(directAudit.allSatisfy { $0.detail.contains("127.0.0.1") && !$0.detail.contains("203.0.113") })
    }

    @Test("many addresses guessing one name are held to 50 in 15 minutes, except where it signed in before; a /64 is one address")
    func distributedGuessing() async throws {
        let proxied = try await APIHarness { $0.server.trustedProxies = ["127.0.0.1"] }
        try await addUser(proxied.store)
        try await addUser(proxied.store, "li4")
        let clock = proxied.clock
        try await proxied.test { client in
            // The leader signs in at the desk first: that address stays open to the name below.
            let desk = try await client.execute(
                uri: "/console/session", method: .post,
                headers: [.contentType: "application/json", HTTPField.Name("X-Forwarded-For")!: "192.0.2.10"],
                body: ByteBuffer(string: #"{"username":"zhang3","password":"\#(Self.password)"}"#))
            #expect(desk.status == .ok)
            // One subscriber's /64: five guesses from five of its addresses lock the sixth.
            for host in 1...5 { #expect(try await signIn(client, from: "2001:db8:0:7::\(host)").status == .unauthorized) }
            #expect(try await signIn(client, from: "2001:db8:0:7::99").status == .tooManyRequests)
            #expect(try await signIn(client, from: "2001:db8:0:8::1").status == .unauthorized, "the next /64 is someone else")
            // Forty-four more from ten IPv4 addresses reach 50 for the name...
            for index in 0..<44 { _ = try await signIn(client, from: "198.51.100.\(index % 10)") }
            // ...after which a fresh address is refused too, and says so.
            let everywhere = try await signIn(client, from: "203.0.113.200")
            #expect(everywhere.status == .tooManyRequests && everywhere.errorCode == "too_many_attempts")
            #expect(everywhere.errorDetail?.contains("many places") == true, "\(everywhere.errorDetail ?? "")")
            // The desk the leader signed in from is not locked out by the crowd.
            let again = try await client.execute(
                uri: "/console/session", method: .post,
                headers: [.contentType: "application/json", HTTPField.Name("X-Forwarded-For")!: "192.0.2.10"],
                body: ByteBuffer(string: #"{"username":"zhang3","password":"\#(Self.password)"}"#))
            #expect(again.status == .ok, "\(again.errorDetail ?? "")")
            // Another name is not held up, and after 15 minutes the name may try again.
            #expect(try await signIn(client, "li4").status == .ok)
            clock.advance(by: 15 * 60 + 1)
            #expect(try await signIn(client, from: "203.0.113.200").status == .unauthorized)
        }
        let refused = try await proxied.store.auditEntries(from: 0, limit: 1000).filter { $0.action == "user.sign_in_refused" }
        #expect(refused.filter { $0.detail.contains("locked everywhere") }.count == 1)
    }

    @Test("a new password, or removing the account, ends its sessions")
    func sessionsEnd() async throws {
        let api = try await APIHarness()
        try await addUser(api.store)
        let store = api.store
        try await api.test { client in
            let first = cookie(try await signIn(client))
            #expect(try await client.execute(uri: "/console/session", method: .get, headers: [.cookie: first]).status == .ok)
            try await addUser(store, password: "a new password 2")
            #expect(try await client.execute(uri: "/console/session", method: .get, headers: [.cookie: first]).status == .unauthorized)
            #expect(try await signIn(client).status == .unauthorized, "the old password no longer works")
            let second = cookie(try await signIn(client, password: "a new password 2"))
            #expect(
                try await store.removeConsoleUser(
                    username: "zhang3", audit: AuditEvent(actor: .test, action: .userRemoved, subject: "zhang3")))
            #expect(try await client.execute(uri: "/v1/warnings", method: .get, headers: [.cookie: second]).status == .unauthorized)
            #expect(try await signIn(client, password: "a new password 2").status == .unauthorized)
        }
    }

    struct Matches: Decodable {
        var regions: [Match]
        struct Match: Decodable {
            var code: String
            var name: String
        }
    }

    @Test("the area picker finds divisions by name or code, only within the person's scope")
    func regionSearch() async throws {
        let api = try await APIHarness()
        try await addUser(api.store)
        try await api.test { client in
            let cookie = cookie(try await signIn(client))
            let byName = try await client.execute(
                uri: "/console/regions?q=%E9%95%BF%E6%B2%99%E5%8E%BF", method: .get, headers: [.cookie: cookie])
            let names = try byName.decode(Matches.self).regions
            #expect(names.first?.code == "430121", "长沙县 first: \(names.map(\.code))")
            #expect(names.contains { $0.code == "430121001" && $0.name == "长沙县第1乡镇" })
            let byCode = try await client.execute(uri: "/console/regions?q=4301", method: .get, headers: [.cookie: cookie])
            let codes = try byCode.decode(Matches.self).regions.map(\.code)
            #expect(codes.first == "430121" && codes.contains("430121001"), "the county and what lies in it: \(codes)")
            #expect(!codes.contains("430100") && !codes.contains("430102"), "nothing the county bureau may not warn: \(codes)")
            let empty = try await client.execute(uri: "/console/regions?q=", method: .get, headers: [.cookie: cookie])
            #expect(empty.status == .badRequest && empty.errorCode == "invalid_query")
            let places = try await client.execute(
                uri: "/console/places?codes=430121,430102,430121001", method: .get, headers: [.cookie: cookie])
            let placed = try places.decode(Places.self).places
            #expect(placed.map(\.code) == ["430121", "430121001"], "430102 is outside the scope")
            #expect(placed.first?.longitude == 113.081097 && placed.first?.latitude == 28.246918)
            #expect(placed.last?.longitude == nil, "no coordinates for a generated township")
            let badCodes = try await client.execute(uri: "/console/places?codes=43012x", method: .get, headers: [.cookie: cookie])
            #expect(badCodes.status == .badRequest && badCodes.errorCode == "invalid_query")
            let anonymous = try await client.execute(uri: "/console/regions?q=4301", method: .get)
            #expect(anonymous.status == .unauthorized)
        }
    }

    struct Places: Decodable {
        var places: [Place]
        struct Place: Decodable {
            var code: String
            var longitude: Double?
            var latitude: Double?
        }
    }

    struct PreviewAnswer: Decodable {
        var level: String
        var preview: Preview
        struct Preview: Decodable {
            var loudspeaker: String
            var sms: String
            var emailSubject: String
            var emailBody: String
        }
    }

    @Test("a preview shows each channel's text, stores nothing, and refuses what the intake refuses")
    func preview() async throws {
        let api = try await APIHarness()
        let issuer = try await api.token(.issuer, department: "csx-weather")
        try await api.test { client in
            let answer = try await client.execute(
                uri: "/v1/previews", method: .post,
                headers: [.authorization: "Bearer \(issuer)", .contentType: "application/cap+xml"],
                body: ByteBuffer(data: TestSupport.fixture("rainstorm-red-csx.xml")))
            #expect(answer.status == .ok)
            let preview = try answer.decode(PreviewAnswer.self)
            #expect(preview.level == "red")
            #expect(preview.preview.loudspeaker == "长沙县气象局发布暴雨红色预警信号。停止集会、停课、停业；转移危险地带人员。")
            #expect(preview.preview.sms == "【长沙县气象局】" + preview.preview.loudspeaker)
            #expect(preview.preview.emailSubject == "【红色预警】长沙县气象局发布暴雨红色预警信号")
            #expect(preview.preview.emailBody.contains("防御指南：停止集会"))
            let listed = try await client.get("/v1/warnings", token: issuer)
            #expect(try listed.decode(Listing.self).count == 0, "nothing stored")
            let refused = try await client.execute(
                uri: "/v1/previews", method: .post,
                headers: [.authorization: "Bearer \(issuer)", .contentType: "application/cap+xml"],
                body: ByteBuffer(string: "<alert>"))
            #expect(refused.status == .badRequest && refused.errorCode == "malformed_xml")
        }
    }
}
