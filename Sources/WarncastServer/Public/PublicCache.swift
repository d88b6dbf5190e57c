import Foundation
import Synchronization
import WarncastCore
import WarncastStore

/// What the public channel has read and written, kept while it is still true. Residents
/// reload the page and aggregators poll the feeds hardest during a storm, without a token;
/// reading and decoding up to 2,000 messages and writing the answer for every request took
/// 100 ms and more of the 2 cores the warning's fan-out needs.
///
/// The messages are read again only when the store's mark of them moves (a release, an
/// update or cancellation, one leaving the window), and an answer is written again only
/// when the mark moves, the clock's second changes, or it is asked for with another
/// region, base or form. Requests that miss at the same moment wait for one read and one
/// writing instead of each doing their own.
public final class PublicCache: Sendable {
    /// An answer as sent: the body, its ETag, and its Last-Modified.
    public struct Answer: Sendable {
        public var body: Data
        public var tag: String
        public var lastModified: Date?
        public var contentType: String

        public init(body: Data, tag: String, lastModified: Date?, contentType: String) {
            self.body = body
            self.tag = tag
            self.lastModified = lastModified
            self.contentType = contentType
        }
    }

    /// Which answer: the form (`page`, `atom`, `json`), the region asked for, the base of
    /// its links, and the second it was written in (the page shows the time; entries leave
    /// as they expire).
    public struct Key: Hashable, Sendable {
        public var form: String
        public var region: RegionCode?
        public var base: String
        public var second: Int64

        public init(form: String, region: RegionCode?, base: String, second: Int64) {
            self.form = form
            self.region = region
            self.base = base
            self.second = second
        }
    }

    /// Answers kept for the current mark: enough for each form for all and for a few
    /// regions; an older one is dropped first. (At 2,000 messages an answer is 2–3 MB.)
    public static let answersKept = 8

    private struct State {
        var messages: (mark: ReleasedMessagesMark, read: Task<[Warning], any Error>)?
        var answersMark: ReleasedMessagesMark?
        var answers: [Key: Task<Answer, any Error>] = [:]
        var order: [Key] = []
    }

    private let state = Mutex(State())

    public init() {}

    /// The released messages as of `mark`: read by `read` once for each mark.
    public func messages(for mark: ReleasedMessagesMark, read: @escaping @Sendable () async throws -> [Warning]) async throws -> [Warning] {
        let task = state.withLock { state in
            if let kept = state.messages, kept.mark == mark { return kept.read }
            let task = Task { try await read() }
            state.messages = (mark, task)
            return task
        }
        do {
            return try await task.value
        } catch {
            // Not kept: the next request reads again.
            state.withLock { state in
                if state.messages?.mark == mark { state.messages = nil }
            }
            throw error
        }
    }

    /// The answer for `key` as of `mark`, written by `write` once.
    public func answer(
        for key: Key, mark: ReleasedMessagesMark, write: @escaping @Sendable () async throws -> Answer
    ) async throws -> Answer {
        let task = state.withLock { state in
            if state.answersMark != mark {
                state.answersMark = mark
                state.answers.removeAll()
                state.order.removeAll()
            }
            if let kept = state.answers[key] { return kept }
            let task = Task { try await write() }
            state.answers[key] = task
            state.order.append(key)
            if state.order.count > Self.answersKept { state.answers[state.order.removeFirst()] = nil }
            return task
        }
        do {
            return try await task.value
        } catch {
            state.withLock { state in
                guard state.answersMark == mark, state.answers.removeValue(forKey: key) != nil else { return }
                state.order.removeAll { $0 == key }
            }
            throw error
        }
    }
}
