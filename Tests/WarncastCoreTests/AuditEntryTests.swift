import Testing
import WarncastCore

@Suite("The audit hash chain")
struct AuditEntryTests {
    @Test("the field hash is SHA-256 of each field as <byte count>:<bytes>, a missing one as -1: (chains already written depend on it)")
    func fieldHash() {
        // Worked out apart from Warncast: Python's hashlib over b"3:abc-1:0:18:湖南省气象台".
        #expect(
            FieldHash.sha256(["abc", nil, "", "湖南省气象台"]) == "795e9990a139babbbece33c9e4d05aa88a3100c1c585c2aa189e0d5cb7bc8fc6")
    }

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
        #expect(
            AuditVerification.verify(entries)
                == .broken([AuditBreak(sequence: 3, reason: "content does not match its hash: the entry was edited")]))
    }

    @Test("deleting an entry, or rehashing an edited one, is detected at the next link")
    func removedOrRehashed() {
        var entries = chain(5)
        entries.remove(at: 1)
        #expect(
            AuditVerification.verify(entries)
                == .broken([AuditBreak(sequence: 3, reason: "expected entry 2 here: an entry was removed or inserted")]))

        var rehashed = chain(5)
        rehashed[1].detail = #"{"level":"blue"}"#
        rehashed[1].hash = rehashed[1].computedHash()
        guard case .broken(let breaks) = AuditVerification.verify(rehashed) else {
            Issue.record("rehash not detected")
            return
        }
        #expect(breaks.map(\.sequence) == [3])
    }

    @Test("a break does not hide a later one: verify names every broken entry")
    func everyBreak() {
        var entries = chain(8)
        entries[1].actor = "vandal"
        entries[5].subject = "the real tampering"
        #expect(
            AuditVerification.verify(entries)
                == .broken([
                    AuditBreak(sequence: 2, reason: "content does not match its hash: the entry was edited"),
                    AuditBreak(sequence: 6, reason: "content does not match its hash: the entry was edited"),
                ]))
    }

    @Test("control characters are stored as visible escapes and long fields are cut, so what is stored is what was hashed")
    func storableText() {
        #expect(AuditText.storable("abc\u{0}def\u{1b}[2J\u{7f}") == "abc\\u{0}def\\u{1b}[2J\\u{7f}")
        #expect(AuditText.storable(String(repeating: "x", count: 300), limit: 256) == String(repeating: "x", count: 256) + "…(44 more)")
        #expect(AuditText.storable("芙蓉区 ok") == "芙蓉区 ok")
    }
}
