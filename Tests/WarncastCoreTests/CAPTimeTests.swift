import Foundation
import Testing
import WarncastCore

@Suite("CAP date-times")
struct CAPTimeTests {
    @Test("China Standard Time and UTC offsets give the same instant")
    func offsets() throws {
        let beijing = try #require(CAPTime.parse("2026-07-01T08:00:00+08:00"))
        let utc = try #require(CAPTime.parse("2026-07-01T00:00:00-00:00"))
        #expect(beijing == utc)
        #expect(Timestamp.string(beijing) == "2026-07-01T00:00:00.000Z")
        #expect(CAPTime.format(beijing) == "2026-07-01T08:00:00+08:00")
    }

    @Test(
        "times without an explicit numeric offset are refused",
        arguments: [
            "2026-07-01T08:00:00", "2026-07-01T08:00:00Z", "2026-07-01 08:00:00+08:00", "2026-02-30T08:00:00+08:00",
            "2026-07-01T08:00:00+8:00", "yesterday",
        ])
    func refused(text: String) {
        #expect(CAPTime.parse(text) == nil)
    }

    @Test("storage timestamps read back to the same instant")
    func roundTrip() throws {
        let date = try #require(CAPTime.parse("2026-07-01T08:00:00.250+08:00"))
        #expect(Timestamp.parse(Timestamp.string(date)) == date)
    }
}
