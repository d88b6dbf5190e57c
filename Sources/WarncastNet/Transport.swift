import Foundation

/// What the dispatcher sends requests through. `CurlEngine` is the real one; tests may put
/// a loopback twin behind it that answers in process, without sockets.
public protocol Transport: Sendable {
    /// Sends `request`; returns the answer, or throws `CurlError` when none arrived.
    func perform(_ request: HTTPRequestSpec) async throws -> HTTPResult
}

extension CurlEngine: Transport {}
