import Foundation

/// Kannel as the SMS gateway of a test: bearerbox, a fake SMSC (`fakesmsc`, which prints
/// every message it receives) and smsbox with a sendsms user, all on loopback ports of
/// their own. The packages come from Debian (`kannel`, `kannel-extras`), installed by
/// `make deps-test`; when they are missing the test fails saying so, it never skips.
public final class KannelPeer: @unchecked Sendable {
    public static let bearerbox = "/usr/sbin/bearerbox"
    public static let smsbox = "/usr/sbin/smsbox"
    public static let fakesmsc = "/usr/lib/kannel/test/fakesmsc"

    public let username = "warncast"
    public let password = "sms-secret"
    public let sendsmsPort: Int
    private var peers: [PeerProcess] = []
    private var smsc: PeerProcess?
    /// What fake SMSCs stopped before this one received.
    private var earlierLogs: [String] = []
    private let directory: URL
    private let file: URL
    private let admin: Int
    private let smscPort: Int

    /// The URL the Kannel adapter's `url` setting points at.
    public var sendsmsURL: String { "http://127.0.0.1:\(sendsmsPort)/cgi-bin/sendsms" }

    /// The `settings:` of a Kannel channel sending through this peer to its fake SMSC (and
    /// through `fallback` while this one is down), indented as under `dispatch.channels.<name>`.
    public func channelSettings(fallback: KannelPeer? = nil) -> String {
        var lines = ["      settings:", "        url: \(sendsmsURL)"]
        if let fallback { lines.append("        fallback_urls: \(fallback.sendsmsURL)") }
        lines += ["        username: \(username)", "        password: \(password)", "        from: \"12379\"", "        smsc: fake"]
        return lines.joined(separator: "\n")
    }

