import Foundation
import Testing

@testable import WarncastReceiver

@Suite("Reading the node's Server-Sent Events")
struct EventStreamTests {
    @Test("an event's fields: comments skipped, one space after the colon dropped, data lines joined")
    func fields() {
        let event = EventStream.parse(": keep-alive\nevent: warning\nid: 7\ndata: {\"a\":\ndata:  1}\nretry")
        #expect(event == ["event": "warning", "id": "7", "data": "{\"a\":\n 1}", "retry": ""])
        #expect(EventStream.parse(": only a comment") == nil, "the keep-alive is no event")
        #expect(EventStream.parse("data: a:b:c")?["data"] == "a:b:c", "only the first colon separates")
        #expect(EventStream.parse("event: warning\r\ndata: x\r\n") == ["event": "warning", "data": "x"], "CRLF lines")
    }

    @Test("an event ends at the first blank line, LF or CRLF, whichever comes first")
    func blankLines() {
        func end(_ text: String) -> Int? {
            let data = Data(text.utf8)
            return EventStream.blankLine(in: data).map { data.distance(from: data.startIndex, to: $0.lowerBound) }
        }
        #expect(end("data: x\n\ndata: y\n\n") == 7)
        #expect(end("data: x\r\n\r\ndata: y\n\n") == 7)
        #expect(end("data: x\n\ndata: y\r\n\r\n") == 7)
        #expect(end("data: x\ndata: y\n") == nil, "not ended yet: wait for more bytes")
        #expect(end("") == nil)
        let tail = Data("xx\n\n".utf8).dropFirst(2)
        #expect(EventStream.blankLine(in: tail) == tail.startIndex..<tail.startIndex + 2, "a slice's own indices")
    }
}
