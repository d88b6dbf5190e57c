import CCurl
import Foundation

/// One HTTP request to send.
public struct HTTPRequestSpec: Sendable {
    public var method: String
    public var url: String
    public var headers: [String]
    public var body: Data?
    /// Milliseconds allowed to connect, and for the whole transfer.
    public var connectTimeoutMilliseconds: Int
    public var totalTimeoutMilliseconds: Int
    /// Set for a mail submission (`smtp://` or `smtps://` URL): `body` is the whole message.
    public var mail: MailEnvelope?
    /// Keep the response's header lines in `HTTPResult.headers` (off for deliveries: nobody
    /// reads them, and each line would cost a callback).
    public var keepHeaders = false

    public init(
        method: String = "GET", url: String, headers: [String] = [], body: Data? = nil,
        connectTimeoutMilliseconds: Int = 5000, totalTimeoutMilliseconds: Int = 30000
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.totalTimeoutMilliseconds = totalTimeoutMilliseconds
    }
}

/// The SMTP envelope of a mail submission. libcurl sends MAIL FROM, one RCPT TO per
/// recipient (going on past refused ones), then DATA, in one transaction.
public struct MailEnvelope: Sendable {
    public enum Security: String, Sendable {
        /// STARTTLS, and refuse to send if the server does not offer it.
        case starttls
        /// Plain SMTP (loopback or a trusted network only); `smtps://` URLs use TLS anyway.
        case none
    }

    public var from: String
    public var recipients: [String]
    public var security: Security
    public var username: String?
    public var password: String?

    public init(from: String, recipients: [String], security: Security = .starttls, username: String? = nil, password: String? = nil) {
        self.from = from
        self.recipients = recipients
        self.security = security
        self.username = username
        self.password = password
    }
}

/// What came back.
public struct HTTPResult: Sendable {
    /// The HTTP status, or for SMTP the server's last reply code.
    public var status: Int
    public var body: Data
    /// For SMTP, the conversation: commands sent as `> …`, replies received as `< …`.
    public var transcript: [String]
    /// The final response's header fields in order, when the request asked to keep them.
    public var headers: [(name: String, value: String)]
    /// Connections the transfer opened: 0 when it reused a kept one.
    public var newConnections = 0

    public init(status: Int, body: Data, transcript: [String] = [], headers: [(name: String, value: String)] = []) {
        self.status = status
        self.body = body
        self.transcript = transcript
        self.headers = headers
    }
}

/// libcurl failed before a response arrived (refused, timed out, TLS …), or for SMTP, the
/// server refused the transaction (its conversation up to then is in `transcript`).
public struct CurlError: Error, Sendable, CustomStringConvertible {
    public var code: Int
    public var message: String
    public var transcript: [String] = []

    public init(code: Int, message: String, transcript: [String] = []) {
        self.code = code
        self.message = message
        self.transcript = transcript
    }

    public var description: String {
        code == Self.untrustedPeer
            ? "curl error \(code): \(message) (its certificate is not from an authority trusted here, or does not name the host)"
            : "curl error \(code): \(message)"
    }

    /// CURLE_PEER_FAILED_VERIFICATION: the other side's TLS certificate was not accepted.
    public static let untrustedPeer = 60
}

/// A blocking single transfer on a libcurl easy handle, for the command-line tool. The
/// daemon's many-at-once engine builds on the same library.
public enum CurlTransfer {
    /// The version string of the libcurl in use, e.g. `libcurl/7.88.1 OpenSSL/3.0.…`.
    public static var version: String { String(cString: curl_version()) }

    /// Protocols this libcurl can speak (`http`, `https`, `smtp` …).
    public static var protocols: [String] {
        guard let info = warncast_version_info(), var cursor = info.pointee.protocols else { return [] }
        var names: [String] = []
        while let name = cursor.pointee {
            names.append(String(cString: name))
            cursor = cursor.advanced(by: 1)
        }
        return names
    }

