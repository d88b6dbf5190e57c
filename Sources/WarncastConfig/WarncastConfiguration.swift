import Foundation
import WarncastCore

/// Everything `warncastd` and `warncast` read from the configuration file, validated.
/// Relative paths in the file are resolved against the file's own directory.
public struct WarncastConfiguration: Sendable {
    /// Absolute path of the file this was read from.
    public var file: String
    public var server: Server
    public var store: Store
    public var node: Node
    public var registries: Registries
    public var events: EventCatalogue
    public var approval: Approval
    public var dispatch: Dispatch
    public var logLevel: String
    /// Upper-tier nodes this node takes warnings from.
    public var cascade: Cascade = Cascade()

    /// The duty contacts told when a gateway goes down or deliveries are given up
    /// (`notify`): recipient ids of the recipient registry, reached through their channels.
    public struct Notify: Sendable {
        public var contacts: [String] = []
        /// The same trouble (a gateway, a warning's give-ups) is told at most this often.
        public var minInterval: TimeInterval = 300

        public init(contacts: [String] = [], minInterval: TimeInterval = 300) {
            self.contacts = contacts
            self.minInterval = minInterval
        }
    }
    /// How fast warnings of each level must be approved and reach their villages.
    public var timeliness: [Level: TimelinessThreshold] = [:]
    /// Who on duty is told of trouble in delivery.
    public var notify: Notify = Notify()

    /// The province / city / county chain: which upper-tier nodes may hand warnings down to
    /// this one, known by their public keys.
    public struct Cascade: Sendable {
        public var upstream: [Upstream] = []

        public init(upstream: [Upstream] = []) {
            self.upstream = upstream
        }
    }

    public struct Upstream: Sendable, Equatable {
        public enum Approval: String, Sendable {
            /// Approved up there: released here at once.
            case preApproved = "pre-approved"
            /// This node's approval rules apply (they can match `kinds: [upstream]`).
            case local
        }

        /// The upper node's `node.name`.
        public var name: String
        /// Its region: warnings it hands down must lie within it.
        public var region: RegionCode
        /// Its Ed25519 public keys (base64 of the raw 32 bytes), as its
        /// `/.well-known/warncast-keys` lists them.
        public var publicKeys: [String]
        public var approval: Approval

        /// The department its warnings are filed under here.
        public var departmentID: String { "upstream-\(name)" }

        /// That department: of kind `upstream`, over the node's region, for every event type
        /// of the catalogue (it relays what the nodes above it issued).
        public func department(catalogue: EventCatalogue) -> Department {
            Department(
                id: departmentID, name: name, kind: Department.upstreamKind, region: region,
                events: catalogue.events.map(\.code))
        }

        public init(name: String, region: RegionCode, publicKeys: [String], approval: Approval) {
            self.name = name
            self.region = region
            self.publicKeys = publicKeys
            self.approval = approval
        }
    }

    /// The HTTP listener.
    public struct Server: Sendable {
        public var host: String
        public var port: Int
        /// Largest request body accepted, in bytes (default 256 KiB).
        public var maxBodyBytes: Int
        /// A connection with no request in progress (none sent yet, or the last one answered)
        /// is closed after this many seconds; a request whose body stops coming too. Streams
        /// being answered (dial-in terminals, report streams) are not idle.
        public var idleTimeoutSeconds = 120
        /// How gateways reach this node for delivery reports, e.g. `http://10.0.0.5:8080`;
        /// by default the listener's own address (127.0.0.1 when it listens on every interface).
        public var publicURL: String?
        /// Addresses of reverse proxies (nginx terminating TLS) whose `X-Forwarded-For` names
        /// the client: a request from one of them is taken to come from the last address in
        /// that header that is not itself a proxy. Empty: the header is ignored, since anyone
        /// can send it.
        public var trustedProxies: [String] = []

        /// The base URL delivery reports are sent back to, given the port actually bound.
        public func callbackBase(boundPort: Int? = nil) -> String {
            if let publicURL { return publicURL }
            let reachable = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
            return "http://\(reachable):\(boundPort ?? port)"
        }
    }

