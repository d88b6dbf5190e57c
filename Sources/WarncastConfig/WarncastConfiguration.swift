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
    public var logLevel: String

    /// The HTTP listener.
    public struct Server: Sendable {
        public var host: String
        public var port: Int
        /// Largest request body accepted, in bytes (default 256 KiB).
        public var maxBodyBytes: Int
    }

    /// Where the embedded SQLite store lives.
    public struct Store: Sendable {
        public var dataDirectory: String
        public var databasePath: String { dataDirectory + "/warncast.sqlite" }
    }

    /// Who this node is in the province / city / county chain.
    public struct Node: Sendable {
        public var name: String
        public var region: RegionCode
        public var tier: Tier { region.tier }
    }

    /// Registry files loaded into the store when the daemon starts.
    public struct Registries: Sendable {
        public var regions: [RegionSource]
        public var departments: String?
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
