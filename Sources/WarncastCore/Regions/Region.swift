/// One administrative division in the region registry.
public struct Region: Sendable, Codable, Equatable {
    public var code: RegionCode
    public var name: String
    /// The division directly above, `nil` for a province.
    public var parent: RegionCode?

    public init(code: RegionCode, name: String, parent: RegionCode?) {
        self.code = code
        self.name = name
        self.parent = parent
    }

    public var tier: Tier { code.tier }
}
