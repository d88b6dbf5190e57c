import CCurl
import Foundation
import Synchronization
import WarncastNet

/// One long GET of a Server-Sent Events stream on a libcurl easy handle, on a thread of its
/// own (the transfer blocks until the stream ends). Each event comes out of `events` as
/// its field lines; the stream ends when the connection does, when nothing at all arrives
/// for `silence` (the node sends a comment every 15 s), or when `stop()` is called.
final class EventStream: @unchecked Sendable {
    /// An event's fields: `event`, `id`, `data` (data lines joined by newlines).
    typealias Event = [String: String]

    /// How the transfer ended: the HTTP status (0 if none came) and libcurl's error, if any.
    struct Ending: Sendable {
        var status: Int
        var error: String?
    }

    let events: AsyncStream<Event>
    private let sink: AsyncStream<Event>.Continuation
    private let stopped = Atomic<Bool>(false)
    // Touched only by the transfer's thread, in its callbacks.
    private var buffer = Data()

    init() {
        (events, sink) = AsyncStream.makeStream(of: Event.self)
    }

    func stop() { stopped.store(true, ordering: .relaxed) }

    /// Runs the transfer on a new thread; returns how it ended.
    /// What an `https://` stream trusts and shows: `caBundle` instead of the system's
    /// authorities, and the station's own certificate and key when the node asks for one.
    struct TLS: Sendable {
        var caBundle: String?
        var clientCertificate: String?
        var clientKey: String?
    }

    func run(url: String, headers: [String], silence: Int, tls: TLS = TLS()) async -> Ending {
        await withCheckedContinuation { (done: CheckedContinuation<Ending, Never>) in
            let thread = Thread { [self] in
                let ending = transfer(url: url, headers: headers, silence: silence, tls: tls)
                sink.finish()
                done.resume(returning: ending)
            }
            thread.name = "warncast-receiver dial-in"
            thread.start()
        }
    }

    private func transfer(url: String, headers: [String], silence: Int, tls: TLS) -> Ending {
        guard let handle = curl_easy_init() else { return Ending(status: 0, error: "libcurl could not make a handle") }
        defer { curl_easy_cleanup(handle) }
        var list: UnsafeMutablePointer<curl_slist>? = nil
        for header in headers + ["Accept: text/event-stream"] { list = curl_slist_append(list, header) }
        defer { curl_slist_free_all(list) }
        let context = Unmanaged.passUnretained(self).toOpaque()
        _ = warncast_easy_setopt_string(handle, CURLOPT_URL, url)
        _ = warncast_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, list)
        _ = warncast_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, 10_000)
        _ = warncast_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        // A connection that carries nothing (not even the keep-alive comment) is dead.
        _ = warncast_easy_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1)
        _ = warncast_easy_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, silence)
        _ = warncast_easy_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1)
        // A private CA for an https:// node, and only it (not the system's CA directory as
        // well), as for the station's API calls; otherwise libcurl's own bundle.
        // Verification stays on either way.
        CurlTLS.apply(caBundle: tls.caBundle, certificate: tls.clientCertificate, key: tls.clientKey, to: handle)
        _ = warncast_easy_setopt_write_function(handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            let stream = Unmanaged<EventStream>.fromOpaque(context!).takeUnretainedValue()
            guard let data else { return 0 }
            return stream.received(UnsafeRawBufferPointer(start: data, count: size * count)) ? size * count : 0
        }
        _ = warncast_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, context)
        // Called about once a second even when nothing comes: a stop is noticed within it.
        _ = warncast_easy_setopt_long(handle, CURLOPT_NOPROGRESS, 0)
        _ = warncast_easy_setopt_progress_function(handle, CURLOPT_XFERINFOFUNCTION) { context, _, _, _, _ in
            Unmanaged<EventStream>.fromOpaque(context!).takeUnretainedValue().stopped.load(ordering: .relaxed) ? 1 : 0
        }
        _ = warncast_easy_setopt_pointer(handle, CURLOPT_XFERINFODATA, context)
        let code = curl_easy_perform(handle)
        var status = 0
        _ = warncast_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        guard code != CURLE_OK else { return Ending(status: status, error: nil) }
        let error = CurlError(code: Int(code.rawValue), message: String(cString: curl_easy_strerror(code)))
        return Ending(
            status: status,
            error: error.code == CurlError.untrustedPeer ? "\(error); \(NodeError.privateCAHint)" : error.description)
    }

    /// Bytes of the stream; complete events (ended by a blank line) go out. False stops
    /// the transfer (a stop was asked, or the node sent something that is not a stream).
    private func received(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard !stopped.load(ordering: .relaxed) else { return false }
        buffer.append(contentsOf: bytes)
        guard buffer.count < 8 << 20 else { return false }
        while let end = Self.blankLine(in: buffer) {
            let block = String(decoding: buffer[buffer.startIndex..<end.lowerBound], as: UTF8.self)
            buffer.removeSubrange(buffer.startIndex..<end.upperBound)
            if let event = Self.parse(block) { sink.yield(event) }
        }
        return true
    }

    /// Where the first blank line (an event's end) is, `\n\n` or `\r\n\r\n`.
    static func blankLine(in data: Data) -> Range<Data.Index>? {
        let lf = data.firstRange(of: Data([0x0A, 0x0A]))
        let crlf = data.firstRange(of: Data([0x0D, 0x0A, 0x0D, 0x0A]))
        switch (lf, crlf) {
        case (let a?, let b?): return a.lowerBound < b.lowerBound ? a : b
        case (let a?, nil): return a
        case (nil, let b?): return b
        default: return nil
        }
    }

    /// An event's fields, or nil for a block of comments only.
    static func parse(_ block: String) -> Event? {
        var event: Event = [:]
        for line in block.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline) {
            guard !line.hasPrefix(":") else { continue }
            let parts = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            var value = parts.count > 1 ? String(parts[1]) : ""
            if value.hasPrefix(" ") { value.removeFirst() }
            event[name] = name == "data" && event[name] != nil ? event[name]! + "\n" + value : value
        }
        return event.isEmpty ? nil : event
    }
}
