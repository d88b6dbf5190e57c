/// An issuing department (发布责任单位): a weather bureau, a natural-resources bureau, …
///
/// Its region fixes its tier and the areas it may warn; it may issue only the event types
/// listed in `events`.
public struct Department: Sendable, Codable, Equatable {
    /// Short stable identifier, e.g. `csx-weather`.
    public var id: String
    public var name: String
    /// Kind of department, e.g. `weather`, `natural-resources`, `water`, `forestry`.
    public var kind: String
    public var region: RegionCode
    /// Event type codes from the catalogue this department may issue.
    public var events: [String]
    /// The CAP `<sender>` addresses its messages may carry. Empty: addresses whose local
    /// part is the department's id (`csx-weather@…`).
    public var senders: [String]

    public init(id: String, name: String, kind: String, region: RegionCode, events: [String], senders: [String] = []) {
        self.senders = senders
        self.id = id
        self.name = name
        self.kind = kind
        self.region = region
        self.events = events
    }

    public var tier: Tier { region.tier }

    // Departments stored before senders existed decode with none.
    enum CodingKeys: String, CodingKey {
        case id, name, kind, region, events, senders
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        name = try container.decode(String.self, forKey: .name)
        kind = try container.decode(String.self, forKey: .kind)
        region = try container.decode(RegionCode.self, forKey: .region)
        events = try container.decode([String].self, forKey: .events)
        senders = try container.decodeIfPresent([String].self, forKey: .senders) ?? []
    }

    public func mayIssue(event code: String) -> Bool { events.contains(code) }

    /// Whether a message from this department may name `sender` as its CAP sender, so no
    /// department can publish, or block identifiers, under another's name. An upper-tier
    /// node relays what others sent, signed by that node, so any sender passes for it.
    public func maySend(as sender: String) -> Bool {
        if kind == Self.upstreamKind { return true }
        if senders.isEmpty { return sender.split(separator: "@", maxSplits: 1).first.map(String.init) == id }
        return senders.contains(sender)
    }

    /// The department an upper-tier node's warnings are filed under (kind `upstream`).
    public static let upstreamKind = "upstream"

    /// Whether `area` is one this department may warn. An upper-tier node relays warnings
    /// from further up, so for it an area overlapping its region will do (a provincial
    /// warning handed down by the city concerns the city too); an issuing department's
    /// areas must lie within its region.
    public func mayWarn(_ area: RegionCode) -> Bool {
        kind == Self.upstreamKind ? area.overlaps(region) : area.isWithin(region)
    }
}
