import CCurl
import Foundation
import Synchronization

/// One transfer while the engine thread owns it: the request's buffers, kept alive until
/// libcurl is done, and the response as it arrives. Touched only on the engine thread.
final class ActiveTransfer {
    let request: HTTPRequestSpec
    let continuation: CheckedContinuation<HTTPResult, any Error>
    var headers: UnsafeMutablePointer<curl_slist>?
    var mailRecipients: UnsafeMutablePointer<curl_slist>?
    /// A copy of the request body that libcurl reads from; freed with the transfer.
    let body: UnsafeMutableRawBufferPointer
    /// How much of `body` an upload (SMTP DATA) has handed to libcurl.
    var uploaded = 0
    var response = Data()
    /// The SMTP conversation, for mail submissions.
    var transcript: [String] = []
    /// Header fields of the response, when the request keeps them.
    var responseHeaders: [(name: String, value: String)] = []

    /// `scheme://host:port` of the request's URL.
    let origin: Substring

    init(_ request: HTTPRequestSpec, continuation: CheckedContinuation<HTTPResult, any Error>, origin: Substring) {
        self.request = request
        self.origin = origin
        self.continuation = continuation
        let bytes = request.body ?? Data()
        body = .allocate(byteCount: max(bytes.count, 1), alignment: 1)
        bytes.copyBytes(to: body.bindMemory(to: UInt8.self))
    }

    deinit {
        curl_slist_free_all(headers)
        curl_slist_free_all(mailRecipients)
        body.deallocate()
    }

    /// Whether the linked libcurl has a default CA bundle file (Debian's:
    /// /etc/ssl/certs/ca-certificates.crt).
    static let hasDefaultBundle = warncast_version_info()?.pointee.cainfo != nil

