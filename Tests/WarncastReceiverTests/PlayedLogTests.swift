import Foundation
import Testing
import WarncastReceiver

@Suite("played.log: what was accepted is never played twice")
struct PlayedLogTests {
    @Test("a key recorded once is a repeat afterwards, also after the log is opened again")
    func repeatsSurviveReopen() async throws {
        let folder = ScratchFolder()
        defer { folder.remove() }
        let file = folder.file("state/played.log")
        do {
            let log = try PlayedLog(file: file)
            #expect(try await log.record("w-1/ls-1"))
            #expect(try await !log.record("w-1/ls-1"))
            #expect(try await log.record("w-2/ls-1"))
        }
        let reopened = try PlayedLog(file: file)
        #expect(await reopened.contains("w-1/ls-1"))
        #expect(try await !reopened.record("w-2/ls-1"))
        #expect(try await reopened.record("w-3/ls-1"))
        #expect(try String(contentsOf: file, encoding: .utf8) == "w-1/ls-1\nw-2/ls-1\nw-3/ls-1\n")
    }

    @Test("a last line cut short when the terminal stopped was never acknowledged: it is dropped")
    func tornLine() async throws {
        let folder = ScratchFolder()
        defer { folder.remove() }
        let file = folder.file("played.log")
        try Data("w-1/ls-1\nw-2/l".utf8).write(to: file)
        let log = try PlayedLog(file: file)
        #expect(await log.contains("w-1/ls-1"))
        #expect(await !log.contains("w-2/l"))
        #expect(try await log.record("w-2/ls-1"))
        #expect(try String(contentsOf: file, encoding: .utf8) == "w-1/ls-1\nw-2/ls-1\n")
    }

    @Test("a key with a line break cannot be recorded")
    func lineBreak() async throws {
        let folder = ScratchFolder()
        defer { folder.remove() }
        let log = try PlayedLog(file: folder.file("played.log"))
        await #expect(throws: PlayedLog.Failure.badKey) { try await log.record("a\nb") }
        await #expect(throws: PlayedLog.Failure.badKey) { try await log.record("") }
    }

    @Test("the spool keeps accepted warnings across a stop, oldest first, until each is played")
    func spool() throws {
        let folder = ScratchFolder()
        defer { folder.remove() }
        let spool = try PlaySpool(directory: folder.file("state/queue"))
        let start = Date()
        try spool.keep(TestNode.body(key: "w-2/ls-1"), key: "w-2/ls-1", at: start.addingTimeInterval(1))
        try spool.keep(TestNode.body(key: "w-1/ls-1"), key: "w-1/ls-1", at: start)
        let reopened = try PlaySpool(directory: folder.file("state/queue"))
        #expect(reopened.waiting().messages.map(\.message.idempotencyKey) == ["w-1/ls-1", "w-2/ls-1"])
        let accepted = reopened.waiting().messages.map { $0.acceptedAt.timeIntervalSince(start) }
        #expect(
            accepted.count == 2 && abs(accepted[0]) < 0.002 && abs(accepted[1] - 1) < 0.002,
            "when each was accepted, to the millisecond: \(accepted)")
        reopened.remove(key: "w-1/ls-1")
        #expect(reopened.waiting().messages.map(\.message.idempotencyKey) == ["w-2/ls-1"])
        try Data("not json".utf8).write(to: folder.file("state/queue/000000000000001-x.json"))
        let (left, unreadable) = reopened.waiting()
        #expect(left.count == 1 && unreadable == ["000000000000001-x.json"], "a file that cannot be read is set aside")
    }
}
