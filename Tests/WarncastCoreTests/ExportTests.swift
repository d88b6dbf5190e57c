import Foundation
import Testing
import WarncastCore

@Suite("Exports and their verification")
struct ExportTests {
    /// A short chain with awkward content: commas, quotes, line breaks and Chinese.
    func chain() -> [AuditEntry] {
        var entries: [AuditEntry] = []
        var previous = AuditEntry.genesisHash
        let details = [#"{"reason":"a, b"}"#, "{\"note\":\"第一行\\n第二行\"}", #"{"quote":"say \"hi\""}"#]
        for (index, detail) in details.enumerated() {
            let entry = AuditEntry(
                sequence: Int64(index + 41), at: "2026-07-01T0\(index):00:00.000Z", actor: "tok_1 (值班员, issuer)",
                action: "warning.accepted", subject: "w\(index)", detail: detail, previousHash: previous)
            entries.append(entry)
            previous = entry.hash
        }
        return entries
    }

    func deliveries() -> [DeliveryExportFields] {
        (1...3).map { index in
            DeliveryExportFields(
                warning: "w1", identifier: "csx-1",
                delivery: DeliveryView(
                    id: Int64(index), recipient: "ls-\(index)", recipientName: "大喇叭, \(index)号", region: "430121001001",
                    channel: "loudspeaker", state: index == 3 ? .failed : .delivered, attempts: index, idempotencyKey: "w1/ls-\(index)",
                    queuedAt: Timestamp(text: "2026-07-01T00:00:00.000Z")!, sendingAt: Timestamp(text: "2026-07-01T00:00:01.000Z"),
                    acceptedAt: nil, deliveredAt: index == 3 ? nil : Timestamp(text: "2026-07-01T00:00:02.000Z"),
                    failedAt: index == 3 ? Timestamp(text: "2026-07-01T00:01:00.000Z") : nil,
                    expiredAt: nil, supersededAt: nil, nextAttemptAt: nil, lastStatus: index == 3 ? 500 : 200,
                    lastError: index == 3 ? "HTTP 500 \"busy\"\nretry" : nil))
        }
    }

    func export(_ kind: ExportKind, _ format: ExportFormat) -> String {
        var encoder = ExportEncoder(kind: kind, format: format)
        var text = encoder.header
        if kind == .audit {
            for entry in chain() { text += encoder.line(entry) }
        } else {
            for row in deliveries() { text += encoder.line(row) }
        }
        return text
    }

    @Test(
        "CSV and JSON Lines exports of the audit log and of deliveries verify on their own",
        arguments: [ExportFormat.csv, .json])
    func roundTrip(format: ExportFormat) throws {
        let audit = try ExportVerifier.verify(Data(export(.audit, format).utf8))
        #expect(audit.kind == .audit && audit.rows == 3)
        #expect(audit.anchor == AuditEntry.genesisHash && audit.lastHash == chain().last?.hash)
        let rows = try ExportVerifier.verify(Data(export(.deliveries, format).utf8))
        #expect(rows.kind == .deliveries && rows.rows == 3)
        var encoder = ExportEncoder(kind: .deliveries, format: format)
        for row in deliveries() { _ = encoder.line(row) }
        #expect(rows.lastHash == encoder.lastHash)
    }

    @Test(
        "changing one field of one row, or dropping a row, is found and named by its row",
        arguments: [ExportFormat.csv, .json])
    func tampering(format: ExportFormat) throws {
        let audit = export(.audit, format).replacingOccurrences(of: "\"w1\"", with: "\"w9\"")
            .replacingOccurrences(of: ",w1,", with: ",w9,")
        #expect(throws: ExportVerifier.Failure(row: 2, reason: "entry 42 does not match its hash")) {
            try ExportVerifier.verify(Data(audit.utf8))
        }
        // Someone turns the failed delivery into a delivered one.
        let delivered = export(.deliveries, format).replacingOccurrences(of: #""state":"failed""#, with: #""state":"delivered""#)
            .replacingOccurrences(of: ",failed,", with: ",delivered,")
        #expect(throws: ExportVerifier.Failure(row: 3, reason: "does not match its hash")) {
            try ExportVerifier.verify(Data(delivered.utf8))
        }
        var lines = export(.deliveries, format).components(separatedBy: format == .csv ? "\r\n" : "\n")
        lines.remove(at: format == .csv ? 2 : 1)
        #expect(throws: ExportVerifier.Failure.self) {
            try ExportVerifier.verify(Data(lines.joined(separator: format == .csv ? "\r\n" : "\n").utf8))
        }
    }

    @Test("CSV fields with commas, quotes and line breaks are quoted and read back whole")
    func csvQuoting() {
        let values = ["plain", "a, b", "say \"hi\"", "第一行\n第二行", ""]
        let line = values.map(CSV.field).joined(separator: ",") + "\r\n"
        #expect(CSV.parse(line) == [values])
    }
}
