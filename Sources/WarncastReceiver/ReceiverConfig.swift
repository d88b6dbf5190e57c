import Foundation

/// The receiver's configuration: what `warncast-receiver --config FILE` reads, parsed once
/// by `ReceiverConfigLoader` and passed to every part as a value.
public struct ReceiverConfig: Sendable, Equatable {
    /// How warnings reach the terminal: the node POSTs to us (`push`), or we keep a
    /// connection open to the node and it pushes down that (`dial-in`, behind NAT).
    public enum Mode: String, Sendable, Equatable {
        case push
        case dialIn = "dial-in"
    }

    /// Where the speech goes.
    public enum Output: String, Sendable, Equatable, CaseIterable {
        /// `alsa` when `aplay -l` lists a sound card, else `wav`.
        case auto
        /// WAV file, then `aplay`.
        case alsa
        /// WAV files only, for another program (or a person) to play.
        case wav
    }

    /// Which keys a refresh of the node's list may add to those pinned (the first pin, on
    /// a start with no `keys.json`, takes what the node serves whatever this says).
    public enum KeyUpdates: String, Sendable, Equatable, CaseIterable {
        /// Only when the node is reached over verified HTTPS: nobody on the way can slip a key in.
        case https
        /// Over plain HTTP too (a lab, or a private network one trusts).
        case any
        /// Never: `keys.json` is provisioned by hand and the node is never asked.
        case none
    }

    /// The file it was read from, for messages.
    public var file: String
    public var mode: Mode
    /// warncastd's base URL, without a trailing slash.
    public var node: String
    /// This terminal's recipient id at the node.
    public var terminal: String
    /// The recipient's secret: the bearer token for heartbeats and playback reports.
    public var secret: String
    public var listenHost: String
    /// 0 picks a free port.
    public var listenPort: Int
    /// In push mode, a connection that asks nothing (or whose body stops coming) is closed
    /// after this many seconds: a small station cannot be kept busy holding idle ones.
    public var idleTimeoutSeconds = 30
    /// In push mode, at most this many connections are taken at once; more wait in the
    /// listen queue until one closes. Open files stay for playback (espeak-ng, aplay, the
    /// WAV files, the logs) however many connections someone opens. Not so few that a
    /// handful of idle connections (each closed after `idleTimeoutSeconds`) keep the node's
    /// push out: the push port should be reachable from the node only (a firewall rule).
    public var maxConnections = 256
    /// Holds `keys.json`, `played.log` and `wav/`.
    public var stateDirectory: String
    public var output: Output
    public var voices: VoiceTable
    /// A message signed further than this from the local clock is stale.
    public var freshnessSeconds: Int
    public var heartbeatSeconds: Int
    public var keyRefreshSeconds: Int
    public var keyUpdates: KeyUpdates
    /// A warning still waiting in the queue at a start is played only if it was accepted
    /// less than this long ago (and has not expired): an hours-old warning is not news.
    public var replayWithinSeconds: Int
    /// A PEM file of the authorities to trust for an `https://` node (a private CA) instead
    /// of the system's bundle; nil: the system's.
    public var caBundle: String?
    /// A PEM certificate the station shows an `https://` node that asks for one (nginx in
    /// front with terminal certificates), and its private key (by default read from the
    /// certificate's file); nil: none.
    public var clientCertificate: String?
    public var clientKey: String?

    public init(
        file: String, mode: Mode = .push, node: String, terminal: String, secret: String, listenHost: String = "127.0.0.1",
        listenPort: Int, stateDirectory: String = ReceiverConfig.defaultStateDirectory, output: Output = .auto,
        voices: VoiceTable = .standard, freshnessSeconds: Int = 300, heartbeatSeconds: Int = 20, keyRefreshSeconds: Int = 3600,
        keyUpdates: KeyUpdates = .https, replayWithinSeconds: Int = 21_600
    ) {
        self.keyUpdates = keyUpdates
        self.replayWithinSeconds = replayWithinSeconds
        self.file = file
        self.mode = mode
        self.node = node
        self.terminal = terminal
        self.secret = secret
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.stateDirectory = stateDirectory
        self.output = output
        self.voices = voices
        self.freshnessSeconds = freshnessSeconds
        self.heartbeatSeconds = heartbeatSeconds
        self.keyRefreshSeconds = keyRefreshSeconds
    }

    public static let defaultStateDirectory = "/var/lib/warncast-receiver"

    /// Where the pinned signing keys are kept.
    public var keysFile: URL { URL(fileURLWithPath: stateDirectory).appendingPathComponent("keys.json") }
    /// The idempotency keys already accepted.
    public var playedLogFile: URL { URL(fileURLWithPath: stateDirectory).appendingPathComponent("played.log") }
    /// Accepted warnings not played yet.
    public var queueDirectory: URL { URL(fileURLWithPath: stateDirectory).appendingPathComponent("queue", isDirectory: true) }
    /// The WAV files spoken.
    public var wavDirectory: URL { URL(fileURLWithPath: stateDirectory).appendingPathComponent("wav", isDirectory: true) }
}
