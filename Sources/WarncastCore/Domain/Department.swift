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

    public init(id: String, name: String, kind: String, region: RegionCode, events: [String]) {
        self.id = id
        self.name = name
        self.kind = kind
        self.region = region
        self.events = events
    }

    public var tier: Tier { region.tier }

    public func mayIssue(event code: String) -> Bool { events.contains(code) }

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