    public init(directory: URL) throws {
        for binary in [Self.bearerbox, Self.smsbox, Self.fakesmsc] where !FileManager.default.isExecutableFile(atPath: binary) {
            throw PeerFailure(name: binary, log: "not installed: run `make deps-test` (Debian packages kannel and kannel-extras)")
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        admin = PeerProcess.freePort()
        let box = PeerProcess.freePort()
        smscPort = PeerProcess.freePort()
        sendsmsPort = PeerProcess.freePort()
        self.directory = directory
        let config = """
            group = core
            admin-port = \(admin)
            admin-interface = 127.0.0.1
            admin-password = admin-secret
            smsbox-port = \(box)
            smsbox-interface = 127.0.0.1
            box-allow-ip = 127.0.0.1
            dlr-storage = internal
            log-level = 1

            group = smsc
            smsc = fake
            smsc-id = fake
            port = \(smscPort)
            our-host = 127.0.0.1
            connect-allow-ip = 127.0.0.1

            group = smsbox
            bearerbox-host = 127.0.0.1
            sendsms-port = \(sendsmsPort)
            sendsms-interface = 127.0.0.1
            http-request-retry = 5
            log-level = 1

            group = sendsms-user
            username = \(username)
            password = \(password)
            max-messages = 10
            concatenation = true

            group = sms-service
            keyword = default
            text = "not taking messages"

            """
        file = directory.appendingPathComponent("kannel.conf")
        try config.write(to: file, atomically: true, encoding: .utf8)
        try start()
    }

    /// Starts Kannel in its order: bearerbox, the fake SMSC, smsbox (again after `stop()`,
    /// on the same ports).
    public func start() throws {
        // Killed, not asked to stop: a test's Kannel has nothing to keep, and bearerbox takes
        // seconds to shut down politely (an outage test stops it mid-run on purpose).
        peers.append(
            try PeerProcess(
                "bearerbox", executable: Self.bearerbox, arguments: [file.path], directory: directory, port: admin, stopSignal: SIGKILL))
        // `-m 0`: the fake SMSC sends no messages of its own, it only receives and reports.
        let smsc = try PeerProcess(
            "fakesmsc", executable: Self.fakesmsc, arguments: ["-H", "127.0.0.1", "-r", String(smscPort), "-m", "0", "100 200 text nop"],
            directory: directory, stopSignal: SIGKILL)
        self.smsc = smsc
        peers.append(smsc)
        peers.append(
            try PeerProcess(
                "smsbox", executable: Self.smsbox, arguments: [file.path], directory: directory, port: sendsmsPort, stopSignal: SIGKILL))
    }

    /// Stops every Kannel process, keeping what the fake SMSC received so far.
    public func stop() {
        for peer in peers.reversed() { peer.stop() }
        if let smsc { earlierLogs.append(smsc.log) }
        smsc = nil
        peers = []
    }

    deinit { stop() }

    /// One SMS as it reached the SMSC, parts of a concatenated message joined.
    public struct ReceivedSMS: Sendable, Equatable {
        public var to: String
        public var text: String
        public var parts: Int
    }

    /// Everything the fake SMSC has received so far, decoded: UCS-2 (`ucs-2`, `data`) and plain
    /// (`text`) messages, concatenated parts joined in order by their UDH reference.
    public var received: [ReceivedSMS] {
        var single: [ReceivedSMS] = []
        var partial: [String: [Int: Data]] = [:]
        var totals: [String: Int] = [:]
        var order: [String] = []
        let log = (earlierLogs + [smsc?.log ?? ""]).joined(separator: "\n")
        for line in log.split(separator: "\n") where line.contains("Got message") {
            guard let open = line.firstIndex(of: "<"), let close = line.lastIndex(of: ">") else { continue }
            var fields = line[line.index(after: open)..<close].split(separator: " ").map(String.init)
            guard fields.count >= 4 else { continue }
            let to = fields[1]
            var header: Data?
            if fields[2] == "udh", fields.count >= 6 {
                header = Self.percentDecoded(fields[3])
                fields.removeSubrange(2...3)
            }
            let kind = fields[2]
            let payload = Self.percentDecoded(fields[3...].joined(separator: " "))
            // fakesmsc logs a single UCS-2 message as `ucs-2`, a part of a concatenated one as `data`.
            let text =
                kind == "data" || kind == "ucs-2"
                ? String(decoding: Self.utf16BigEndian(payload), as: UTF16.self) : String(decoding: payload, as: UTF8.self)
            // UDH IE 0x00: concatenated SMS, 8-bit reference, total parts, this part's number.
            if let header, header.count >= 6, header[header.startIndex + 1] == 0 {
                let bytes = [UInt8](header)
                let key = "\(to)#\(bytes[3])"
                if partial[key] == nil { order.append(key) }
                partial[key, default: [:]][Int(bytes[5])] = payload
                totals[key] = Int(bytes[4])
            } else {
                single.append(ReceivedSMS(to: to, text: text, parts: 1))
            }
        }
        for key in order {
            guard let parts = partial[key], let total = totals[key], parts.count == total else { continue }
            let joined = (1...total).reduce(Data()) { $0 + (parts[$1] ?? Data()) }
            let to = String(key.split(separator: "#")[0])
            single.append(ReceivedSMS(to: to, text: String(decoding: Self.utf16BigEndian(joined), as: UTF16.self), parts: total))
        }
        return single
    }

    private static func utf16BigEndian(_ data: Data) -> [UInt16] {
        let bytes = [UInt8](data)
        return stride(from: 0, to: bytes.count - 1, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
    }

    /// fakesmsc prints bytes URL-encoded: `%XX` for most, the printable ones as they are.
    private static func percentDecoded(_ text: String) -> Data {
        var out = Data()
        var bytes = Array(text.utf8)[...]
        while let byte = bytes.popFirst() {
            if byte == UInt8(ascii: "%"), bytes.count >= 2,
                let value = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16)
            {
                out.append(value)
                bytes = bytes.dropFirst(2)
            } else if byte == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else {
                out.append(byte)
            }
        }
        return out
    }
}
