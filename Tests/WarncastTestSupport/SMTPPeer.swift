import Crypto
import Foundation
import WarncastCore

/// aiosmtpd (Debian's `python3-aiosmtpd`, installed by `make deps-test`) running
/// `Tests/Peers/smtp_sink.py` on a loopback port: it stores each accepted message once per
/// recipient in a Maildir, refuses `nobody…` mailboxes with 550 and `busy…` ones with 450
/// on their first two tries.
public final class SMTPPeer: @unchecked Sendable {
    public static let python = "/usr/bin/python3"
    public let port: Int
    public let maildir: URL
    private let process: PeerProcess

    public var url: String { "smtp://127.0.0.1:\(port)" }

    /// With `tls` (a PEM certificate and key) the server requires STARTTLS; with `login`
    /// (`user:password`) it requires that login, over TLS.
    public init(directory: URL, tls: (certificate: String, key: String)? = nil, login: String? = nil) throws {
        port = PeerProcess.freePort()
        maildir = directory.appendingPathComponent("maildir")
        let script = TestSupport.root.appendingPathComponent("Tests/Peers/smtp_sink.py").path
        var arguments = [script, String(port), maildir.path]
        if let tls { arguments += ["--tls", tls.certificate, tls.key] }
        if let login { arguments += ["--auth", login] }
        process = try PeerProcess("aiosmtpd", executable: Self.python, arguments: arguments, directory: directory, port: port)
    }

    public func stop() { process.stop() }

    deinit { stop() }

    /// Every stored message, parsed.
    public var messages: [StoredMail] {
        let folder = maildir.appendingPathComponent("new")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.sorted().compactMap { name in
            FileManager.default.contents(atPath: folder.appendingPathComponent(name).path).map(StoredMail.init)
        }
    }
}

/// One stored email, read the way a mail client would: unfolded headers, the subject's
/// RFC 2047 words decoded, and each MIME part's content with its transfer encoding undone.
public struct StoredMail: Sendable {
    public var headers: [(name: String, value: String)]
    public var parts: [(headers: [(name: String, value: String)], content: Data)]

    public init(_ data: Data) {
        let text = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        let (head, body) = Self.split(text)
        headers = Self.headers(head)
        parts = []
        guard let type = header("Content-Type"), let range = type.range(of: "boundary=\"") else {
            // A single part: the message's own headers describe its body.
            parts = [(headers, Self.decoded(body, encoding: header("Content-Transfer-Encoding")))]
            return
        }
        let boundary = String(type[range.upperBound...].prefix { $0 != "\"" })
        for chunk in body.components(separatedBy: "--\(boundary)").dropFirst() where !chunk.hasPrefix("--") {
            let (partHead, partBody) = Self.split(String(chunk.drop { $0 == "\n" }))
            let partHeaders = Self.headers(partHead)
            let encoding = partHeaders.first { $0.name.lowercased() == "content-transfer-encoding" }?.value
            parts.append((partHeaders, Self.decoded(partBody, encoding: encoding)))
        }
    }

    private static func decoded(_ body: String, encoding: String?) -> Data {
        encoding?.lowercased() == "base64" ? Data(base64Encoded: body.filter { !$0.isWhitespace }) ?? Data() : Data(body.utf8)
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The subject as the reader sees it.
    public var subject: String? {
        header("Subject").map { value in
            value.split(separator: " ").map { word -> String in
                let parts = word.split(separator: "?")
                guard word.hasPrefix("=?"), parts.count == 5, parts[2].uppercased() == "B",
                    let bytes = Data(base64Encoded: String(parts[3]))
                else { return String(word) }
                return String(decoding: bytes, as: UTF8.self)
            }.joined()
        }
    }

    /// The content of the first part whose Content-Type starts with `type`.
    public func part(_ type: String) -> Data? {
        parts.first { part in
            part.headers.first { $0.name.lowercased() == "content-type" }?.value.lowercased().hasPrefix(type) == true
        }?.content
    }

    /// Whether the `Warncast-*` headers sign the CAP attachment with `publicKey` (the key
    /// from `/.well-known/warncast-keys`); the signed key is the warning id.
    public func signatureVerifies(publicKey: Data) -> Bool {
        guard let cap = part("application/cap+xml"), let warning = header("X-Warncast-Warning"),
            let timestamp = header("Warncast-Timestamp"), let signature = header("Warncast-Signature").flatMap({ Data(base64Encoded: $0) }),
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey)
        else { return false }
        return key.isValidSignature(signature, for: MessageSigner.signedBytes(body: cap, idempotencyKey: warning, timestamp: timestamp))
    }

    private static func split(_ text: String) -> (String, String) {
        guard let range = text.range(of: "\n\n") else { return (text, "") }
        return (String(text[..<range.lowerBound]), String(text[range.upperBound...]))
    }

    private static func headers(_ block: String) -> [(name: String, value: String)] {
        var result: [(name: String, value: String)] = []
        for line in block.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.first == " " || line.first == "\t", !result.isEmpty {
                result[result.count - 1].value += " " + line.trimmingCharacters(in: .whitespaces)
            } else if let colon = line.firstIndex(of: ":") {
                result.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
            }
        }
        return result
    }
}
