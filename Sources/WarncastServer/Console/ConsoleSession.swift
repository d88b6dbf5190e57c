import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import WarncastCore

/// How a console session travels: its token's secret in an HttpOnly cookie the page's
/// scripts cannot read, and a CSRF token derived from it that they can (from
/// `GET /console/session`) and must send back as `X-CSRF-Token` with every request that
/// changes something. Another site can make a browser send the cookie (SameSite=Strict
/// already stops that in current browsers) but cannot read the CSRF token.
enum ConsoleSession {
    static let cookieName = "warncast_session"
    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!
    /// How long a session lasts after signing in: a duty shift.
    static let lifetime: TimeInterval = 12 * 3600

    /// The CSRF token for a session secret.
    static func csrf(for secret: String) -> String {
        SHA256.hash(data: Data("warncast-console-csrf\n\(secret)".utf8)).hexString
    }

    /// The session secret the request's cookie carries, if any.
    static func secret(of request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == cookieName {
                    let value = parts[1].trimmingCharacters(in: .whitespaces)
                    return value.isEmpty ? nil : value
                }
            }
        }
        return nil
    }

    /// `Set-Cookie` for a new session. Secure: browsers keep it only from https origins and
    /// from the loopback addresses, so the console is served over TLS (or on loopback).
    static func setCookie(_ secret: String) -> String {
        "\(cookieName)=\(secret); Path=/; Max-Age=\(Int(lifetime)); HttpOnly; Secure; SameSite=Strict"
    }

    static let clearCookie = "\(cookieName)=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict"

    /// Throws 403 `csrf_failed` unless `request` carries the CSRF token of the session `secret`.
    static func requireCSRF(_ request: Request, secret: String) throws {
        guard let sent = request.headers[csrfHeader], same(sent, csrf(for: secret)) else {
            throw APIError(
                .forbidden, code: "csrf_failed",
                detail: "a change made with the session cookie needs the session's X-CSRF-Token header (from GET /console/session)")
        }
    }

    /// Whether `method` changes something, and so needs the CSRF token.
    static func changes(_ method: HTTPRequest.Method) -> Bool {
        ![.get, .head, .options].contains(method)
    }

    /// Compares in time that does not depend on where the strings differ.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
