/// The `text/event-stream` wire format (HTML Living Standard, "Server-sent events").
public enum ServerSentEvents {
    /// One event: an optional `event:` name, the data as one `data:` line per line of text, and the blank line that
    /// ends it. Line breaks in the name are dropped (they would end the field); `\r\n`, `\r` and `\n` in the data
    /// each start a new `data:` line, which the browser joins back with `\n`.
    public static func frame(event: String? = nil, data: String, id: String? = nil) -> String {
        var output = ""
        if let id { output += "id: \(singleLine(id))\n" }
        if let event { output += "event: \(singleLine(event))\n" }
        for line in lines(of: data) { output += "data: \(line)\n" }
        return output + "\n"
    }

    /// A comment line: ignored by the browser, it keeps an idle connection from being closed by proxies.
    public static func comment(_ text: String) -> String { ": \(singleLine(text))\n\n" }

    /// How long the browser waits before reconnecting, in milliseconds.
    public static func retry(milliseconds: Int) -> String { "retry: \(max(milliseconds, 0))\n\n" }

    static func singleLine(_ text: String) -> String {
        String(text.unicodeScalars.filter { $0 != "\n" && $0 != "\r" }.map(Character.init))
    }

    static func lines(of text: String) -> [String] {
        var lines: [String] = []
        var current = ""
        var previousWasCarriageReturn = false
        for scalar in text.unicodeScalars {
            if scalar == "\n", previousWasCarriageReturn {
                previousWasCarriageReturn = false
                continue
            }
            previousWasCarriageReturn = scalar == "\r"
            if scalar == "\n" || scalar == "\r" {
                lines.append(current)
                current = ""
            } else {
                current.unicodeScalars.append(scalar)
            }
        }
        lines.append(current)
        return lines
    }
}