    /// Where the embedded SQLite store lives.
    public struct Store: Sendable {
        public var dataDirectory: String
        /// Attempt-by-attempt detail and gateway reports older than this many days are
        /// deleted; 0 keeps them for ever. Warnings, deliveries and the audit log are kept.
        public var retentionDays: Int = 0
        public var databasePath: String { dataDirectory + "/warncast.sqlite" }
    }

    /// Who this node is in the province / city / county chain.
    public struct Node: Sendable {
        public var name: String
        public var region: RegionCode
        /// The language of the node's own people (`node.language`, default zh-CN): the
        /// `<info>` block a recipient without a language of its own, or with one no block
        /// is in, gets.
        public var language: String = "zh-CN"
        /// The centre's own name as residents know it (`node.title`, e.g. 湖南省突发事件预警信息发布中心),
        /// on the public page and feeds; by default `name`.
        public var title: String
        /// The zone people here read times in (`node.time_zone`, default Asia/Shanghai): the
        /// public page shows times in it.
        public var timeZone: TimeZone
        public var tier: Tier { region.tier }

        public init(name: String, region: RegionCode, language: String = "zh-CN", title: String? = nil, timeZone: TimeZone? = nil) {
            self.name = name
            self.region = region
            self.language = language
            self.title = title ?? name
            self.timeZone = timeZone ?? TimeZone(identifier: "Asia/Shanghai") ?? TimeZone(secondsFromGMT: 8 * 3600)!
        }
    }

    /// Registry files loaded into the store when the daemon starts.
    public struct Registries: Sendable {
        public var regions: [RegionSource]
        public var departments: String?
        /// Recipients CSV (`id,channel,region,name,address,secret,options`).
        public var recipients: String?
    }

    /// Delivering released warnings: routing, channels, signing and TLS.
    public struct Dispatch: Sendable {
        public var routing: DeliveryRouting
        public var channels: [String: Channel]
        /// The Ed25519 keyring; created with a new key on first start if missing.
        public var signingKeyFile: String
        public var tls: TLS
        /// Shared gateways (an SMS centre several channels send through): name → messages
        /// per second at most, across all its channels.
        public var gateways: [String: Int]
        /// Levels whose deliveries are retried until the warning expires rather than up to a
        /// channel's `max_attempts` (default red and orange).
        public var retryUntilExpiry: Set<Level> = [.red, .orange]

        public init(
            routing: DeliveryRouting, channels: [String: Channel], signingKeyFile: String, tls: TLS, gateways: [String: Int] = [:]
        ) {
            self.routing = routing
            self.channels = channels
            self.signingKeyFile = signingKeyFile
            self.tls = tls
            self.gateways = gateways
        }
    }

    /// One channel: which adapter speaks it, and how hard it may be pushed.
    public typealias Channel = ChannelSettings

    /// Outbound TLS. Verification is on unless switched off explicitly.
    public struct TLS: Sendable {
        public var verify: Bool
        public var caBundle: String?
        public var clientCertificate: String?
        public var clientKey: String?

        public init(verify: Bool = true, caBundle: String? = nil, clientCertificate: String? = nil, clientKey: String? = nil) {
            self.verify = verify
            self.caBundle = caBundle
            self.clientCertificate = clientCertificate
            self.clientKey = clientKey
        }
    }

    /// Approval rules, roles, and what happens when a decision is late.
    public struct Approval: Sendable {
        /// Approval roles approver tokens may hold, e.g. `duty-leader`, `government-leader`.
        public var roles: [String]
        public var rules: ApprovalRuleSet
        /// How often the scheduler looks for overdue and expired warnings.
        public var checkInterval: TimeInterval
        /// How often an undecided, overdue warning is escalated again.
        public var escalationRepeat: TimeInterval
        /// Who is told when a warning is escalated.
        public var escalationContacts: [String]
    }

    /// One region CSV, optionally narrowed to the divisions within one code.
    public struct RegionSource: Sendable, Equatable {
        public var path: String
        public var within: RegionCode?
    }
}
