import Testing
import WarncastCore

@Suite("The audit hash chain")
struct AuditEntryTests {
    func chain(_ count: Int) -> [AuditEntry] {
        var entries: [AuditEntry] = []
        for index in 1...count {
            entries.append(
                AuditEntry(
                    sequence: Int64(index), at: "2026-07-01T00:00:0\(index).000Z", actor: "tok_a (张三, issuer)",
                    action: "warning.accepted", subject: "w\(index)", detail: #"{"level":"red"}"#,
                    previousHash: entries.last?.hash ?? AuditEntry.genesisHash))
        }
        return entries
    }

    @Test("an untouched chain verifies")
    func intact() {
        let entries = chain(5)
        #expect(AuditVerification.verify(entries) == .intact(entries: 5, lastHash: entries[4].hash))
    }

    @Test("editing an entry breaks the chain at that entry")
    func edited() {
        var entries = chain(5)
        entries[2].actor = "someone else"
        guard case .broken(let sequence, let reason) = AuditVerification.verify(entries) else {
            Issue.record("edit not detected")
            return
        }
        #expect(sequence == 3)
        #expect(reason.contains("edited"))
    }

    @Test("deleting an entry, or rehashing an edited one, is detected at the next link")
    func removedOrRehashed() {
        var entries = chain(5)
        entries.remove(at: 1)
        #expect(
            AuditVerification.verify(entries) == .broken(sequence: 3, reason: "expected entry 2 here: an entry was removed or inserted"))

        var rehashed = chain(5)
        rehashed[1].detail = #"{"level":"blue"}"#
        rehashed[1].hash = rehashed[1].computedHash()
        guard case .broken(let sequence, _) = AuditVerification.verify(rehashed) else {
            Issue.record("rehash not detected")
            return
        }
        #expect(sequence == 3)
    }
}
