import Foundation
import Logging
import Synchronization
import WarncastConfig
import WarncastCore
import WarncastStore

/// Paths and builders shared by the test targets.
public enum TestSupport {
    /// The repository's root directory.
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static let fixtures = root.appendingPathComponent("Tests/Fixtures")
    public static let exampleConfig = root.appendingPathComponent("config/warncast.example.yaml").path

    /// The test clock: 2026-07-02 00:00 China time, after every fixture was sent.
    public static let now = CAPTime.parse("2026-07-02T00:00:00+08:00")!

    public static func fixture(_ name: String) -> Data {
        guard let data = FileManager.default.contents(atPath: fixtures.appendingPathComponent(name).path) else {
            fatalError("missing fixture \(name)")
        }
        return data
    }

    /// The example configuration, as shipped.
    public static func exampleConfiguration() throws -> WarncastConfiguration {
        try ConfigLoader.load(path: exampleConfig)
    }

    /// A fresh temporary directory.
    public static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("warncast-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The example configuration's routing of warnings to channels.
    public static var routing: DeliveryRouting {
        get throws { try exampleConfiguration().dispatch.routing }
    }

    /// An in-memory store loaded with the example registries.
    public static func loadedStore() async throws -> SQLiteStore {
        let store = try SQLiteStore.inMemory()
        try await load(store)
        return store
    }

    /// Loads the example configuration's regions and departments into `store`.
    public static func load(_ store: any Store) async throws {
        let configuration = try exampleConfiguration()
        let importer = RegistryImporter(store: store, actor: .test)
        for source in configuration.registries.regions {
            try await importer.importRegions(file: source.path, within: source.within)
        }
        try await importer.importDepartments(file: configuration.registries.departments!, catalogue: configuration.events)
    }

    /// Creates a token in `store` and returns its secret.
    public static func token(
        _ store: any Store, role: Role, department: String? = nil, region: String? = nil, name: String? = nil,
        approvalRole: String? = nil
    ) async throws -> String {
        let token = AccessToken.generate()
        var scope = region.flatMap(RegionCode.init)
        if let department, let found = try await store.department(id: department) { scope = found.region }
        let grant = TokenGrant(
            id: token.id, name: name ?? "holder of \(token.id)", role: role, departmentID: department, region: scope!,
            createdAt: Timestamp(Date()), approvalRole: approvalRole)
        try await store.createToken(
            grant, secretHash: AccessToken.hash(token.secret),
            audit: AuditEvent(actor: .test, action: .tokenCreated, subject: token.id))
        return token.secret
    }

    /// Checks `fixture` (CAP XML) as submitted by `principal` and stores it under the example
    /// configuration's approval rules, as the intake does, planning deliveries by `routing`
    /// (by default the example configuration's).
    public static func accept(
        _ fixture: String, into store: any Store, as principal: Principal, at date: Date = now,
        routing: DeliveryRouting? = nil, replacing: [String: String] = [:], adjust: (inout WarningDraft) -> Void = { _ in }
    ) async throws -> Acceptance {
        let configuration = try exampleConfiguration()
        var text = String(decoding: self.fixture(fixture), as: UTF8.self)
        for (old, new) in replacing { text = text.replacingOccurrences(of: old, with: new) }
        let data = Data(text.utf8)
        var draft = try IntakeCheck(catalogue: configuration.events)
            .check(try CAPReader.readXML(data), raw: data, format: .xml, principal: principal, now: date)
        adjust(&draft)
        var replaced: [Warning] = []
        for reference in draft.references {
            if let warning = try await store.warning(sender: reference.sender, identifier: reference.identifier) {
                replaced.append(warning)
            }
        }
        let subject = ApprovalSubject(draft: draft, department: principal.department!, replaced: replaced, at: date)
        let plan = ApprovalPlan(rule: configuration.approval.rules.rule(for: subject)!, submittedAt: date)
        return try await store.accept(draft, plan: plan, by: principal, at: date, routing: routing ?? configuration.dispatch.routing)
    }

    /// The principal a token's secret stands for.
    /// The county weather bureau's issuer, without a store.
    public static let countyWeather = Principal(
        tokenID: "tok_test", name: "值班员", role: .issuer,
        department: Department(
            id: "csx-weather", name: "长沙县气象局", kind: "weather", region: RegionCode("430121")!,
            events: ["rainstorm", "gale", "heat", "thunderstorm"]),
        region: RegionCode("430121")!)

    /// `fixture` (by default the county's red rainstorm warning) checked as the county weather
    /// bureau's and made a warning with `id`, without a store.
    public static func countyWarning(
        id: Warning.ID = "w1", fixture: String = "rainstorm-red-csx.xml", status: WarningStatus = .released, receivedAt: Date = now
    ) throws -> Warning {
        let data = Self.fixture(fixture)
        let draft = try IntakeCheck(catalogue: try exampleConfiguration().events)
            .check(try CAPReader.readXML(data), raw: data, format: .xml, principal: countyWeather, now: now)
        return Warning(id: id, status: status, draft: draft, submittedBy: countyWeather, receivedAt: receivedAt)
    }

    public static func principal(_ store: any Store, _ secret: String) async throws -> Principal {
        try await store.principal(secretHash: AccessToken.hash(secret), at: Date())!
    }
}

/// A clock tests can move: pass `clock.now` where a `now` closure is taken.
public final class TestClock: Sendable {
    private let current: Mutex<Date>

    public init(_ start: Date = TestSupport.now) {
        current = Mutex(start)
    }

    public var now: @Sendable () -> Date { { self.current.withLock { $0 } } }

    public func advance(by seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}

/// A clock that runs with the real one and can be moved ahead of it, for code that also
/// sleeps in real time (a dispatcher's backoffs): a test lets it run, then jumps past a
/// warning's expiry instead of waiting for it on a machine that may be slow.
public final class ShiftedClock: Sendable {
    private let shift = Mutex<TimeInterval>(0)

    public init() {}

    public var now: @Sendable () -> Date { { Date().addingTimeInterval(self.shift.withLock { $0 }) } }

    public func advance(by seconds: TimeInterval) {
        shift.withLock { $0 += seconds }
    }
}

extension AuditActor {
    /// Whoever sets up a test's fixtures.
    public static let test = AuditActor(name: "test")
}
