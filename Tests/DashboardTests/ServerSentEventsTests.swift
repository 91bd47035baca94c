import Dashboard
import Testing

@Suite("Server-sent event framing")
struct ServerSentEventsTests {
    @Test("an event is its name, one data line per line of text, and a blank line")
    func frame() {
        #expect(ServerSentEvents.frame(event: "detail", data: "{\"a\":1}") == "event: detail\ndata: {\"a\":1}\n\n")
        #expect(ServerSentEvents.frame(data: "one\ntwo") == "data: one\ndata: two\n\n")
    }

    @Test("every kind of line break starts a new data line, and none survives in a field")
    func lineBreaks() {
        #expect(ServerSentEvents.frame(data: "a\r\nb\rc\n") == "data: a\ndata: b\ndata: c\ndata: \n\n")
        #expect(ServerSentEvents.frame(event: "x\ny", data: "", id: "1\r2") == "id: 12\nevent: xy\ndata: \n\n")
    }

    @Test("comments and retry hints are their own blocks")
    func commentAndRetry() {
        #expect(ServerSentEvents.comment("keep-alive") == ": keep-alive\n\n")
        #expect(ServerSentEvents.comment("a\nb") == ": ab\n\n")
        #expect(ServerSentEvents.retry(milliseconds: -5) == "retry: 0\n\n")
    }
}
