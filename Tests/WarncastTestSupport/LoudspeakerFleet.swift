import Crypto
import Foundation
import Hummingbird
import Logging
import NIOFoundationEssentialsCompat
import Synchronization
import WarncastCore

/// Village loudspeakers on loopback for tests: one HTTP server whose paths
/// `/speaker/{name}` are the endpoints. Each request's Ed25519 signature is checked, repeats
/// of an idempotency key are counted and dropped, and each endpoint can be told to be slow,
/// to fail, to hang past the client's timeout, or (by stopping the server) to vanish.
public final class LoudspeakerFleet: Sendable {
    public enum Behaviour: Sendable, Equatable {
        /// 200 with `{"ack": true}`: played.
        case ack
        /// 202 without an acknowledgement: taken, to be acknowledged later.
        case acceptOnly
        /// Answers `status` for the first `times` requests, then acknowledges.
        case fail(status: Int, times: Int)
        /// Waits this long, then acknowledges.
        case slow(milliseconds: Int)
    }

    private struct State {
        var behaviours: [String: Behaviour] = [:]
        var fallback = Behaviour.ack
        var served: [String: Int] = [:]
        var keys: [String: Set<String>] = [:]
        var bodies: [String: Data] = [:]
        var requests = 0
        var repeats = 0
        var badSignatures = 0
        var unique = 0
        var tripwire: (count: Int, action: @Sendable () -> Void)?
    }

    private let state = Mutex(State())
    private let publicKey: Mutex<Data?> = Mutex(nil)
    private let task = Mutex<Task<Void, any Error>?>(nil)
    public let port: Int

    /// Starts the fleet on a free loopback port.
    public init() async throws {
        let router = Router()
        let fleet = FleetBox()
        router.post("/speaker/{name}") { request, context -> Response in
            try await fleet.handle(request, context: context)
        }
        let (boundPort, running) = await LoopbackServer.start(router, label: "fleet")
        port = boundPort
        task.withLock { $0 = running }
        fleet.fleet.withLock { $0 = self }
    }

    /// The public key the signatures must verify against.
    public func trust(publicKey raw: Data) {
        publicKey.withLock { $0 = raw }
    }

    public func url(_ name: String) -> String { "http://127.0.0.1:\(port)/speaker/\(name)" }

    public func set(_ behaviour: Behaviour, for name: String) {
        state.withLock { $0.behaviours[name] = behaviour }
    }

    /// How endpoints without a behaviour of their own answer.
    public func setDefault(_ behaviour: Behaviour) {
        state.withLock { $0.fallback = behaviour }
    }

    /// Runs `action` once, on the thread of the request that is the `count`th distinct
    /// delivery (before it is answered; the fleet's lock is not held, but the request's
    /// thread is one of the two all peers share, so the action must be quick). A test that
    /// must act at a point of a fan-out uses this rather than polling: a poll on the
    /// cooperative pool can be held up by other tests long enough for the fan-out to finish
    /// first.
    public func when(uniqueDeliveries count: Int, _ action: @escaping @Sendable () -> Void) {
        state.withLock { $0.tripwire = (count, action) }
    }

    /// Stops answering: connections are refused from now on.
    public func vanish() {
        task.withLock { $0?.cancel() }
    }

    /// Distinct idempotency keys each endpoint received.
    public var keysByEndpoint: [String: Set<String>] { state.withLock { $0.keys } }
    /// The last signed body terminal `name` took.
    public func body(of name: String) -> Data? { state.withLock { $0.bodies[name] } }
    public var uniqueDeliveries: Int { state.withLock { $0.unique } }
    public var requests: Int { state.withLock { $0.requests } }
    public var repeats: Int { state.withLock { $0.repeats } }
    public var badSignatures: Int { state.withLock { $0.badSignatures } }

    private enum Reply {
        case status(Int)
        case ack
        case accept
        case slow(Int)
    }

    fileprivate func respond(name: String, key: String, body: Data, timestamp: String, signature: String) async -> Response {
        let verified = verify(body: body, key: key, timestamp: timestamp, signature: signature)
        var tripped: (@Sendable () -> Void)?
        let reply = state.withLock { state -> Reply in
            state.requests += 1
            guard verified else {
                state.badSignatures += 1
                return .status(401)
            }
            let count = state.served[name, default: 0] + 1
            state.served[name] = count
            let behaviour = state.behaviours[name] ?? state.fallback
            if case .fail(let status, let times) = behaviour, count <= times { return .status(status) }
            if state.keys[name, default: []].insert(key).inserted {
                state.unique += 1
                if let tripwire = state.tripwire, tripwire.count == state.unique {
                    state.tripwire = nil
                    tripped = tripwire.action
                }
            } else {
                state.repeats += 1
            }
            state.bodies[name] = body
            switch behaviour {
            case .acceptOnly: return .accept
            case .slow(let milliseconds): return .slow(milliseconds)
            case .ack, .fail: return .ack
            }
        }
        tripped?()
        switch reply {
        case .status(let status): return Self.json(status, #"{"error":"refused"}"#)
        case .ack: return Self.json(200, #"{"ack":true}"#)
        case .accept: return Self.json(202, #"{"queued":true}"#)
        case .slow(let milliseconds):
            try? await Task.sleep(for: .milliseconds(milliseconds))
            return Self.json(200, #"{"ack":true}"#)
        }
    }

    private func verify(body: Data, key: String, timestamp: String, signature: String) -> Bool {
        publicKey.withLock { raw in
            guard let raw, let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else { return false }
            return MessageSigner.verify(
                body: body, idempotencyKey: key, timestamp: timestamp, signature: signature, publicKey: publicKey)
        }
    }

    private static func json(_ status: Int, _ text: String) -> Response {
        Response(
            status: .init(code: status), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    deinit {
        task.withLock { $0?.cancel() }
    }
}

/// Lets the router's handler reach the fleet, which exists only after the server started.
private final class FleetBox: Sendable {
    let fleet = Mutex<LoudspeakerFleet?>(nil)

    func handle(_ request: Request, context: BasicRequestContext) async throws -> Response {
        guard let fleet = fleet.withLock({ $0 }) else { return Response(status: .serviceUnavailable) }
        let body = try await request.body.collect(upTo: 4 << 20)
        let name = context.parameters.get("name") ?? "?"
        func header(_ name: String) -> String {
            request.headers.first { $0.name.canonicalName == name }?.value ?? ""
        }
        return await fleet.respond(
            name: name, key: header("idempotency-key"), body: Data(buffer: body),
            timestamp: header("warncast-timestamp"), signature: header("warncast-signature"))
    }
}
