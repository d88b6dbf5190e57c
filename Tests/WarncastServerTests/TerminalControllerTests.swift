import Foundation
import HTTPTypes
import NIOCore
import NIOFoundationEssentialsCompat
import Testing
import WarncastCore
import WarncastServer
import WarncastStore
import WarncastTestSupport

@Suite("Broadcast terminals: heartbeats, who is offline before a release, playback reports")
struct TerminalControllerTests {
    /// Two loudspeakers in the two townships of the red fixture's area, each with a secret.
    static let speakers = """
        [{"id":"ls-a","channel":"loudspeaker","region":"430121001001","name":"一村大喇叭","address":"http://127.0.0.1:1/a","secret":"secret-a"},
         {"id":"ls-b","channel":"loudspeaker","region":"430121002001","name":"二村大喇叭","address":"http://127.0.0.1:1/b","secret":"secret-b"}]
        """

    struct Listed: Decodable {
        var terminals: [TerminalView]
        var online: Int
        var offline: Int
    }

    struct Pending: Decodable {
        struct Item: Decodable {
            var id: String
            var terminals: TerminalSummary?
        }
        var pending: [Item]
    }

    @Test("a heartbeat needs the terminal's own secret and sane fields; the list shows who is online and who never was")
    func heartbeats() async throws {
        let api = try await APIHarness()
        let operatorToken = try await api.token(.operator, region: "430121")
        let auditor = try await api.token(.auditor, region: "430000")
        let township = try await api.token(.auditor, region: "430121002")
        let clock = api.clock
        try await api.test { client in
            #expect(try await client.post("/v1/recipients", token: operatorToken, json: Self.speakers).status == .created)
            let beat = #"{"status":"normal","volume":80,"version":"warncast-receiver 1"}"#
            #expect(try await client.post("/v1/terminals/ls-a/heartbeat", token: nil, json: beat).status == .unauthorized)
            let forged = try await client.post("/v1/terminals/ls-a/heartbeat", token: "secret-b", json: beat)
            #expect(forged.status == .forbidden && forged.errorCode == "forged_terminal")
            let unknown = try await client.post("/v1/terminals/ls-zz/heartbeat", token: "secret-a", json: beat)
            #expect(unknown.status == .forbidden && unknown.errorCode == "forged_terminal", "an unknown id reads like a wrong secret")
            let loud = try await client.post("/v1/terminals/ls-a/heartbeat", token: "secret-a", json: #"{"status":"normal","volume":150}"#)
            #expect(loud.status == .unprocessableContent && loud.errorCode == "bad_heartbeat")
            let odd = try await client.post("/v1/terminals/ls-a/heartbeat", token: "secret-a", json: #"{"status":"asleep"}"#)
            #expect(odd.status == .badRequest && odd.errorCode == "malformed_json")
            #expect(try await client.post("/v1/terminals/ls-a/heartbeat", token: "secret-a", json: beat).status == .ok)

            let all = try await client.get("/v1/terminals", token: auditor).decode(Listed.self)
            #expect(all.online == 1 && all.offline == 1)
            let a = try #require(all.terminals.first { $0.id == "ls-a" })
            #expect(a.online && a.status == .normal && a.volume == 80 && a.version == "warncast-receiver 1")
            let b = try #require(all.terminals.first { $0.id == "ls-b" })
            #expect(!b.online && b.status == nil && b.lastSeenAt == nil)
            let offline = try await client.get("/v1/terminals?offline=true", token: auditor).decode(Listed.self)
            #expect(offline.terminals.map(\.id) == ["ls-b"])
            // Region-scoped: a township's reader sees only its own terminal, and cannot ask wider.
            #expect(try await client.get("/v1/terminals", token: township).decode(Listed.self).terminals.map(\.id) == ["ls-b"])
            #expect(try await client.get("/v1/terminals?region=430121", token: township).status == .badRequest)

            // Three missed heartbeats of 20 s: offline.
            clock.advance(by: 61)
            #expect(try await client.get("/v1/terminals?offline=true", token: auditor).decode(Listed.self).terminals.count == 2)
            // Switched off counts as offline at once.
            _ = try await client.post("/v1/terminals/ls-a/heartbeat", token: "secret-a", json: #"{"status":"off"}"#)
            #expect(try await client.get("/v1/terminals", token: auditor).decode(Listed.self).online == 0)
        }
    }

    @Test(
        "the approver sees the offline terminals and silent villages; the release records them; a playback report makes a delivery played and heard"
    )
    func beforeAndAfterRelease() async throws {
        let api = try await APIHarness()
        let operatorToken = try await api.token(.operator, region: "430121")
        let auditor = try await api.token(.auditor, region: "430000")
        let issuer = try await api.token(.issuer, department: "csx-weather", name: "发布员")
        let leader = try await api.token(.approver, department: "csx-weather", name: "带班领导", approvalRole: "duty-leader")
        let government = try await api.token(.approver, region: "430121", name: "副县长", approvalRole: "government-leader")
        let (store, clock) = (api.store, api.clock)
        try await api.test { client in
            #expect(try await client.post("/v1/recipients", token: operatorToken, json: Self.speakers).status == .created)
            _ = try await client.post("/v1/terminals/ls-a/heartbeat", token: "secret-a", json: #"{"status":"normal"}"#)
            let red = try await client.submit("rainstorm-red-csx.xml", token: issuer).decode(Accepted.self)
            // A second warning for the same areas: counted once for the list, shown for both.
            let sameAreas = Data(
                String(decoding: TestSupport.fixture("rainstorm-red-csx.xml"), as: UTF8.self)
                    .replacingOccurrences(of: "csx-weather-20260701-0001", with: "csx-weather-20260701-0077").utf8)
            let twin = try await client.submit(sameAreas, token: issuer, contentType: "application/cap+xml").decode(Accepted.self)

            let pending = try await client.get("/v1/approvals/pending", token: leader).decode(Pending.self)
            let area = try #require(pending.pending.first { $0.id == red.id }?.terminals)
            let twinArea = try #require(pending.pending.first { $0.id == twin.id }?.terminals)
            #expect(twinArea.terminals == 2 && twinArea.unequippedCount == 18 && twinArea.silent.map(\.code) == ["430121002001"])
            #expect(area.terminals == 2 && area.online == 1 && area.offline == 1)
            #expect(area.silent.map(\.code) == ["430121002001"] && area.silentCount == 1)
            // The other 18 villages of its two townships have no terminal at all.
            #expect(area.unequippedCount == 18 && area.unequipped.count == 18)
            #expect(!area.unequipped.map(\.code).contains("430121001001") && area.unequipped.first?.code == "430121001002")

            _ = try await client.post("/v1/warnings/\(red.id)/approve", token: leader)
            #expect(try await client.post("/v1/warnings/\(red.id)/approve", token: government).status == .ok)
            let report = try await client.get("/v1/warnings/\(red.id)/report?depth=village", token: auditor).decode(WarningReport.self)
            let atRelease = try #require(report.terminalsAtRelease)
            #expect(atRelease["online"] == "1" && atRelease["offline"] == "1" && atRelease["silent_divisions"] == "430121002001")
            #expect(atRelease["unequipped"] == "18" && atRelease["unequipped_villages"]?.hasPrefix("430121001002,430121001003") == true)
            // Now, per division of the warning's area (its two townships and their villages).
            let now = Dictionary(uniqueKeysWithValues: (report.terminals ?? []).map { ($0.region, [$0.online, $0.offline]) })
            #expect(now["430121001"] == [1, 0] && now["430121002"] == [0, 1] && now["430121002001"] == [0, 1] && now["430121"] == nil)

            let deliveries = try await store.deliveries(warningID: Warning.ID(rawValue: red.id), state: nil, limit: 10)
            let keyA = try #require(deliveries.first { $0.recipient == "ls-a" }?.idempotencyKey)
            let played = { (started: String, ended: String) in
                #"{"idempotencyKey":"\#(keyA)","started":"\#(started)","ended":"\#(ended)","timesPlayed":3,"result":"played"}"#
            }
            let start = Timestamp(clock.now()).text
            let end = Timestamp(clock.now().addingTimeInterval(12)).text
            let stolen = try await client.post("/v1/terminals/ls-b/playback", token: "secret-b", json: played(start, end))
            #expect(stolen.status == .forbidden && stolen.errorCode == "forged_receipt", "another terminal's delivery")
            let backwards = try await client.post("/v1/terminals/ls-a/playback", token: "secret-a", json: played(end, start))
            #expect(backwards.status == .unprocessableContent && backwards.errorCode == "bad_playback")
            clock.advance(by: 15)
            let ok = try await client.post("/v1/terminals/ls-a/playback", token: "secret-a", json: played(start, end))
            #expect(ok.status == .ok && String(buffer: ok.body).contains(#""state":"played""#))
            let again = try await client.post("/v1/terminals/ls-a/playback", token: "secret-a", json: played(start, end))
            #expect(again.status == .ok && String(buffer: again.body).contains(#""state":"played""#))
            // A late acknowledgement does not take it back to delivered.
            _ = try await client.post("/v1/receipts/ack", token: "secret-a", json: #"{"idempotencyKey":"\#(keyA)"}"#)

            let after = try await client.get("/v1/warnings/\(red.id)/report?depth=village", token: auditor).decode(WarningReport.self)
            let county = try #require(after.tiers.first { $0.region.rawValue == "430121" })
            #expect(county.targeted == 2 && county.delivered == 1 && county.heard == 1)
            #expect(after.blindSpots.map(\.recipient) == ["ls-b"])
            let timeline = try await client.get("/v1/warnings/\(red.id)/timeline", token: auditor).decode(WarningTimeline.self)
            #expect(timeline.coverage.first?.reached == 1 && timeline.coverage.first?.heard == 1)
            #expect(timeline.terminalsAtRelease?["offline"] == "1" && timeline.terminalsAtRelease?["silent"] == "1")
            #expect(try await store.verifyReceipts().isIntact, "the played receipt is sealed")
        }
    }

    @Test("an acknowledgement is read however its JSON is written, and the scheme in any case; bad ones get their reason")
    func acknowledgementForms() async throws {
        let api = try await APIHarness()
        let operatorToken = try await api.token(.operator, region: "430121")
        let issuer = try await api.token(.issuer, department: "csx-weather", name: "发布员")
        let leader = try await api.token(.approver, department: "csx-weather", name: "带班领导", approvalRole: "duty-leader")
        let government = try await api.token(.approver, region: "430121", name: "副县长", approvalRole: "government-leader")
        let store = api.store
        try await api.test { client in
            #expect(try await client.post("/v1/recipients", token: operatorToken, json: Self.speakers).status == .created)
            let red = try await client.submit("rainstorm-red-csx.xml", token: issuer).decode(Accepted.self)
            _ = try await client.post("/v1/warnings/\(red.id)/approve", token: leader)
            _ = try await client.post("/v1/warnings/\(red.id)/approve", token: government)
            let deliveries = try await store.deliveries(warningID: Warning.ID(rawValue: red.id), state: nil, limit: 10)
            let keyA = try #require(deliveries.first { $0.recipient == "ls-a" }?.idempotencyKey)
            let keyB = try #require(deliveries.first { $0.recipient == "ls-b" }?.idempotencyKey)
            func ack(_ terminal: String, _ json: String, authorization: String) async throws -> TestResponse {
                try await client.execute(
                    uri: "/v1/terminals/\(terminal)/ack", method: .post,
                    headers: [.authorization: authorization, .contentType: "application/json"], body: ByteBuffer(string: json))
            }
            // As terminals write it; with spaces and an escaped slash (the decoder reads those).
            let plain = try await ack("ls-a", #"{"idempotencyKey":"\#(keyA)"}"#, authorization: "Bearer secret-a")
            #expect(plain.status == .ok && String(buffer: plain.body) == #"{"idempotencyKey":"\#(keyA)","state":"delivered"}"#)
            let escaped = keyB.replacingOccurrences(of: "/", with: #"\/"#)
            let spaced = try await ack("ls-b", #"{ "idempotencyKey" : "\#(escaped)" }"#, authorization: "bEaReR   secret-b")
            #expect(spaced.status == .ok && String(buffer: spaced.body).contains(#""state":"delivered""#), "\(String(buffer: spaced.body))")
            #expect(try await store.deliverySummary(warningID: Warning.ID(rawValue: red.id))[.delivered] == 2)
            // Refusals keep their reasons.
            let control = try await ack("ls-a", #"{"idempotencyKey":"\#(keyA)\u0001"}"#, authorization: "Bearer secret-a")
            #expect(control.status == .badRequest && control.errorCode == "control_character")
            let broken = try await ack("ls-a", #"{"idempotencyKey":"\#(keyA)""#, authorization: "Bearer secret-a")
            #expect(broken.status == .badRequest && broken.errorCode == "malformed_json")
            let stolen = try await ack("ls-b", #"{"idempotencyKey":"\#(keyA)"}"#, authorization: "Bearer secret-b")
            #expect(stolen.status == .forbidden && stolen.errorCode == "forged_receipt")
            for scheme in ["Basic secret-a", "Bearer\tsecret-a", "Bearer", "secret-a"] {
                let refused = try await ack("ls-a", #"{"idempotencyKey":"\#(keyA)"}"#, authorization: scheme)
                #expect(refused.status == .unauthorized, "\(scheme)")
            }
        }
    }
}

extension SealVerification {
    var isIntact: Bool {
        if case .intact = self { return true }
        return false
    }
}
