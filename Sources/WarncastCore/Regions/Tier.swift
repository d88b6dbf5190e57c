/// A tier of the administrative hierarchy. Province, city and county codes have 6 digits
/// (GB/T 2260), townships 9 and villages 12 (statistical division codes).
public enum Tier: String, Sendable, Codable, CaseIterable, Comparable {
    /// 省
    case province
    /// 市、州
    case city
    /// 县、区
    case county
    /// 乡镇、街道
    case township
    /// 村、社区
    case village

    /// The tier directly above this one, `nil` for a province.
    public var above: Tier? {
        guard let index = Tier.allCases.firstIndex(of: self), index > 0 else { return nil }
        return Tier.allCases[index - 1]
    }

    private var depth: Int { Tier.allCases.firstIndex(of: self)! }

    public static func < (lhs: Tier, rhs: Tier) -> Bool { lhs.depth < rhs.depth }
}
