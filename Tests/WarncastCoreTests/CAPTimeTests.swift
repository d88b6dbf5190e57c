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

    @Test(
        "the store's own form reads as the general CAP reading of the same time, before 1970 too, and impossible dates are refused"
    )
    func storedForm() throws {
        let random = (0..<500).map { _ in
            Date(timeIntervalSince1970: Double(Int64.random(in: -2_000_000_000_000...4_000_000_000_000)) / 1000)
        }
        let edges = [
            "1970-01-01T00:00:00.000Z", "1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.001Z", "1912-01-01T00:00:00.250Z",
            "2024-02-29T23:59:59.999Z", "2000-02-29T12:00:00.001Z", "2026-12-31T23:59:59.500Z",
        ]
        for text in edges + random.map(Timestamp.string) {
            let general = try #require(CAPTime.parse(String(text.dropLast()) + "+00:00"), "\(text)")
            #expect(Timestamp.parse(text) == general, "\(text)")
            #expect(Timestamp.string(try #require(Timestamp.parse(text))) == text)
        }
        for text in [
            "2026-02-29T00:00:00.000Z", "1900-02-29T00:00:00.000Z", "2026-13-01T00:00:00.000Z", "2026-04-31T00:00:00.000Z",
            "2026-07-01T24:00:00.000Z", "2026-07-01T08:60:00.000Z", "2026-07-01T08:00:00,000Z",
        ] {
            #expect(Timestamp.parse(text) == nil, "\(text)")
        }
    }
}
