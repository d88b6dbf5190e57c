import Foundation
import GRDB
import Testing
import WarncastConfig
import WarncastCore
import WarncastStore
import WarncastTestSupport

@Suite("The SQLite store")
struct SQLiteStoreTests {
    @Test("an accepted warning is stored with its raw message byte for byte, and read back")
    func acceptAndRead() async throws {
        let store = try await TestSupport.loadedStore()
        let principal = try await TestSupport.principal(store, try await TestSupport.token(store, role: .issuer, department: "csx-weather"))
        let acceptance = try await TestSupport.accept("rainstorm-red-csx.xml", into: store, as: principal)
        guard case .created(let warning) = acceptance else {
            Issue.record("expected a new warning")
            return
        }
        #expect(warning.status == .pendingApproval)
        #expect(try await store.warning(id: warning.id) == warning)
        let raw = try #require(try await store.rawMessage(id: warning.id))
        #expect(raw.data == TestSupport.fixture("rainstorm-red-csx.xml"))
        #expect(raw.format == .xml)
    }

    @Test("the identical message again is a duplicate; the same identifier with new content conflicts")
    func idempotency() async throws {
        let store = try await TestSupport.loadedStore()
        let principal = try await TestSupport.principal(store, try await TestSupport.token(store, role: .issuer, department: "csx-weather"))
        let first = try await TestSupport.accept("rainstorm-red-csx.xml", into: store, as: principal)
        let again = try await TestSupport.accept("rainstorm-red-csx.xml", into: store, as: principal)
        guard case .duplicate(let duplicate) = again else {
            Issue.record("expected a duplicate")
            return
        }
        #expect(duplicate.id == first.warning.id)
        await #expect(throws: IntakeError.identifierConflict("csx-weather-20260701-0001")) {
            _ = try await TestSupport.accept("refuse-identifier-conflict.xml", into: store, as: principal)
        }
        let all = try await store.warnings(WarningQuery(visibleTo: RegionCode("430000")!))
        #expect(all.count == 1)
    }

    @Test("unknown regions and references are refused inside the transaction")
    func referentialChecks() async throws {
        let store = try await TestSupport.loadedStore()
        let principal = try await TestSupport.principal(store, try await TestSupport.token(store, role: .issuer, department: "csx-weather"))
        await #expect(throws: IntakeError.unknownRegion(["430121099"])) {
            _ = try await TestSupport.accept("refuse-unknown-region.xml", into: store, as: principal)
        }
        await #expect(throws: IntakeError.self) {
            _ = try await TestSupport.accept("refuse-update-unknown-reference.xml", into: store, as: principal)
        }
        _ = try await TestSupport.accept("rainstorm-red-csx.xml", into: store, as: principal)
        let update = try await TestSupport.accept("update-csx.xml", into: store, as: principal)
        #expect(update.warning.references.first?.identifier == "csx-weather-20260701-0001")
    }

    @Test("another department cannot update a warning it did not issue")
    func referenceOwnership() async throws {
        let store = try await TestSupport.loadedStore()
        let county = try await TestSupport.principal(store, try await TestSupport.token(store, role: .issuer, department: "csx-weather"))
        let city = try await TestSupport.principal(store, try await TestSupport.token(store, role: .issuer, department: "cs-weather"))
        _ = try await TestSupport.accept("rainstorm-red-csx.xml", into: store, as: county)
        // Under the county's sender the city is refused at once; under its own, for the reference.
        await #expect(throws: IntakeError.senderNotAllowed(sender: "csx-weather@warncast.example", department: "cs-weather")) {
            _ = try await TestSupport.accept("update-csx.xml", into: store, as: city)
        }
        await #expect(
            throws: IntakeError.referenceNotOwned("csx-weather@warncast.example,csx-weather-20260701-0001,2026-07-01T08:00:00+08:00")
        ) {
            _ = try await TestSupport.accept(
                "update-csx.xml", into: store, as: city,
                replacing: ["<sender>csx-weather@": "<sender>cs-weather@"])
        }
    }

    @Test("listing is scoped to the caller's region and filtered by level, status, region and time")
    func listing() async throws {
        let store = try await TestSupport.loadedStore()
        let principal = try await TestSupport.principal(store, try await TestSupport.token(store, role: .issuer, department: "csx-weather"))
        _ = try await TestSupport.accept("rainstorm-red-csx.xml", into: store, as: principal)
        func count(_ query: WarningQuery) async throws -> Int { try await store.warnings(query).count }
        #expect(try await count(WarningQuery(visibleTo: RegionCode("430000")!)) == 1)
        #expect(try await count(WarningQuery(visibleTo: RegionCode("430121001003")!)) == 1)
        #expect(try await count(WarningQuery(visibleTo: RegionCode("430102")!)) == 0)
        #expect(try await count(WarningQuery(visibleTo: RegionCode("420000")!)) == 0)
        #expect(try await count(WarningQuery(level: .red, visibleTo: RegionCode("430000")!)) == 1)
        #expect(try await count(WarningQuery(level: .blue, visibleTo: RegionCode("430000")!)) == 0)
        #expect(try await count(WarningQuery(status: .released, visibleTo: RegionCode("430000")!)) == 0)
        #expect(try await count(WarningQuery(region: RegionCode("430121003")!, visibleTo: RegionCode("430000")!)) == 0)
        #expect(try await count(WarningQuery(since: TestSupport.now.addingTimeInterval(1), visibleTo: RegionCode("430000")!)) == 0)
    }

    @Test("tokens are stored as hashes, resolve to principals, and stop working when revoked")
    func tokens() async throws {
        let store = try await TestSupport.loadedStore()
        let secret = try await TestSupport.token(store, role: .auditor, region: "430100", name: "审计员")
        let principal = try #require(try await store.principal(secretHash: AccessToken.hash(secret), at: Date()))
        #expect(principal.role == .auditor && principal.scope == RegionCode("430100"))
        let listed = try await store.tokens()
        #expect(!listed.isEmpty)
        #expect(
            try await store.revokeToken(
                id: principal.tokenID, audit: AuditEvent(actor: .test, action: .tokenRevoked, subject: principal.tokenID)))
        #expect(try await store.principal(secretHash: AccessToken.hash(secret), at: Date()) == nil)
        #expect(
            try await store.revokeToken(
                id: principal.tokenID, audit: AuditEvent(actor: .test, action: .tokenRevoked, subject: principal.tokenID)) == false)
    }

    @Test("a department must sit in a known region; a token needs a known department")
    func registryIntegrity() async throws {
        let store = try await TestSupport.loadedStore()
        let stray = Department(id: "x", name: "X", kind: "weather", region: RegionCode("110101")!, events: ["rainstorm"])
        await #expect(throws: StoreError.unknownRegion("110101")) {
            try await store.saveDepartments([stray], audit: AuditEvent(actor: .test, action: .departmentSaved, subject: "x"))
        }
        await #expect(throws: StoreError.unknownDepartment("nobody")) {
            _ = try await TestSupport.token(store, role: .issuer, department: "nobody", region: "430000")
        }
    }
}

