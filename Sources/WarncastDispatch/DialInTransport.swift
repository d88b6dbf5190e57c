import Foundation
import WarncastCore
import WarncastNet
import WarncastStore

/// Hears of dial-in terminals connecting.
public protocol DialInListener: Sendable {
    /// `missedPushes`: a push found it away since it last connected.
    func terminalConnected(_ terminal: String, missedPushes: Bool) async
}

/// Makes what waits for a terminal that connects due, and wakes the dispatcher.
public struct WakeOnConnect: DialInListener {
    let dispatcher: DispatchService
    let outbox: any Outbox

    public init(dispatcher: DispatchService, outbox: any Outbox) {
        self.dispatcher = dispatcher
        self.outbox = outbox
    }

    public func terminalConnected(_ terminal: String, missedPushes: Bool) async {
        await dispatcher.recipientReachable(terminal, outbox: outbox)
        // A push that found it away just before it connected may be recorded as waiting
        // only after the wake above: look again once the recorder has written it.
        guard missedPushes else { return }
        Task { [dispatcher, outbox] in
            try? await Task.sleep(for: .seconds(5))
            await dispatcher.recipientReachable(terminal, outbox: outbox)
        }
    }
}

/// The dispatcher's transport when terminals may dial in: a request to `dial-in:<terminal>`
/// goes down that terminal's connection; anything else through `fallback` (libcurl).
public struct DialInTransport: Transport {
    public let hub: DialInHub
    public let fallback: any Transport

    public init(hub: DialInHub, fallback: any Transport) {
        self.hub = hub
        self.fallback = fallback
    }

    /// The scheme of a dial-in terminal's request URL.
    public static let scheme = "dial-in:"
    /// The header of the answer that says the terminal is not connected.
    public static let absentHeader = "Warncast-Dial-In"

    public func perform(_ request: HTTPRequestSpec) async throws -> HTTPResult {
        guard request.url.hasPrefix(Self.scheme) else { return try await fallback.perform(request) }
        let terminal = String(request.url.dropFirst(Self.scheme.count))
        var headers: [String: String] = [:]
        for line in request.headers {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[String(line[..<colon])] = String(line[line.index(after: colon)...].trimmingASCIISpaces)
        }
        let push = DialInHub.Push(idempotencyKey: headers["Idempotency-Key"] ?? "", headers: headers, body: request.body ?? Data())
        switch await hub.push(push, to: terminal, timeout: .milliseconds(request.totalTimeoutMilliseconds)) {
        case .acknowledged:
            return HTTPResult(status: 200, body: Data(#"{"ack":true}"#.utf8))
        case .notConnected:
            return HTTPResult(status: 503, body: Data(), headers: [(Self.absentHeader, "absent")])
        case .noAnswer:
            throw CurlError(code: 28, message: "the dial-in terminal did not acknowledge in time")
        case .refused(let status, let reason):
            // What the terminal would have answered had it been pushed to over HTTP.
            return HTTPResult(status: status, body: Data("{\"error\":\(JSONText.quote(reason))}".utf8))
        }
    }
}
