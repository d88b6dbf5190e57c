import Foundation
import HTTPTypes
import Logging
import NIOCore
import Synchronization
import Testing
import WarncastConfig
import WarncastCore
import WarncastDispatch
import WarncastNet
import WarncastServer
import WarncastStore
import WarncastTestSupport

@Suite("Adding a channel adapter")
struct NewChannelTests {
    @Test("a new adapter with its own delivery callback is one file and one registry line; the receipt route comes with it")
    func pagerChannel() async throws {
        // The one line: this build's adapters plus the pager.
        let adapters = AdapterRegistry.standard.adding(PagerAdapter.registration)
        let keyring = SigningKeyring.generate()
        let pager = ChannelSettings(name: "pager", adapter: "pager", retry: RetryPolicy(maxAttempts: 2, initialDelay: 0.05))
        let api = try await APIHarness(adapters: adapters, callbackTokens: try keyring.callbackTokens()) { configuration in
            configuration.dispatch.channels["pager"] = pager
            configuration.dispatch.routing.byLevel[.red] = ["pager"]
        }
        try await api.store.saveRecipients(
            [(Recipient(id: "pager-1", channel: "pager", region: RegionCode("430121001001")!, name: "村支书", address: "PG-1001"), nil)],
            audit: AuditEvent(actor: .test, action: .recipientsSaved, subject: "pager-1"))
        let warning = try await release(into: api)

        // The gateway takes the page; the callback URL it was given is kept to call back with.
        let callback = Mutex<String?>(nil)
        let gateway = LoopbackTransport { request in
            let page = try JSONDecoder().decode([String: String].self, from: request.body ?? Data())
            callback.withLock { $0 = page["callback"] }
            return HTTPResult(status: 202, body: Data())
        }
        let store = api.store
        try await dispatch(store, configuration: .init(channels: [pager], adapters: adapters), transport: gateway, keyring: keyring) {
            try await store.deliverySummary(warningID: warning)[.accepted] == 1
        }
        let url = try #require(callback.withLock { $0 })
        let uri = try #require(url.range(of: PagerReports.path)).lowerBound
        let path = String(url[uri...])

        try await api.test { client in
            let forged = try await client.post(path.replacingOccurrences(of: "t=", with: "t=0"), token: nil, json: #"{"status":"read"}"#)
            #expect(forged.status == .forbidden)
            let unreadable = try await client.post(path, token: nil, json: #"{"colour":"blue"}"#)
            #expect(unreadable.status == .badRequest)
            let read = try await client.post(path, token: nil, json: #"{"status":"read"}"#)
            #expect(read.status == .ok)
            #expect(String(buffer: read.body).contains(#""applied":true"#))
        }
        let delivery = try #require(try await api.store.deliveries(warningID: warning, state: nil, limit: 10).first)
        #expect(delivery.state == .delivered)
        #expect(delivery.lastStatus == 202, "the gateway's answer is kept beside its report")
        #expect(try await api.store.reports(warningID: warning, limit: 10).map(\.detail) == ["pager: read"])
    }

    /// Accepts the county's red rainstorm warning and has both leaders approve it, which
    /// releases it on the harness's routing.
    private func release(into api: APIHarness) async throws -> Warning.ID {
        let store = api.store
        let issuer = try await TestSupport.principal(store, try await api.token(.issuer, department: "csx-weather"))
        let id = try await TestSupport.accept("rainstorm-red-csx.xml", into: store, as: issuer, at: Date(), routing: api.parts.routing)
            .warning.id
        for (role, department, region) in [("duty-leader", "csx-weather", nil), ("government-leader", nil, "430121")]
            as [(String, String?, String?)]
        {
            let approver = try await TestSupport.principal(
                store, try await api.token(.approver, department: department, region: region, approvalRole: role))
            _ = try await store.decide(warningID: id, .approve, by: approver, reason: nil, at: Date(), routing: api.parts.routing)
        }
        #expect(try await store.warning(id: id)?.status == .released)
        return id
    }

    private func dispatch(
        _ outbox: any Outbox, configuration: DispatchService.Configuration, transport: any Transport, keyring: SigningKeyring,
        until done: @Sendable () async throws -> Bool
    ) async throws {
        var logger = Logger(label: "pager-test")
        logger.logLevel = .critical
        let service = try DispatchService(
            outbox: outbox, configuration: configuration, transport: transport, signer: try keyring.signer(),
            callbacks: CallbackSettings(base: "http://127.0.0.1:8080", tokens: try keyring.callbackTokens()), logger: logger)
        let running = Task { try await service.run() }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, try await !done() {
            try await Task.sleep(for: .milliseconds(20))
        }
        running.cancel()
        _ = await running.result
        #expect(try await done())
    }
}
