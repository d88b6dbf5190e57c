import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOFoundationEssentialsCompat
import ServiceLifecycle
import WarncastNet
import WarncastServer

/// A response as a test reads it.
struct TestResponse: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: ByteBuffer
}

/// A client of one running test server: real HTTP over loopback through libcurl, the way
/// gateways and terminals reach warncastd.
protocol TestClientProtocol: Sendable {
    /// The port the server listens on, for tools that talk to it directly.
    var port: Int? { get }
    func send(uri: String, method: HTTPRequest.Method, headers: HTTPFields, body: ByteBuffer?) async throws -> TestResponse
}

extension TestClientProtocol {
    func execute(
        uri: String, method: HTTPRequest.Method, headers: HTTPFields = [:], body: ByteBuffer? = nil
    ) async throws -> TestResponse {
        try await send(uri: uri, method: method, headers: headers, body: body)
    }
}

/// The application's router served on a free loopback port for the length of `body`, with
/// the same HTTP/1.1 server warncastd runs (its parser-error answers included).
enum TestServer {
    /// One engine for every test server: its thread runs all their transfers.
    static let engine = CurlEngine(options: .init(maxConnections: 64))

    static func run<Value: Sendable>(
        _ router: Router<WarncastRequestContext>, logger: Logger, _ body: (any TestClientProtocol) async throws -> Value
    ) async throws -> Value {
        let (ports, bound) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router, server: .warncast(idleTimeoutSeconds: 120), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                bound.yield(channel.localAddress?.port ?? 0)
                bound.finish()
            }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                // A server that never starts (the port refused) ends the wait for its port too.
                defer { bound.finish() }
                try await group.run()
            }
            var port = 0
            for await value in ports { port = value }
            guard port > 0 else {
                try await tasks.waitForAll()
                throw TestServerError(message: "the test server did not start")
            }
            do {
                let value = try await body(LoopbackClient(port: port))
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return value
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }
}

struct TestServerError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Requests to one test server through the shared libcurl engine.
struct LoopbackClient: TestClientProtocol {
    let port: Int?

    init(port: Int) {
        self.port = port
    }

    func send(uri: String, method: HTTPRequest.Method, headers: HTTPFields, body: ByteBuffer?) async throws -> TestResponse {
        var lines = headers.map { "\($0.name.rawName): \($0.value)" }
        // libcurl would add these on its own; the tests' requests carry only what they set.
        for name in ["Accept", "Expect"] where !headers.contains(where: { $0.name.rawName.lowercased() == name.lowercased() }) {
            lines.append("\(name):")
        }
        var request = HTTPRequestSpec(
            method: method.rawValue, url: "http://127.0.0.1:\(port ?? 0)\(uri)", headers: lines, body: body.map { Data(buffer: $0) },
            connectTimeoutMilliseconds: 5000, totalTimeoutMilliseconds: 60_000)
        request.keepHeaders = true
        let result = try await TestServer.engine.perform(request)
        var fields = HTTPFields()
        for (name, value) in result.headers {
            if let field = HTTPField.Name(name) { fields.append(HTTPField(name: field, value: value)) }
        }
        return TestResponse(status: .init(code: result.status), headers: fields, body: ByteBuffer(data: result.body))
    }
}
