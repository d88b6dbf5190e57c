import Foundation
import Testing
import WarncastNet
import WarncastTestSupport

/// Gateways that go away and come back: a red warning waits for them instead of being
/// given up, and nobody gets it twice.
@Suite("Outages of the last mile's gateways", .serialized, .ownThreads)
struct OutageEndToEndTests {
    @Test("Kannel down for longer than the retry budget, then restarted in order: every SMS delivered once")
    func kannelOutage() async throws {
        let directory = try TestSupport.temporaryDirectory()
        let kannel = try KannelPeer(directory: directory)
        defer { kannel.stop() }
        // The duty officer is told through another gateway (a carrier's), as a recipient there.
        let carrier = try await CarrierGateway()
        defer { carrier.stop() }
        // Two attempts at most with backoff capped at a second: before retries lasted until
        // expiry, these phones would have been given up within seconds.
        let channel = """
                sms-duty:
                  adapter: kannel
                  concurrency: 4
                  timeout_ms: 3000
                  max_attempts: 2
                  backoff_initial_ms: 200
                  backoff_max_ms: 1000
                  breaker_failures: 3
                  breaker_cooldown_ms: 1500
            \(kannel.channelSettings())
                duty-notices:
                  adapter: carrier-sms
                  settings:
                    url: \(carrier.url)
                    body: '{"mobile":"{{to}}","content":"{{text}}","notify":"{{callback}}","outId":"{{key}}"}'
                    header.X-Api-Key: k-123

            """
        let config = try testConfiguration(
            in: directory,
            recipients: """
                duty-1,sms-duty,430121001,第1乡镇 应急责任人,13800000001,,
                duty-2,sms-duty,430121002,第2乡镇 应急责任人,13800000002,,
                duty-3,sms-duty,430121001,第1乡镇 副责任人,13800000003,,
                officer,duty-notices,430121,县应急值班室,13900009999,,

                """,
            channels: channel, red: ["sms-duty"],
            replacing: ["\ntimeliness:": "\nnotify:\n  contacts: [officer]\n  min_interval_seconds: 600\n\ntimeliness:"])
        let daemon = try DaemonProcess(config: config, directory: directory)
        defer { daemon.stop() }
        kannel.stop()

        let (id, issuer) = try daemon.releaseCountyRed(config: config)
        // Well past the old budget: still waiting, not failed, and the operator can see why.
        try await Task.sleep(for: .seconds(8))
        var summary = try daemon.deliveries(of: id, token: issuer).summary
        #expect(summary["failed"] == nil && summary["delivered"] == nil && summary.values.reduce(0, +) == 3, "\(summary)")
        let timeline = try Binaries.warncast(["timeline", id, "--url", daemon.url, "--token", issuer], config: config)
        #expect(timeline.out.contains("RETRYING sms-duty: 3 not reached yet, retrying since "), "\(timeline.out)\(timeline.err)")
        let metrics = String(decoding: try CurlTransfer.perform(HTTPRequestSpec(url: daemon.url + "/metrics")).body, as: UTF8.self)
        #expect(metrics.contains(#"warncast_oldest_undelivered_seconds{level="red"} "#))
        #expect(!metrics.contains(#"warncast_oldest_undelivered_seconds{level="red"} 0.0"#), "the red warning has waited")
        // The duty officer was told the gateway is down, once, by SMS through the other gateway.
        // On a loaded machine the notice may still be on its way: wait for it (bounded), then
        // a little longer, so that a second one would be seen too.
        let told = Date().addingTimeInterval(20)
        while Date() < told, !carrier.messages.contains(where: { $0.mobile == "13900009999" }) {
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: .seconds(1))
        // Once: one message. A try again of it (its answer lost on a loaded machine) comes
        // with the same id, as a carrier would tell a repeat from a second message.
        let notices = carrier.messages.filter { $0.mobile == "13900009999" }
        #expect(!notices.isEmpty && Set(notices.map(\.outId)).count == 1, "\(carrier.messages)\n\(daemon.log)")
        #expect(notices.first?.content.contains("sms-duty") == true && notices.first?.content.contains("127.0.0.1") == true)
        #expect(notices.first?.content.contains(kannel.password) == false, "no credentials in the notice")
        // Audited once the gateway has answered, which may be just after it got the message.
        var audit = try Binaries.warncast(["audit", "list"], config: config)
        for _ in 0..<100 where !audit.out.contains("notice.sent") {
            try await Task.sleep(for: .milliseconds(200))
            audit = try Binaries.warncast(["audit", "list"], config: config)
        }
        #expect(audit.out.contains("notice.sent"), "\(audit.out)")

        try kannel.start()
        let deadline = Date().addingTimeInterval(60)
        while summary["delivered"] != 3 && Date() < deadline {
            try await Task.sleep(for: .milliseconds(200))
            summary = try daemon.deliveries(of: id, token: issuer).summary
        }
        #expect(summary == ["delivered": 3], "\(daemon.log)")
        // Each phone got it exactly once.
        let received = kannel.received.map(\.to).sorted()
        #expect(received == ["13800000001", "13800000002", "13800000003"], "\(kannel.received)")
        let verified = try Binaries.warncast(["audit", "verify"], config: config)
        #expect(verified.status == 0, "\(verified.out)\(verified.err)")
    }

    @Test("the primary Kannel down: SMS go out through the fallback gateway, each phone once")
    func failover() async throws {
        let directory = try TestSupport.temporaryDirectory()
        let primary = try KannelPeer(directory: directory.appendingPathComponent("primary", isDirectory: true))
        defer { primary.stop() }
        let fallback = try KannelPeer(directory: directory.appendingPathComponent("fallback", isDirectory: true))
        defer { fallback.stop() }
        primary.stop()
        let channel = """
                sms-duty:
                  adapter: kannel
                  concurrency: 2
                  backoff_initial_ms: 200
                  backoff_max_ms: 500
                  breaker_failures: 2
                  breaker_cooldown_ms: 60000
            \(primary.channelSettings(fallback: fallback))

            """
        let config = try testConfiguration(
            in: directory,
            recipients: (1...6).map { "duty-\($0),sms-duty,430121001,责任人 \($0),1380000000\($0),," }.joined(separator: "\n") + "\n",
            channels: channel, red: ["sms-duty"])
        let daemon = try DaemonProcess(config: config, directory: directory)
        defer { daemon.stop() }
        let (id, issuer) = try daemon.releaseCountyRed(config: config)
        var summary: [String: Int] = [:]
        let deadline = Date().addingTimeInterval(60)
        while summary["delivered"] != 6 && Date() < deadline {
            try await Task.sleep(for: .milliseconds(200))
            summary = try daemon.deliveries(of: id, token: issuer).summary
        }
        #expect(summary == ["delivered": 6], "\(daemon.log)")
        #expect(fallback.received.map(\.to).sorted() == (1...6).map { "1380000000\($0)" }, "\(fallback.received)")
        #expect(primary.received.isEmpty)
        let metrics = String(decoding: try CurlTransfer.perform(HTTPRequestSpec(url: daemon.url + "/metrics")).body, as: UTF8.self)
        #expect(metrics.contains(#"warncast_circuit_breakers_open{channel="sms-duty"} 1"#), "the primary gateway's breaker")
    }
}
