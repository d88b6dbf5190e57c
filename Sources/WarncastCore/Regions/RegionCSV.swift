import Foundation

/// Reads the region registry's CSV format: a header line, then
/// `code,name,parent[,longitude,latitude]` (both or neither; empty for a division without
/// them). Every bad row is reported with its line.
public enum RegionCSV {
    /// A row the importer refused, with its 1-based line number.
    public struct RowError: Error, Sendable, Equatable, CustomStringConvertible {
        public var line: Int
        public var reason: String

        public var description: String { "line \(line): \(reason)" }

        public init(line: Int, reason: String) {
            self.line = line
            self.reason = reason
        }
    }

    /// What a file yielded: the good rows and one error per bad row.
    public struct Result: Sendable {
        public var regions: [Region]
        public var errors: [RowError]
    }

    /// Parses `text`. When `within` is given, only that division and what lies inside it are
    /// kept (used to load one province from the national file).
    public static func parse(_ text: String, within: RegionCode? = nil) -> Result {
        var regions: [Region] = []
        var errors: [RowError] = []
        var seen: Set<RegionCode> = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let row = line.hasSuffix("\r") ? line.dropLast() : line
            if row.isEmpty || (lineNumber == 1 && row.hasPrefix("code")) { continue }
            switch parseRow(row) {
            case .failure(let reason):
                errors.append(RowError(line: lineNumber, reason: reason))
            case .success(let region):
                if let within, !region.code.isWithin(within) { continue }
                if !seen.insert(region.code).inserted {
                    errors.append(RowError(line: lineNumber, reason: "duplicate code \(region.code)"))
                    continue
                }
                regions.append(region)
            }
        }
        return Result(regions: regions, errors: errors)
    }

    private enum RowResult {
        case success(Region)
        case failure(String)
    }

    private static func parseRow(_ row: Substring) -> RowResult {
        let fields = row.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard fields.count >= 3 else {
            return .failure("expected code,name,parent but found \(fields.count) field(s)")
        }
        guard let code = RegionCode(fields[0]) else {
            return .failure("'\(fields[0])' is not a division code (6, 9 or 12 digits)")
        }
        guard !fields[1].isEmpty else { return .failure("code \(code) has no name") }
        var parent: RegionCode?
        if !fields[2].isEmpty {
            guard let parsed = RegionCode(fields[2]) else {
                return .failure("parent '\(fields[2])' is not a division code")
            }
            guard parsed.contains(code) else {
                return .failure("parent \(parsed) does not contain \(code)")
            }
            parent = parsed
        } else if code.tier != .province {
            return .failure("\(code.tier.rawValue) \(code) has no parent")
        }
        var longitude: Double?
        var latitude: Double?
        if fields.count >= 5, !(fields[3].isEmpty && fields[4].isEmpty) {
            guard let x = Double(fields[3]), (-180...180).contains(x) else {
                return .failure("longitude '\(fields[3])' of \(code) is not a number from -180 to 180")
            }
            guard let y = Double(fields[4]), (-90...90).contains(y) else {
                return .failure("latitude '\(fields[4])' of \(code) is not a number from -90 to 90")
            }
            (longitude, latitude) = (x, y)
        }
        return .success(Region(code: code, name: fields[1], parent: parent, longitude: longitude, latitude: latitude))
    }
}
