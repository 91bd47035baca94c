/// Splits a command into an argument vector the way `sh` would, but without expanding anything: no variables, no
/// command substitution, no globbing, no pipes or redirections. Every task type but `bash` goes through it, and the
/// allow-list is checked on what it returns (see ``render(_:)``), so what is checked is exactly what runs.
///
/// Single quotes keep everything literally; double quotes keep everything but `\"`, `\\`, `` \` ``, `\$` and a
/// backslash-newline; outside quotes a backslash keeps the next character. A word starting with `#` starts a
/// comment, as in `sh`. Shell syntax that `sh` would act on (`|`, `;`, `&`, `<`, `>`, `(`, `)`, backquotes, `$NAME`,
/// `$(…)`, `${…}`, a leading `~`) is refused rather than passed on as text, so a command never means something other
/// than what it did under Flagger's `sh -c` without saying so.
///
/// The line is read as Unicode scalars, as `sh` reads bytes: only ASCII space, tab and newline separate words, and a
/// combining mark after a space cannot glue two words into one. ``CommandCharacters`` refuses the characters that
/// could make a line read differently from how it splits before the splitter sees it.
enum ArgumentSplitter {
    struct SplitError: Error, Sendable, Equatable, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    private enum Quote {
        case none, single, double
    }

    /// Splits `line`; `subject` names the tasks in the refusal of shell syntax (`"cmd tasks"`, `"kubectl tasks"`).
    static func split(_ line: String, subject: String = "cmd tasks") throws(SplitError) -> [String] {
        var words: [String] = []
        var word = String.UnicodeScalarView()
        var inWord = false
        var quote = Quote.none
        let scalars = Array(line.unicodeScalars)
        var index = 0

        func refuse(_ what: String) -> SplitError {
            let advice = subject == "cmd tasks" ? "quote it, or use type: bash" : "quote it"
            return SplitError(
                message:
                    "\(what) at character \(index + 1) is shell syntax, and \(subject) run without a shell; \(advice)"
            )
        }

        func endWord() {
            if inWord {
                words.append(String(word))
                word = String.UnicodeScalarView()
                inWord = false
            }
        }

        while index < scalars.count {
            let scalar = scalars[index]
            let next: Unicode.Scalar? = index + 1 < scalars.count ? scalars[index + 1] : nil
            switch quote {
            case .single:
                if scalar == "'" {
                    quote = .none
                } else {
                    word.append(scalar)
                }
            case .double:
                switch scalar {
                case "\"":
                    quote = .none
                case "\\":
                    if let next, "\"\\`$".unicodeScalars.contains(next) {
                        word.append(next)
                        index += 1
                    } else if next == "\n" {
                        index += 1
                    } else {
                        word.append(scalar)
                    }
                case "`":
                    throw refuse("a backquote")
                case "$":
                    if let next, expands(after: next) { throw refuse("\"$\(next)\"") }
                    word.append(scalar)
                default:
                    word.append(scalar)
                }
            case .none:
                switch scalar {
                case " ", "\t", "\n", "\r":
                    endWord()
                case "'":
                    quote = .single
                    inWord = true
                case "\"":
                    quote = .double
                    inWord = true
                case "\\":
                    inWord = true
                    if let next {
                        if next != "\n" { word.append(next) }
                        index += 1
                    } else {
                        word.append(scalar)
                    }
                case "#" where !inWord:
                    return words
                case "|", ";", "&", "<", ">", "(", ")":
                    throw refuse("\"\(scalar)\"")
                case "`":
                    throw refuse("a backquote")
                case "~" where !inWord:
                    throw refuse("a leading \"~\"")
                case "$":
                    if let next, expands(after: next) { throw refuse("\"$\(next)\"") }
                    word.append(scalar)
                    inWord = true
                default:
                    word.append(scalar)
                    inWord = true
                }
            }
            index += 1
        }
        switch quote {
        case .single: throw SplitError(message: "unterminated single quote")
        case .double: throw SplitError(message: "unterminated double quote")
        case .none: break
        }
        endWord()
        return words
    }

    /// Whether `$` followed by this character is an expansion in `sh`.
    private static func expands(after scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isAlphabetic || scalar.properties.numericType != nil
            || "_({@*#?!$-".unicodeScalars.contains(scalar)
    }

    /// The canonical line of an argument vector: the arguments joined by single spaces, each one that holds anything
    /// but `[A-Za-z0-9_@%+=:,./-]` in single quotes (a `'` inside written `'\''`), and an empty one as `''`.
    ///
    /// ``split(_:subject:)`` reads it back to the same arguments, so a pattern matched against it sees every
    /// argument's boundaries exactly as the program will: spacing and quoting in the original `cmd` make no
    /// difference, and one argument that holds a space is quoted rather than looking like two.
    static func render(_ argv: [String]) -> String {
        argv.map(quote).joined(separator: " ")
    }

    /// One argument as ``render(_:)`` writes it.
    static func quote(_ argument: String) -> String {
        guard !argument.isEmpty else { return "''" }
        if argument.unicodeScalars.allSatisfy(isPlain) { return argument }
        // Scalar by scalar, as the splitter reads: a `'` followed by a combining mark is still a quote to it.
        var quoted = String.UnicodeScalarView()
        quoted.append("'")
        for scalar in argument.unicodeScalars {
            if scalar == "'" {
                quoted.append(contentsOf: "'\\''".unicodeScalars)
            } else {
                quoted.append(scalar)
            }
        }
        quoted.append("'")
        return String(quoted)
    }

    private static func isPlain(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9": return true
        default: return "_@%+=:,./-".unicodeScalars.contains(scalar)
        }
    }
}
