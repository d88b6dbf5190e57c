import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOFoundationEssentialsCompat
import WarncastConfig
import WarncastCore
import WarncastDispatch
import WarncastServer
import WarncastStore
import WarncastTestSupport

/// An application on an in-memory store with the example registries, a fixed clock and a
/// few tokens, served on a loopback port for each test (`TestServer`).
struct APIHarness {
    let store: SQLiteStore
    let parts: ApplicationParts
    let routes = RouteTable()
    let clock = TestClock()
    let router: Router<WarncastRequestContext>

    init(
        maxBodyBytes: Int? = nil, releases: (any ReleaseSubscriber)? = nil, adapters: AdapterRegistry = .standard,
        callbackTokens: CallbackToken? = nil, recipientSecrets: RecipientSecrets? = nil,
        configure: (inout WarncastConfiguration) -> Void = { _ in }
    ) async throws {
        var configuration = try TestSupport.exampleConfiguration()
        if let maxBodyBytes { configuration.server.maxBodyBytes = maxBodyBytes }
        configure(&configuration)
        store = try await TestSupport.loadedStore()
        try await Bootstrap.saveUpstreamDepartments(configuration, into: store, actor: .test)
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        parts = ApplicationParts(
            configuration: configuration, store: store, logger: logger, now: clock.now,
            releaseSubscribers: releases.map { [$0] }, callbackTokens: callbackTokens, adapters: adapters,
            recipientSecrets: recipientSecrets)
        router = buildRouter(parts, routes: routes)
    }

    func test<Value: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        try await TestServer.run(router, logger: parts.logger, body)
    }

    func token(
        _ role: Role, department: String? = nil, region: String? = nil, name: String? = nil, approvalRole: String? = nil
    ) async throws -> String {
        try await TestSupport.token(
            store, role: role, department: department, region: region, name: name, approvalRole: approvalRole)
    }
}

extension TestClientProtocol {
    /// POSTs a fixture file with the content type its extension implies.
    func submit(_ fixture: String, token: String?, contentType: String? = nil) async throws -> TestResponse {
        let type = contentType ?? (fixture.hasSuffix(".json") ? "application/json" : "application/cap+xml")
        return try await submit(TestSupport.fixture(fixture), token: token, contentType: type)
    }

    func submit(_ body: Data, token: String?, contentType: String) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: contentType]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await execute(uri: "/v1/warnings", method: .post, headers: headers, body: ByteBuffer(data: body))
    }

    func post(_ uri: String, token: String?, json: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        if json != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: .post, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }

    func get(_ uri: String, token: String?) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await execute(uri: uri, method: .get, headers: headers)
    }
}

extension TestResponse {
    /// The body decoded as JSON into `T`.
    func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(buffer: body))
    }

    /// The `error` code of an error response.
    var errorCode: String? {
        (try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: String])?["error"]
    }

    /// The `detail` of an error response.
    var errorDetail: String? {
        (try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: String])?["detail"]
    }
}

/// The body of a 201 / 200 answer to a submission.
struct Accepted: Decodable {
    var id: String
    var status: String
    var location: String
    var duplicate: Bool
}

struct DecisionBody: Decodable {
    var id: String
    var status: WarningStatus
    var outcome: String
    var approval: ApprovalState?
    var replaced: [String]
}

struct PendingBody: Decodable {
    var pending: [Warning]
    var count: Int
}

struct Listing: Decodable {
    var warnings: [Warning]
    var count: Int
}
