import CCurl
import Foundation
import Synchronization

/// Many HTTP transfers at once on one thread: a libcurl multi handle driven by
/// `curl_multi_poll`, bridged to async/await. Connections are kept and reused per host.
///
/// Callers `await perform(_:)` from any task; the engine thread adds the transfer to the
/// multi handle, and resumes the caller when libcurl reports it done.
public final class CurlEngine: @unchecked Sendable {
    // `multi` is used only on the engine thread, except `curl_multi_wakeup`, which libcurl
    // documents as safe to call from any thread. Everything else shared sits in `state`,
    // behind a mutex; hence unchecked.
    private let multi: UnsafeMutableRawPointer
    private let state = Mutex(SharedState())
    private let options: Options
    private let finished = Mutex(false)

    /// Transport settings shared by every transfer.
    public struct Options: Sendable {
        /// Upper bound on open connections (`CURLMOPT_MAX_TOTAL_CONNECTIONS`).
        public var maxConnections: Int
        /// Verify the peer's certificate and host name (on unless explicitly switched off).
        public var verifyTLS: Bool
        /// A PEM bundle of trusted CAs instead of the system's.
        public var caBundle: String?
        /// PEM client certificate and key, for receivers that require one.
        public var clientCertificate: String?
        public var clientKey: String?

        public init(
            maxConnections: Int = 512, verifyTLS: Bool = true, caBundle: String? = nil,
            clientCertificate: String? = nil, clientKey: String? = nil
        ) {
            self.maxConnections = maxConnections
            self.verifyTLS = verifyTLS
            self.caBundle = caBundle
            self.clientCertificate = clientCertificate
            self.clientKey = clientKey
        }
    }

    private struct SharedState: ~Copyable {
        var pending: [PendingTransfer] = []
        var stopping = false
    }

    private struct PendingTransfer: Sendable {
        var request: HTTPRequestSpec
        var continuation: CheckedContinuation<HTTPResult, any Error>
    }

    public init(options: Options = Options()) {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
        multi = curl_multi_init()
        self.options = options
        _ = warncast_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, options.maxConnections)
        _ = warncast_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, options.maxConnections)
        let thread = Thread { [self] in self.runLoop() }
        thread.name = "warncast-curl"
        thread.start()
    }

    /// Sends `request`; returns the response, or throws `CurlError` when none arrived.
    public func perform(_ request: HTTPRequestSpec) async throws -> HTTPResult {
        try await withCheckedThrowingContinuation { continuation in
            // Only the first transfer queued since the engine last looked needs to wake it;
            // it takes every queued transfer when it wakes.
            let (accepted, wake) = state.withLock { state -> (Bool, Bool) in
                guard !state.stopping else { return (false, false) }
                state.pending.append(PendingTransfer(request: request, continuation: continuation))
                return (true, state.pending.count == 1)
            }
            if !accepted {
                continuation.resume(throwing: CurlError(code: -2, message: "the engine is shut down"))
            } else if wake {
                curl_multi_wakeup(multi)
            }
        }
    }

    /// Stops taking transfers, lets those in flight finish, and ends the engine thread.
    public func shutdown() {
        state.withLock { $0.stopping = true }
        curl_multi_wakeup(multi)
    }

    // MARK: The engine thread

    private func runLoop() {
        var active: [UnsafeMutableRawPointer: ActiveTransfer] = [:]
        while true {
            let (incoming, stopping) = state.withLock { state -> ([PendingTransfer], Bool) in
                defer { state.pending.removeAll() }
                return (state.pending, state.stopping)
            }
            for pending in incoming {
                let transfer = ActiveTransfer(pending.request, continuation: pending.continuation)
                guard let easy = transfer.makeHandle(options: options) else {
                    pending.continuation.resume(throwing: CurlError(code: -1, message: "curl_easy_init failed"))
                    continue
                }
                curl_multi_add_handle(multi, easy)
                active[easy] = transfer
            }
            if stopping && active.isEmpty { break }
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            collectFinished(&active)
            curl_multi_poll(multi, nil, 0, 1000, nil)
        }
        curl_multi_cleanup(multi)
    }

    private func collectFinished(_ active: inout [UnsafeMutableRawPointer: ActiveTransfer]) {
        var left: Int32 = 0
        while let message = curl_multi_info_read(multi, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                let transfer = active.removeValue(forKey: easy)
            else { continue }
            let code = warncast_message_result(message)
            curl_multi_remove_handle(multi, easy)
            transfer.finish(easy: easy, code: code)
            curl_easy_cleanup(easy)
        }
    }
}

/// One transfer while the engine thread owns it: the request's buffers, kept alive until
/// libcurl is done, and the response as it arrives. Touched only on the engine thread.
private final class ActiveTransfer {
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

    init(_ request: HTTPRequestSpec, continuation: CheckedContinuation<HTTPResult, any Error>) {
        self.request = request
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

    func makeHandle(options: CurlEngine.Options) -> UnsafeMutableRawPointer? {
        guard let easy = curl_easy_init() else { return nil }
        for header in request.headers { headers = curl_slist_append(headers, header) }
        _ = warncast_easy_setopt_string(easy, CURLOPT_URL, request.url)
        if let mail = request.mail {
            setUpMail(easy, mail)
        } else {
            _ = warncast_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, request.method)
        }
        _ = warncast_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = warncast_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeoutMilliseconds)
        _ = warncast_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, request.totalTimeoutMilliseconds)
        _ = warncast_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, options.verifyTLS ? 1 : 0)
        _ = warncast_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, options.verifyTLS ? 2 : 0)
        if let bundle = options.caBundle { _ = warncast_easy_setopt_string(easy, CURLOPT_CAINFO, bundle) }
        if let certificate = options.clientCertificate { _ = warncast_easy_setopt_string(easy, CURLOPT_SSLCERT, certificate) }
        if let key = options.clientKey { _ = warncast_easy_setopt_string(easy, CURLOPT_SSLKEY, key) }
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
        continuation.resume(returning: HTTPResult(status: status, body: response, transcript: transcript, headers: responseHeaders))
    }
}