    /// `keepConnection`: leave the connection in libcurl's cache after the transfer
    /// (see `ConnectionKeeping`); otherwise it is closed when the transfer ends.
    func makeHandle(options: CurlEngine.Options, keepConnection: Bool) -> UnsafeMutableRawPointer? {
        guard let easy = curl_easy_init() else { return nil }
        for header in request.headers { headers = curl_slist_append(headers, header) }
        _ = warncast_easy_setopt_string(easy, CURLOPT_URL, request.url)
        if let mail = request.mail {
            setUpMail(easy, mail)
        } else {
            _ = warncast_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, request.method)
        }
        _ = warncast_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        // No DNS cache in the multi handle. libcurl (7.88) walks its whole DNS cache after
        // every finished transfer to drop stale entries, and every new host adds one that
        // stays for the timeout (60 s by default): a fan-out to 100,000 terminals, each its
        // own host, spent most of its CPU there (a delivery's cost grew with the hosts seen
        // before it). With 0 the cache holds only names being connected to. Kept connections
        // are still reused without a lookup; a new connection to a named host asks the
        // system's resolver (nscd or systemd-resolved cache, if wanted).
        _ = warncast_easy_setopt_long(easy, CURLOPT_DNS_CACHE_TIMEOUT, 0)
        if !keepConnection { _ = warncast_easy_setopt_long(easy, CURLOPT_FORBID_REUSE, 1) }
        _ = warncast_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeoutMilliseconds)
        _ = warncast_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, request.totalTimeoutMilliseconds)
        _ = warncast_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, options.verifyTLS ? 1 : 0)
        _ = warncast_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, options.verifyTLS ? 2 : 0)
        CurlTLS.apply(caBundle: options.caBundle, certificate: options.clientCertificate, key: options.clientKey, to: easy)
        // Trust comes from one PEM file (the system's bundle, or ca_bundle), never from
        // Debian's default CA directory as well: libcurl caches the parsed CAs in each multi
        // handle only when no directory is set, and otherwise parsed the whole bundle again
        // for every new TLS connection (about 1.5 ms each, most of a handshake's cost). The
        // cache is read again hourly, so a changed bundle is picked up without a restart. A
        // libcurl built with a directory and no bundle keeps its directory. (`CurlTLS.apply`
        // has already set a ca_bundle as the only file.)
        if options.caBundle == nil && Self.hasDefaultBundle {
            _ = warncast_easy_setopt_pointer(easy, CURLOPT_CAPATH, nil)
        }
        _ = warncast_easy_setopt_long(easy, CURLOPT_CA_CACHE_TIMEOUT, 3600)
        _ = warncast_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, headers)
        _ = warncast_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, Unmanaged.passUnretained(self).toOpaque())
        _ = warncast_easy_setopt_write_function(easy, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            guard let data, let context else { return 0 }
            let transfer = Unmanaged<ActiveTransfer>.fromOpaque(context).takeUnretainedValue()
            transfer.response.append(UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: size * count)
            return size * count
        }
        if request.keepHeaders {
            _ = warncast_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, Unmanaged.passUnretained(self).toOpaque())
            _ = warncast_easy_setopt_write_function(easy, CURLOPT_HEADERFUNCTION) { data, size, count, context in
                guard let data, let context else { return 0 }
                let transfer = Unmanaged<ActiveTransfer>.fromOpaque(context).takeUnretainedValue()
                let line = String(decoding: UnsafeRawBufferPointer(start: data, count: size * count), as: UTF8.self)
                transfer.keepHeader(line)
                return size * count
            }
        }
        if let payload = request.body, request.mail == nil {
            _ = warncast_easy_setopt_offset(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(payload.count))
            _ = warncast_easy_setopt_pointer(easy, CURLOPT_POSTFIELDS, body.baseAddress)
        }
        return easy
    }

    /// A mail submission: envelope, the message uploaded from `body`, and every command
    /// and reply kept, so a refusal can be told apart per recipient (libcurl itself reports
    /// one result for the whole transaction).
    private func setUpMail(_ easy: UnsafeMutableRawPointer, _ mail: MailEnvelope) {
        for recipient in mail.recipients { mailRecipients = curl_slist_append(mailRecipients, "<\(recipient)>") }
        _ = warncast_easy_setopt_string(easy, CURLOPT_MAIL_FROM, "<\(mail.from)>")
        _ = warncast_easy_setopt_slist(easy, CURLOPT_MAIL_RCPT, mailRecipients)
        // Go on to DATA with the recipients that were accepted.
        _ = warncast_easy_setopt_long(easy, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1)
        _ = warncast_easy_setopt_long(
            easy, CURLOPT_USE_SSL, Int(mail.security == .starttls ? CURLUSESSL_ALL.rawValue : CURLUSESSL_NONE.rawValue))
        if let username = mail.username { _ = warncast_easy_setopt_string(easy, CURLOPT_USERNAME, username) }
        if let password = mail.password { _ = warncast_easy_setopt_string(easy, CURLOPT_PASSWORD, password) }
        _ = warncast_easy_setopt_long(easy, CURLOPT_UPLOAD, 1)
        _ = warncast_easy_setopt_offset(easy, CURLOPT_INFILESIZE_LARGE, curl_off_t(request.body?.count ?? 0))
        _ = warncast_easy_setopt_pointer(easy, CURLOPT_READDATA, Unmanaged.passUnretained(self).toOpaque())
        _ = warncast_easy_setopt_read_function(easy, CURLOPT_READFUNCTION) { buffer, size, count, context in
            guard let buffer, let context else { return 0 }
            let transfer = Unmanaged<ActiveTransfer>.fromOpaque(context).takeUnretainedValue()
            let total = transfer.request.body?.count ?? 0
            let length = min(size * count, total - transfer.uploaded)
            guard length > 0 else { return 0 }
            UnsafeMutableRawPointer(buffer).copyMemory(from: transfer.body.baseAddress! + transfer.uploaded, byteCount: length)
            transfer.uploaded += length
            return length
        }
        // The debug callback only runs in verbose mode; it receives each command and reply.
        _ = warncast_easy_setopt_long(easy, CURLOPT_VERBOSE, 1)
        _ = warncast_easy_setopt_pointer(easy, CURLOPT_DEBUGDATA, Unmanaged.passUnretained(self).toOpaque())
        _ = warncast_easy_setopt_debug_function(easy, CURLOPT_DEBUGFUNCTION) { _, type, data, size, context in
            guard let data, let context, type == CURLINFO_HEADER_IN || type == CURLINFO_HEADER_OUT else { return 0 }
            let transfer = Unmanaged<ActiveTransfer>.fromOpaque(context).takeUnretainedValue()
            let text = String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)
            let mark = type == CURLINFO_HEADER_IN ? "< " : "> "
            for line in text.split(whereSeparator: \.isNewline) where !line.isEmpty {
                transfer.transcript.append(mark + line)
            }
            return 0
        }
    }

    /// One header line as libcurl hands it over; a status line starts a new response (after
    /// a `100 Continue`, say), so only the last response's fields are kept.
    func keepHeader(_ line: String) {
        let text = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("HTTP/") {
            responseHeaders = []
        } else if let colon = text.firstIndex(of: ":") {
            responseHeaders.append(
                (String(text[..<colon]), text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
    }

    func finish(easy: UnsafeMutableRawPointer, code: CURLcode) {
        guard code == CURLE_OK else {
            continuation.resume(
                throwing: CurlError(
                    code: Int(code.rawValue), message: String(cString: curl_easy_strerror(code)), transcript: transcript))
            return
        }
        var status = 0
        _ = warncast_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        var connects = 0
        _ = warncast_easy_getinfo_long(easy, CURLINFO_NUM_CONNECTS, &connects)
        var result = HTTPResult(status: status, body: response, transcript: transcript, headers: responseHeaders)
        result.newConnections = connects
        continuation.resume(returning: result)
    }
}
