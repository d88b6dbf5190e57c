import Foundation

/// Reads recipients a line at a time (`RegistryImporter` streams the file): a header line,
/// then `id,channel,region,name,address,secret,options` where `options` is `key=value` pairs
/// separated by `;`, e.g. `language=zh-CN;repeat=3`. The secret (which a loudspeaker uses to
/// acknowledge later) may be empty.
public enum RecipientCSV {
    public struct Row: Sendable {
        public var recipient: Recipient
        public var secret: String?
    }

    /// Why a row (or a recipient given field by field) cannot be a recipient.
    public struct Failure: Error, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
    }

    /// One line of the file (not the header).
    public static func parseRow(_ line: String, channels: Set<String>) -> Result<Row, Failure> {
        let fields = line.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard fields.count == 7 else {
            return .failure(.init(reason: "expected id,channel,region,name,address,secret,options but found \(fields.count) field(s)"))
        }
        return row(
            id: fields[0], channel: fields[1], region: fields[2], name: fields[3], address: fields[4], secret: fields[5],
            options: fields[6], channels: channels)
    }

    /// One recipient from its fields as the CSV has them (`options` as `key=value;…`,
    /// an empty secret for none), checked as an import checks a row.
    public static func row(
        id: String, channel: String, region regionText: String, name: String, address: String, secret: String,
        options optionText: String,
        channels: Set<String>
    ) -> Result<Row, Failure> {
        guard !id.isEmpty else { return .failure(.init(reason: "empty id")) }
        guard channels.contains(channel) else {
            return .failure(.init(reason: "unknown channel '\(channel)' (configured: \(channels.sorted().joined(separator: ", ")))"))
        }
        guard let region = RegionCode(regionText) else {
            return .failure(.init(reason: "'\(regionText)' is not a division code"))
        }
        guard !address.isEmpty else { return .failure(.init(reason: "recipient \(id) has no address")) }
        if let problem = addressProblem(address) { return .failure(.init(reason: "recipient \(id): \(problem)")) }
        var options: [String: String] = [:]
        for pair in optionText.split(separator: ";") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { return .failure(.init(reason: "option '\(pair)' is not key=value")) }
            options[String(parts[0])] = String(parts[1])
        }
        let recipient = Recipient(id: id, channel: channel, region: region, name: name, address: address, options: options)
        return .success(Row(recipient: recipient, secret: secret.isEmpty ? nil : secret))
    }

    /// Why `address` cannot be a recipient's address: no URL, phone number or mailbox holds
    /// a control character, a space or angle brackets, and one that did could add lines to a
    /// mail's headers or an SMTP conversation.
    public static func addressProblem(_ address: String) -> String? {
        for scalar in address.unicodeScalars
        where scalar.value < 0x20 || scalar.value == 0x7F || scalar == " " || scalar == "<" || scalar == ">" {
            return
                "the address holds \(scalar.value < 0x20 || scalar.value == 0x7F ? "a control character" : "'\(scalar)'"), which no address has"
        }
        return nil
    }
}
