import Foundation

/// The commands the load tester may run: a task runs only when its command line matches one of the patterns.
struct AllowList: Sendable {
    let patterns: [String]
    private let expressions: [Pattern]

    init(_ patterns: [String]) throws(LoadTesterError) {
        self.patterns = patterns
        var expressions: [Pattern] = []
        for pattern in patterns {
            expressions.append(try compilePattern(pattern, setting: "allow"))
        }
        self.expressions = expressions
    }

    /// Whether the command line is allowed.
    func permits(_ commandLine: String) -> Bool {
        expressions.contains { $0.matches(commandLine) }
    }

    /// The 403 message for a command line that is not allowed.
    func refusal(for commandLine: String) -> String {
        if patterns.isEmpty {
            return "command \"\(commandLine)\" is not allowed: the allow-list is empty, so no command may run"
        }
        return "command \"\(commandLine)\" is not allowed: it matches none of the allowed patterns "
            + patterns.map { "\"\($0)\"" }.joined(separator: ", ")
    }
}

/// Compiles a configured regular expression, naming the setting when it does not compile.
func compilePattern(_ pattern: String, setting: String) throws(LoadTesterError) -> Pattern {
    do {
        return Pattern(expression: try NSRegularExpression(pattern: pattern))
    } catch {
        throw LoadTesterError(.invalidPattern, "\(setting): \"\(pattern)\" is not a valid regular expression")
    }
}

/// A compiled regular expression, searched (not anchored) like Go's `MatchString`.
struct Pattern: @unchecked Sendable {
    // NSRegularExpression is immutable and documented as safe to use from several threads at once.
    let expression: NSRegularExpression

    func matches(_ text: String) -> Bool {
        expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}