@Suite("Importing the registries")
struct RegistryImporterTests {
    @Test("the whole country's divisions import into the store")
    func wholeCountry() async throws {
        let store = try SQLiteStore.inMemory()
        let file = TestSupport.root.appendingPathComponent("config/divisions-cn.csv").path
        let count = try await RegistryImporter(store: store, actor: .test).importRegions(file: file, within: nil)
        #expect(count == 3225)
        #expect(try await store.regionCount() == 3225)
        #expect(try await store.region(RegionCode("650000")!)?.name == "新疆维吾尔自治区")
    }

    @Test("a file with a bad row imports nothing and names every bad line")
    func badFile() async throws {
        let store = try SQLiteStore.inMemory()
        let file = try TestSupport.temporaryDirectory().appendingPathComponent("regions.csv").path
        try "code,name,parent\n430000,湖南省,\n430100,长沙市,430000\n43012x,坏,430100\n430121,长沙县,420000\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        do {
            try await RegistryImporter(store: store, actor: .test).importRegions(file: file, within: nil)
            Issue.record("a bad file was imported")
        } catch let error as RegistryImporter.FileError {
            #expect(error.rows.map(\.line) == [4, 5])
            #expect(error.description.contains("regions.csv:4: '43012x' is not a division code"))
        }
        #expect(try await store.regionCount() == 0)
    }

    @Test("an import records each recipient it changes or brings back, with before and after; added ones are counted")
    func importAudited() async throws {
        let store = try await TestSupport.loadedStore()
        let directory = try TestSupport.temporaryDirectory()
        let header = "id,channel,region,name,address,secret,options\n"
        let first = directory.appendingPathComponent("first.csv").path
        try (header + "ls-a,loudspeaker,430121001001,甲,http://10.0.0.1/a,,\nls-b,loudspeaker,430121001002,乙,http://10.0.0.2/b,,\n")
            .write(toFile: first, atomically: true, encoding: .utf8)
        let importer = RegistryImporter(store: store, actor: .test)
        #expect(try await importer.importRecipients(file: first, channels: ["loudspeaker"]) == 2)
        #expect(
            try await store.removeRecipient(
                id: "ls-b", within: nil, audit: AuditEvent(actor: .test, action: .recipientRemoved, subject: "ls-b")))
        let mark = try await store.auditEntries(from: 1, limit: 100_000).count
        // ls-a re-pointed, ls-b brought back unchanged otherwise, ls-c new.
        let second = directory.appendingPathComponent("second.csv").path
        try
            (header + "ls-a,loudspeaker,430121001001,甲,http://203.0.113.9/a,,\nls-b,loudspeaker,430121001002,乙,http://10.0.0.2/b,,\n"
            + "ls-c,loudspeaker,430121001003,丙,http://10.0.0.3/c,,\n").write(toFile: second, atomically: true, encoding: .utf8)
        #expect(try await importer.importRecipients(file: second, channels: ["loudspeaker"]) == 3)
        let entries = Array(try await store.auditEntries(from: 1, limit: 100_000).dropFirst(mark))
        let changed = entries.filter { $0.action == AuditAction.recipientChanged.name }
        #expect(changed.map(\.subject) == ["ls-a", "ls-b"])
        #expect(changed[0].detail.contains(#""address":"http:\/\/10.0.0.1\/a""#) || changed[0].detail.contains("10.0.0.1"))
        #expect(changed[0].detail.contains("203.0.113.9"))
        #expect(changed[1].detail.contains(#""active.new":"yes""#))
        let batch = try #require(entries.last)
        #expect(batch.action == AuditAction.recipientsImported.name)
        #expect(batch.detail.contains(#""added":"1""#) && batch.detail.contains(#""changed":"2""#), "\(batch.detail)")
        // The same file again changes nothing: no entry but the batch's.
        #expect(try await importer.importRecipients(file: second, channels: ["loudspeaker"]) == 3)
        let again = Array(try await store.auditEntries(from: 1, limit: 100_000).dropFirst(mark + entries.count))
        #expect(again.map(\.action) == [AuditAction.recipientsImported.name])
    }

    @Test("a department file naming an event its kind may not issue is refused with the line")
    func badDepartment() async throws {
        let store = try await TestSupport.loadedStore()
        let file = try TestSupport.temporaryDirectory().appendingPathComponent("departments.csv").path
        try "id,name,kind,region,events\nx-weather,某气象局,weather,430121,geological-hazard\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let catalogue = try TestSupport.exampleConfiguration().events
        do {
            try await RegistryImporter(store: store, actor: .test).importDepartments(file: file, catalogue: catalogue)
            Issue.record("a bad department was imported")
        } catch let error as RegistryImporter.FileError {
            #expect(error.rows.first?.line == 2)
            #expect(error.rows.first?.reason.contains("may not issue 'geological-hazard'") == true)
        }
    }

    @Test("a Test or Exercise message is delivered only to recipients marked test=yes; an Actual one to all of them")
    func testMessages() async throws {
        let store = try await TestSupport.loadedStore()
        let speakers = [("ls-real", ""), ("ls-test", "test=yes")].map { id, options in
            (
                recipient: Recipient(
                    id: id, channel: "loudspeaker", region: RegionCode("430121001001")!, name: id, address: "http://127.0.0.1:9/\(id)",
                    options: options.isEmpty ? [:] : ["test": "yes"]), secretHash: String?.none
            )
        }
        try await store.saveRecipients(speakers, audit: AuditEvent(actor: .test, action: .recipientsSaved, subject: "2"))
        let issuer = try await TestSupport.principal(store, try await TestSupport.token(store, role: .issuer, department: "csx-weather"))
        var planned: [String: Set<String>] = [:]
        for (status, identifier) in [("Test", "t-1"), ("Exercise", "t-2"), ("Actual", "t-3")] {
            let id = try await TestSupport.accept(
                "rainstorm-red-csx.xml", into: store, as: issuer, at: Date(),
                replacing: ["<status>Actual</status>": "<status>\(status)</status>", "csx-weather-20260701-0001": identifier]
            ).warning.id
            for (role, department, region) in [("duty-leader", "csx-weather", nil), ("government-leader", nil, "430121")]
                as [(String, String?, String?)]
            {
                let approver = try await TestSupport.principal(
                    store,
                    try await TestSupport.token(store, role: .approver, department: department, region: region, approvalRole: role))
                _ = try await store.decide(warningID: id, .approve, by: approver, reason: nil, at: Date(), routing: try TestSupport.routing)
            }
            #expect(try await store.warning(id: id)?.status == .released)
            planned[status] = Set(try await store.deliveries(warningID: id, state: nil, limit: 10).map(\.recipient))
        }
        #expect(planned["Test"] == ["ls-test"])
        #expect(planned["Exercise"] == ["ls-test"])
        #expect(planned["Actual"] == ["ls-real", "ls-test"])
    }

    @Test("a BLOCKCHANNEL parameter keeps the warning off that channel, and the audit log says so")
    func blockChannel() async throws {
        let store = try await TestSupport.loadedStore()
        let recipients = [("ls-1", "loudspeaker", "http://127.0.0.1:9/ls-1"), ("sms-1", "sms-duty", "13800000001")].map {
            id, channel, address in
            (
                recipient: Recipient(id: id, channel: channel, region: RegionCode("430121001001")!, name: id, address: address),
                secretHash: String?.none
            )
        }
        try await store.saveRecipients(recipients, audit: AuditEvent(actor: .test, action: .recipientsSaved, subject: "2"))
        let routing = DeliveryRouting(byLevel: [.red: ["loudspeaker", "sms-duty"]])
        let issuer = try await TestSupport.principal(store, try await TestSupport.token(store, role: .issuer, department: "csx-weather"))
        let blocked = "<parameter><valueName>BLOCKCHANNEL</valueName><value>sms-duty</value></parameter>"
        let id = try await TestSupport.accept(
            "rainstorm-red-csx.xml", into: store, as: issuer, at: Date(), routing: routing,
            replacing: ["<area>": blocked + "<parameter><valueName>BLOCKCHANNEL</valueName><value>CMAS</value></parameter><area>"]
        ).warning.id
        for (role, department, region) in [("duty-leader", "csx-weather", nil), ("government-leader", nil, "430121")]
            as [(String, String?, String?)]
        {
            let approver = try await TestSupport.principal(
                store, try await TestSupport.token(store, role: .approver, department: department, region: region, approvalRole: role))
            _ = try await store.decide(warningID: id, .approve, by: approver, reason: nil, at: Date(), routing: routing)
        }
        #expect(try await store.deliveries(warningID: id, state: nil, limit: 10).map(\.channel) == ["loudspeaker"])
        let entry = try #require(try await store.auditEntries(subject: id.rawValue).first { $0.action == "channels.blocked" })
        #expect(entry.detail.contains("sms-duty") && entry.detail.contains("CMAS"), "\(entry.detail)")
    }
}
