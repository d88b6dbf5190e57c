import GRDB
import WarncastCore

/// The regions under a code prefix as a range of a text column: from the prefix itself to
/// below the prefix followed by U+FFFF, which every code under it sorts before. Unlike
/// `LIKE 'prefix%'` (whose comparison ignores case, so no index serves it), a range walks
/// an index, and where none serves it costs two comparisons instead of a pattern match.
enum RegionRange {
    /// The condition on `column`, taking the two `bounds` as its arguments.
    static func condition(_ column: String = "r.region") -> String { "(\(column) >= ? AND \(column) < ?)" }

    static func bounds(_ prefix: some StringProtocol) -> StatementArguments {
        [String(prefix), String(prefix) + "\u{FFFF}"]
    }

    /// `AND` the condition on `column` for `region`, and its two arguments; nothing for nil
    /// (every region: the whole warning, for a reader who sees all of it).
    static func and(_ region: RegionCode?, column: String = "region") -> (condition: String, bounds: StatementArguments) {
        guard let region else { return ("", []) }
        return (" AND " + condition(column), bounds(region.prefix))
    }
}
