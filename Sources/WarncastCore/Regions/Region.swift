/// One administrative division in the region registry.
public struct Region: Sendable, Codable, Equatable {
    public var code: RegionCode
    public var name: String
    /// The division directly above, `nil` for a province.
    public var parent: RegionCode?
    /// Where it lies (its seat, in degrees, WGS 84), when the registry says: the national
    /// file has them down to the counties. The console's coverage picture places divisions by them.
    public var longitude: Double?
    public var latitude: Double?

    public init(code: RegionCode, name: String, parent: RegionCode?, longitude: Double? = nil, latitude: Double? = nil) {
        self.code = code
        self.name = name
        self.parent = parent
        self.longitude = longitude
        self.latitude = latitude
    }

    public var tier: Tier { code.tier }
}
