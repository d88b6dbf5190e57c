import Foundation

/// Reads recipients: a header line, then `id,channel,region,name,address,secret,options` where
/// `options` is `key=value` pairs separated by `;`, e.g. `language=zh-CN;repeat=3`. The
/// secret (which a loudspeaker uses to acknowledge later) may be empty.
public enum RecipientCSV {
    public struct Row: Sendable {
        public var recipient: Recipient
        public var secret: String?
    }

    public static func parse(_ text: String, channels: Set<String>) -> (rows: [Row], errors: [RegionCSV.RowError]) {
        var rows: [Row] = []
        var errors: [RegionCSV.RowError] = []
        var seen: Set<String> = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let row = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if row.isEmpty || row.hasPrefix("#") || (index == 0 && row.hasPrefix("id,")) { continue }
            switch parseRow(row, channels: channels) {
            case .success(let parsed):
                if seen.insert(parsed.recipient.id).inserted {
                    rows.append(parsed)
                } else {
                    errors.append(.init(line: index + 1, reason: "duplicate id \(parsed.recipient.id)"))
                }
            case .failure(let failure):
                errors.append(.init(line: index + 1, reason: failure.reason))
            }
        }
        return (rows, errors)
    }

    struct Failure: Error { var reason: String }

    static func parseRow(_ row: String, channels: Set<String>) -> Result<Row, Failure> {
        let fields = row.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard fields.count == 7 else {
            return .failure(.init(reason: "expected id,channel,region,name,address,secret,options but found \(fields.count) field(s)"))
        }
        guard !fields[0].isEmpty else { return .failure(.init(reason: "empty id")) }
        guard channels.contains(fields[1]) else {
            return .failure(.init(reason: "unknown channel '\(fields[1])' (configured: \(channels.sorted().joined(separator: ", ")))"))
        }
        guard let region = RegionCode(fields[2]) else {
            return .failure(.init(reason: "'\(fields[2])' is not a division code"))
        }
        guard !fields[4].isEmpty else { return .failure(.init(reason: "recipient \(fields[0]) has no address")) }
        var options: [String: String] = [:]
        for pair in fields[6].split(separator: ";") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { return .failure(.init(reason: "option '\(pair)' is not key=value")) }
            options[String(parts[0])] = String(parts[1])
        }
        let recipient = Recipient(
            id: fields[0], channel: fields[1], region: region, name: fields[3], address: fields[4], options: options)
        return .success(Row(recipient: recipient, secret: fields[5].isEmpty ? nil : fields[5]))
    }
}
