import Crypto
import Foundation
import Logging
import WarncastConfig
import WarncastCore
import WarncastDispatch
import WarncastNet
import WarncastStore
import WarncastTestSupport

/// A store routing red, orange and yellow warnings to loudspeakers, a fleet of loopback
/// loudspeakers trusting this harness's key, and a dispatcher to run against them.
struct DispatchHarness {
    let store: SQLiteStore
    let routing: DeliveryRouting
    let fleet: LoudspeakerFleet
    let keyring = SigningKeyring.generate()
    /// The dispatcher's clock: real time, which a test may move ahead (past an expiry).
    let clock = ShiftedClock()
    var channel = WarncastConfiguration.Channel(
        name: "loudspeaker", adapter: "loudspeaker", concurrency: 64, connectTimeoutMilliseconds: 1000,
        timeoutMilliseconds: 2000, retry: RetryPolicy(maxAttempts: 4, initialDelay: 0.05, maxDelay: 0.2),
        breakerFailures: 100, breakerCooldown: 30)

    /// More channels beside `loudspeaker` (red warnings go out on them too), and gateways.
    var extraChannels: [WarncastConfiguration.Channel] = []
    var gateways: [String: Int] = [:]

    /// `planningStep`: recipients per planning step of a release (the store's default if nil).
    init(
        extraChannels: [WarncastConfiguration.Channel] = [], gateways: [String: Int] = [:], planningStep: Int? = nil,
        configure: (inout WarncastConfiguration.Channel) -> Void = { _ in }
    ) async throws {
        configure(&channel)
        self.extraChannels = extraChannels
        self.gateways = gateways
        routing = DeliveryRouting(byLevel: [
            .red: ["loudspeaker"] + extraChannels.map(\.name), .orange: ["loudspeaker"], .yellow: ["loudspeaker"],
        ])
        var store = try SQLiteStore.inMemory()
        if let planningStep { store.planningStep = planningStep }
        self.store = store
        try await TestSupport.load(store)
        fleet = try await LoudspeakerFleet()
        fleet.trust(publicKey: try keyring.signer().publicKey.rawRepresentation)
    }

    /// Registers `count` loudspeakers in the villages under `township`, named `<township>-<n>`.
    @discardableResult
    func addSpeakers(_ count: Int, in township: String, secret: String? = nil, channel: String = "loudspeaker") async throws -> [String] {
        var rows: [(recipient: Recipient, secretHash: String?)] = []
        for index in 1...count {
            let village = RegionCode("\(township)\(String(format: "%03d", (index - 1) % 10 + 1))")!
            let name = channel == "loudspeaker" ? "\(township)-\(index)" : "\(channel)-\(township)-\(index)"
            rows.append(
                (
                    Recipient(id: "ls-\(name)", channel: channel, region: village, name: "大喇叭 \(name)", address: fleet.url(name)),
                    secret.map(AccessToken.hash)
                ))
        }
        try await store.saveRecipients(rows, audit: AuditEvent(actor: .test, action: .recipientsSaved, subject: township))
        return rows.map { $0.recipient.id }
    }

    /// Accepts `fixture` as the county weather bureau and has it approved, which releases it.
    func release(_ fixture: String, adjust: (inout WarningDraft) -> Void = { _ in }) async throws -> Warning.ID {
        let issuer = try await TestSupport.principal(
            store, try await TestSupport.token(store, role: .issuer, department: "csx-weather", name: "值班员"))
        let accepted = try await TestSupport.accept(fixture, into: store, as: issuer, at: Date(), routing: routing, adjust: adjust).warning
        var approvers: [(String, String?, String?)] = [("duty-leader", "csx-weather", nil)]
        if accepted.level >= .orange { approvers.append(("government-leader", nil, "430121")) }
        for (role, department, region) in approvers where try await store.warning(id: accepted.id)?.status == .pendingApproval {
            let approver = try await TestSupport.principal(
                store, try await TestSupport.token(store, role: .approver, department: department, region: region, approvalRole: role))
            _ = try await store.decide(warningID: accepted.id, .approve, by: approver, reason: nil, at: Date(), routing: routing)
        }
        return accepted.id
    }

    func dispatcher(transport: any Transport) throws -> DispatchService {
        var logger = Logger(label: "dispatch-test")
        logger.logLevel = .critical
        return try DispatchService(
            outbox: store, configuration: .init(channels: [channel] + extraChannels, gateways: gateways, routing: routing),
            transport: transport,
            signer: try keyring.signer(),
            callbacks: CallbackSettings(base: "http://127.0.0.1:9", tokens: try keyring.callbackTokens()), logger: logger,
            now: clock.now)
    }

    /// Runs a dispatcher until `done` holds (checked every 50 ms, for `seconds` at most).
    @discardableResult
    func dispatch(for seconds: Double = 20, until done: @escaping @Sendable () async throws -> Bool) async throws -> Bool {
        let engine = CurlEngine()
        let service = try dispatcher(transport: engine)
        let running = Task { try await service.run() }
        defer {
            running.cancel()
            engine.shutdown()
        }
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await done() {
                running.cancel()
                _ = await running.result
                return true
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        running.cancel()
        _ = await running.result
        return false
    }

    func summary(_ warning: Warning.ID) async throws -> [DeliveryState: Int] {
        try await store.deliverySummary(warningID: warning)
    }
}
