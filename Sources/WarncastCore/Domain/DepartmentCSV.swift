import Foundation

/// Reads the department registry's CSV format: a header line, then
/// `id,name,kind,region,events[,senders]` with event codes and CAP sender addresses each
/// separated by `|`.
public enum DepartmentCSV {
    public static func parse(_ text: String, catalogue: EventCatalogue) -> (departments: [Department], errors: [RegionCSV.RowError]) {
        var departments: [Department] = []
        var errors: [RegionCSV.RowError] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let row = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if row.isEmpty || row.hasPrefix("#") || (index == 0 && row.hasPrefix("id,")) { continue }
            do {
                departments.append(try parseRow(row, catalogue: catalogue))
            } catch {
                errors.append(.init(line: index + 1, reason: error.reason))
            }
        }
        return (departments, errors)
    }

    struct RowFailure: Error { var reason: String }

    static func parseRow(_ row: String, catalogue: EventCatalogue) throws(RowFailure) -> Department {
        let fields = row.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard fields.count == 5 || fields.count == 6 else {
            throw RowFailure(reason: "expected id,name,kind,region,events[,senders] but found \(fields.count) field(s)")
        }
        guard let region = RegionCode(fields[3]) else {
            throw RowFailure(reason: "'\(fields[3])' is not a division code")
        }
        let department = Department(
            id: fields[0], name: fields[1], kind: fields[2], region: region,
            events: fields[4].split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) },
            senders: fields.count == 6 ? fields[5].split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } : [])
        if let problem = department.problem(in: catalogue) { throw RowFailure(reason: problem) }
        return department
    }
}

extension Department {
    /// What is wrong with this department against the event catalogue, if anything.
    public func problem(in catalogue: EventCatalogue) -> String? {
        let idCharacters = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyz0123456789-_.")
        if id.isEmpty || id.unicodeScalars.contains(where: { !idCharacters.contains($0) }) {
            return "id '\(id)' must be lower-case letters, digits, '-', '_' or '.'"
        }
        if name.isEmpty { return "department \(id) has no name" }
        if kind.isEmpty { return "department \(id) has no kind" }
        if kind == Department.upstreamKind { return "kind '\(kind)' is reserved for upper-tier nodes (cascade.upstream)" }
        if events.isEmpty { return "department \(id) lists no event types" }
        for sender in senders where sender.isEmpty || sender.contains(where: { $0 == " " || $0 == "," || $0 == "<" || $0 == "&" }) {
            return "sender '\(sender)' of department \(id) is not a CAP sender address"
        }
        for code in events {
            guard let event = catalogue.event(code: code) else {
                return "event type '\(code)' is not in the event catalogue"
            }
            guard event.kinds.contains(kind) else {
                return "a \(kind) department may not issue '\(code)' (allowed kinds: \(event.kinds.joined(separator: ", ")))"
            }
        }
        return nil
    }
}