    /// One request, waiting for its answer. `caBundle`: a PEM file of the authorities to
    /// trust instead of the system's.
    public static func perform(_ request: HTTPRequestSpec, caBundle: String? = nil) throws(CurlError) -> HTTPResult {
        guard let handle = curl_easy_init() else { throw CurlError(code: -1, message: "curl_easy_init failed") }
        defer { curl_easy_cleanup(handle) }
        var headerList: UnsafeMutablePointer<curl_slist>?
        for header in request.headers { headerList = curl_slist_append(headerList, header) }
        defer { curl_slist_free_all(headerList) }

        let sink = ResponseSink()
        let unmanaged = Unmanaged.passRetained(sink)
        defer { unmanaged.release() }
        _ = warncast_easy_setopt_string(handle, CURLOPT_URL, request.url)
        _ = warncast_easy_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
        _ = warncast_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = warncast_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeoutMilliseconds)
        _ = warncast_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, request.totalTimeoutMilliseconds)
        _ = warncast_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)
        CurlTLS.apply(caBundle: caBundle, to: handle)
        _ = warncast_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, unmanaged.toOpaque())
        _ = warncast_easy_setopt_write_function(handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            guard let data, let context else { return 0 }
            let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
            sink.data.append(UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: size * count)
            return size * count
        }
        let body = request.body ?? Data()
        let code: CURLcode = body.withUnsafeBytes { bytes in
            if request.body != nil {
                _ = warncast_easy_setopt_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count))
                _ = warncast_easy_setopt_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
            }
            return curl_easy_perform(handle)
        }
        guard code == CURLE_OK else {
            throw CurlError(code: Int(code.rawValue), message: String(cString: curl_easy_strerror(code)))
        }
        var status = 0
        _ = warncast_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResult(status: status, body: sink.data)
    }
}

/// The TLS settings every libcurl handle of Warncast's takes the same way: the daemon's
/// transfers, the command-line tool's and the station's stream.
public enum CurlTLS {
    /// Trusts only `caBundle` when given (not the system's CA directory as well), and shows
    /// `certificate` and `key` to a peer that asks for a client certificate.
    public static func apply(caBundle: String?, certificate: String? = nil, key: String? = nil, to handle: UnsafeMutableRawPointer) {
        if let caBundle {
            _ = warncast_easy_setopt_string(handle, CURLOPT_CAINFO, caBundle)
            _ = warncast_easy_setopt_pointer(handle, CURLOPT_CAPATH, nil)
        }
        if let certificate { _ = warncast_easy_setopt_string(handle, CURLOPT_SSLCERT, certificate) }
        if let key { _ = warncast_easy_setopt_string(handle, CURLOPT_SSLKEY, key) }
    }
}

/// Collects the response body for the write callback. Used by one transfer on one thread.
private final class ResponseSink {
    var data = Data()
}

extension CurlTransfer {
    /// A GET whose body goes straight to `file` as it arrives (a large export never sits in
    /// memory), calling `progress` with the bytes received so far. Returns the HTTP status;
    /// for an error status the body is returned instead of written, to be shown.
    public static func download(
        _ url: String, headers: [String], caBundle: String? = nil, to file: FileHandle, progress: @escaping (Int) -> Void
    ) throws(CurlError) -> (status: Int, error: Data) {
        guard let handle = curl_easy_init() else { throw CurlError(code: -1, message: "curl_easy_init failed") }
        defer { curl_easy_cleanup(handle) }
        var headerList: UnsafeMutablePointer<curl_slist>?
        for header in headers { headerList = curl_slist_append(headerList, header) }
        defer { curl_slist_free_all(headerList) }
        let sink = DownloadSink(file: file, handle: handle, progress: progress)
        let unmanaged = Unmanaged.passRetained(sink)
        defer { unmanaged.release() }
        _ = warncast_easy_setopt_string(handle, CURLOPT_URL, url)
        _ = warncast_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = warncast_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, 5000)
        _ = warncast_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)
        CurlTLS.apply(caBundle: caBundle, to: handle)
        _ = warncast_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, unmanaged.toOpaque())
        _ = warncast_easy_setopt_write_function(handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            guard let data, let context else { return 0 }
            let sink = Unmanaged<DownloadSink>.fromOpaque(context).takeUnretainedValue()
            sink.receive(Data(bytes: data, count: size * count))
            return size * count
        }
        let code = curl_easy_perform(handle)
        guard code == CURLE_OK else {
            throw CurlError(code: Int(code.rawValue), message: String(cString: curl_easy_strerror(code)))
        }
        var status = 0
        _ = warncast_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return (status, sink.errorBody)
    }
}

/// Writes a 2xx body to the file as it comes; keeps any other body to report.
private final class DownloadSink {
    let file: FileHandle
    let handle: UnsafeMutableRawPointer
    let progress: (Int) -> Void
    var received = 0
    var errorBody = Data()

    init(file: FileHandle, handle: UnsafeMutableRawPointer, progress: @escaping (Int) -> Void) {
        self.file = file
        self.handle = handle
        self.progress = progress
    }

    func receive(_ data: Data) {
        var status = 0
        _ = warncast_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        guard (200..<300).contains(status) else {
            errorBody.append(data)
            return
        }
        file.write(data)
        received += data.count
        progress(received)
    }
}
