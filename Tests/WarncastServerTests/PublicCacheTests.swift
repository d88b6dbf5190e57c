import Foundation
import Synchronization
import Testing
import WarncastCore
import WarncastServer
import WarncastStore

@Suite("What the public channel keeps between requests")
struct PublicCacheTests {
    let first = ReleasedMessagesMark(count: 1, newestRelease: "2026-07-01T00:00:00.000Z", superseded: 0, cancelled: 0)
    let second = ReleasedMessagesMark(count: 2, newestRelease: "2026-07-01T00:05:00.000Z", superseded: 1, cancelled: 0)

    func key(_ form: String = "atom", region: String? = nil, second: Int64 = 100) -> PublicCache.Key {
        PublicCache.Key(form: form, region: region.flatMap(RegionCode.init), base: "https://warn.example", second: second)
    }

    func answer(_ text: String) -> PublicCache.Answer {
        PublicCache.Answer(body: Data(text.utf8), tag: "\"\(text)\"", lastModified: nil, contentType: "text/plain")
    }

    @Test("the messages are read once for a mark, by twenty requests at once too; a new mark reads them again")
    func messagesOncePerMark() async throws {
        let cache = PublicCache()
        let reads = Mutex(0)
        let read: @Sendable () async throws -> [Warning] = {
            reads.withLock { $0 += 1 }
            try await Task.sleep(for: .milliseconds(50))
            return []
        }
        try await withThrowingTaskGroup(of: [Warning].self) { group in
            for _ in 0..<20 { group.addTask { try await cache.messages(for: first, read: read) } }
            try await group.waitForAll()
        }
        #expect(reads.withLock { $0 } == 1)
        _ = try await cache.messages(for: first, read: read)
        #expect(reads.withLock { $0 } == 1)
        _ = try await cache.messages(for: second, read: read)
        #expect(reads.withLock { $0 } == 2)
    }

    @Test("a read that fails is not kept: the next request reads again")
    func failedReadNotKept() async throws {
        struct Unreadable: Error {}
        let cache = PublicCache()
        await #expect(throws: Unreadable.self) { try await cache.messages(for: first) { throw Unreadable() } }
        let messages = try await cache.messages(for: first) { [] }
        #expect(messages.isEmpty)
    }

    @Test("an answer is written once per key and mark; another second, region or mark writes it again")
    func answersPerKeyAndMark() async throws {
        let cache = PublicCache()
        let writes = Mutex(0)
        func written(_ key: PublicCache.Key, _ mark: ReleasedMessagesMark) async throws -> String {
            let kept = try await cache.answer(for: key, mark: mark) {
                let number = writes.withLock { count in
                    count += 1
                    return count
                }
                return answer("write \(number)")
            }
            return String(decoding: kept.body, as: UTF8.self)
        }
        #expect(try await written(key(), first) == "write 1")
        #expect(try await written(key(), first) == "write 1", "kept")
        #expect(try await written(key(second: 101), first) == "write 2", "the next second")
        #expect(try await written(key(region: "430121"), first) == "write 3", "another region")
        #expect(try await written(key("json"), first) == "write 4", "another form")
        #expect(try await written(key(), second) == "write 5", "something was released")
        #expect(try await written(key("json"), second) == "write 6", "every answer of the old mark is gone")
    }

    @Test("at most answersKept answers are kept; the oldest goes first")
    func answersBounded() async throws {
        let cache = PublicCache()
        let writes = Mutex(0)
        func write(_ key: PublicCache.Key) async throws {
            _ = try await cache.answer(for: key, mark: first) {
                writes.withLock { $0 += 1 }
                return answer("x")
            }
        }
        for second in 0..<Int64(PublicCache.answersKept + 1) { try await write(key(second: second)) }
        #expect(writes.withLock { $0 } == PublicCache.answersKept + 1)
        try await write(key(second: Int64(PublicCache.answersKept)))
        #expect(writes.withLock { $0 } == PublicCache.answersKept + 1, "the newest is kept")
        try await write(key(second: 0))
        #expect(writes.withLock { $0 } == PublicCache.answersKept + 2, "the oldest was dropped")
    }
}
