import Foundation
import Testing
import WarncastTestSupport

@testable import WarncastNet

/// Which connections the engine leaves in libcurl's cache: a host reached once (a village
/// terminal in a fan-out) leaves nothing behind; a host that takes more keeps its connections.
@Suite("Which connections the engine keeps")
struct ConnectionKeepingTests {
    @Test("the origin is the scheme, host and port of the URL")
    func origin() {
        #expect(ConnectionKeeping.origin(of: "http://127.1.2.3:8080/speaker/7?x=1") == "http://127.1.2.3:8080")
        #expect(ConnectionKeeping.origin(of: "https://t1.speakers.localhost/speaker") == "https://t1.speakers.localhost")
        #expect(ConnectionKeeping.origin(of: "smtp://mail.example.org:25") == "smtp://mail.example.org:25")
        #expect(ConnectionKeeping.origin(of: "http://kannel:13013?text=a/b") == "http://kannel:13013")
    }

    @Test("kept only with company: another in the same batch, one running, or one ended within the memory")
    func decisions() {
        let start = ContinuousClock.now
        var keeping = ConnectionKeeping(memory: .seconds(2), now: start)
        // Three terminals, each its own host, and two deliveries to one platform.
        #expect(keeping.start(["http://a:1", "http://b:1", "http://p:1", "http://p:1"], now: start) == [false, false, true, true])
        // A mail server's connection is always kept (closing it would block on QUIT).
        #expect(keeping.start(["smtp://mail:25", "smtps://mail:465"], now: start) == [true, true])
        keeping.end("smtp://mail:25", now: start)
        keeping.end("smtps://mail:465", now: start)
        // While b runs, another transfer to b keeps its connection.
        #expect(keeping.start(["http://b:1"], now: start) == [true])
        for origin in ["http://a:1", "http://b:1", "http://b:1", "http://p:1", "http://p:1"] {
            keeping.end(origin[...], now: start + .milliseconds(100))
        }
        // a again within the memory: kept; c, never seen: not kept.
        #expect(keeping.start(["http://a:1", "http://c:1"], now: start + .seconds(1)) == [true, false])
        keeping.end("http://a:1", now: start + .seconds(1))
        keeping.end("http://c:1", now: start + .seconds(1))
        // b, last used 3 s ago: forgotten, not kept.
        #expect(keeping.start(["http://b:1"], now: start + .milliseconds(3100)) == [false])
        keeping.end("http://b:1", now: start + .milliseconds(3100))
        // The sweep forgot a, c and p (used more than 2 s before 3.1 s); only b is remembered.
        #expect(keeping.remembered == 1)
    }

    @Test(
        "against a real server: a host reached once leaves no connection; a host reached again and a batch to one host reuse",
        arguments: [1, 3])
    func engineReuse(threads: Int) async throws {
        let fleet = try await LoudspeakerFleet()
        // With several engine threads, one host's transfers all go to the same one. A long
        // memory: the whole suite runs at once, and a second between two posts is possible.
        var options = CurlEngine.Options(threads: threads)
        options.keepMemory = .seconds(120)
        let engine = CurlEngine(options: options)
        defer { engine.shutdown() }
        @Sendable func post(_ host: String) async throws -> Int {
            try await engine.perform(
                HTTPRequestSpec(method: "POST", url: "http://\(host):\(fleet.port)/speaker/x", body: Data("{}".utf8))
            ).newConnections
        }
        // libcurl answers *.localhost itself (127.0.0.1), so each name is a host of its own.
        #expect(try await post("a.localhost") == 1)
        #expect(try await post("b.localhost") == 1)
        // a's first connection was closed after its one transfer, so a new one is opened;
        // a is now a host that takes more than one, so this connection is kept and reused.
        #expect(try await post("a.localhost") == 1)
        #expect(try await post("a.localhost") == 0)

        func batch() async throws -> Int {
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<8 { group.addTask { try await post("127.0.0.1") } }
                return try await group.reduce(0, +)
            }
        }
        let first = try await batch()
        #expect(first >= 1)
        // The second batch finds the first batch's connections (all but possibly one kept).
        // Under load the first batch's transfers may not all have run at once, and then
        // opened fewer connections than the second, all at once, needs: those it may open.
        let second = try await batch()
        #expect(second <= max(0, 8 - first) + 1, "first batch opened \(first), the second \(second)")
    }

    @Test("two engine threads: 300 transfers to 100 hosts are each answered once, and after shutdown none is taken")
    func threads() async throws {
        let fleet = try await LoudspeakerFleet()
        let engine = CurlEngine(options: .init(threads: 2))
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<300 {
                group.addTask {
                    try await engine.perform(
                        HTTPRequestSpec(
                            method: "POST", url: "http://h\(index % 100).localhost:\(fleet.port)/speaker/\(index)", body: Data("{}".utf8))
                    ).status
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        // Unsigned, so the fleet refuses each one, but it saw every one.
        #expect(statuses.count == 300 && statuses.allSatisfy { $0 == 401 })
        #expect(fleet.requests == 300)
        engine.shutdown()
        await #expect(throws: CurlError.self) {
            try await engine.perform(HTTPRequestSpec(url: "http://127.0.0.1:\(fleet.port)/"))
        }
    }
}
