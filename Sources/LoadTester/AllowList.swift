import Foundation

/// What the load tester may run, checked against exactly what runs.
///
/// A `cmd`, `helm`, `helmv3` or `kubectl` task is split into an argument vector by ``ArgumentSplitter`` and runs
/// when the built-in policy of its program (``BuiltinProgram``) admits the arguments, or when the vector's canonical
/// line (``ArgumentSplitter/render(_:)``) matches one of the operator's `allow` patterns. A `bash` task runs when the
/// whole script handed to `bash -c` matches one of the `allowBash` patterns; there are none by default.
struct CommandPolicy: Sendable {
    let programs: Set<BuiltinProgram>
    let allow: AllowList
    let allowBash: AllowList

    init(programs: Set<BuiltinProgram>, allow: [String], allowBash: [String]) throws(LoadTesterError) {
        self.programs = programs
        self.allow = try AllowList(allow, setting: "allow")
        self.allowBash = try AllowList(allowBash, setting: "allowBash")
    }

    /// Why an argument vector may not run (the 403 message), or `nil` when it may.
    func refusal(argv: [String], commandLine: String) -> String? {
        guard let program = argv.first else { return "an empty command is not allowed" }
        var reason: String
        if let builtin = BuiltinProgram.named(program), programs.contains(builtin) {
            guard let refusal = builtin.refusal(of: Array(argv.dropFirst())) else { return nil }
            reason = "the built-in \(builtin.rawValue) policy refuses it (\(refusal))"
        } else {
            reason = "\(ArgumentSplitter.quote(program)) has no built-in policy"
        }
        if allow.permits(commandLine) { return nil }
        reason +=
            allow.patterns.isEmpty
            ? ", and no --allow pattern is configured"
            : ", and it matches none of the --allow patterns \(allow.listing)"
        return "command \"\(commandLine)\" is not allowed: \(reason)"
    }

    /// Why a bash script may not run (the 403 message), or `nil` when it may.
    func bashRefusal(_ script: String) -> String? {
        if allowBash.permits(script) { return nil }
        if allowBash.patterns.isEmpty {
            return "bash command \"\(script)\" is not allowed: no --allow-bash pattern is configured, so no bash task "
                + "may run"
        }
        return "bash command \"\(script)\" is not allowed: the whole script must match one of the --allow-bash "
            + "patterns \(allowBash.listing)"
    }
}

/// Regular expressions a line must match one of.
struct AllowList: Sendable {
    let patterns: [String]
    private let expressions: [Pattern]

    init(_ patterns: [String], setting: String = "allow") throws(LoadTesterError) {
        self.patterns = patterns
        var expressions: [Pattern] = []
        for pattern in patterns {
            expressions.append(try compilePattern(pattern, setting: setting))
        }
        self.expressions = expressions
    }

    /// Whether the line matches one of the patterns.
    func permits(_ line: String) -> Bool {
        expressions.contains { $0.matches(line) }
    }

    /// The patterns, quoted and comma-separated, for messages.
    var listing: String { patterns.map { "\"\($0)\"" }.joined(separator: ", ") }
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
