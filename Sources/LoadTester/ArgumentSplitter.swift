/// Splits a `cmd` into an argument vector the way `sh` would, but without expanding anything: no variables, no
/// command substitution, no globbing, no pipes or redirections.
///
/// Single quotes keep everything literally; double quotes keep everything but `\"`, `\\`, `` \` ``, `\$` and a
/// backslash-newline; outside quotes a backslash keeps the next character. A word starting with `#` starts a
/// comment, as in `sh`. Shell syntax that `sh` would act on (`|`, `;`, `&`, `<`, `>`, `(`, `)`, backquotes, `$NAME`,
/// `$(…)`, `${…}`, a leading `~`) is refused rather than passed on as text, so a command never means something other
/// than what it did under Flagger's `sh -c` without saying so.
enum ArgumentSplitter {
    struct SplitError: Error, Sendable, Equatable, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    private enum Quote {
        case none, single, double
    }

    static func split(_ line: String) throws(SplitError) -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var quote = Quote.none
        let characters = Array(line)
        var index = 0

        func refuse(_ what: String) -> SplitError {
            SplitError(
                message:
                    "\(what) at character \(index + 1) is shell syntax, and cmd tasks run without a shell; "
                    + "quote it, or use type: bash"
            )
        }

        while index < characters.count {
            let character = characters[index]
            let next: Character? = index + 1 < characters.count ? characters[index + 1] : nil
            switch quote {
            case .single:
                if character == "'" {
                    quote = .none
                } else {
                    word.append(character)
                }
            case .double:
                switch character {
                case "\"":
                    quote = .none
                case "\\":
                    if let next, "\"\\`$".contains(next) {
                        word.append(next)
                        index += 1
                    } else if next == "\n" {
                        index += 1
                    } else {
                        word.append(character)
                    }
                case "`":
                    throw refuse("a backquote")
                case "$":
                    if let next, expands(after: next) { throw refuse("\"$\(next)\"") }
                    word.append(character)
                default:
                    word.append(character)
                }
            case .none:
                switch character {
                case " ", "\t", "\n", "\r", "\r\n":
                    if inWord {
                        words.append(word)
                        word = ""
                        inWord = false
                    }
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
                        word.append(character)
                    }
                case "#" where !inWord:
                    return words
                case "|", ";", "&", "<", ">", "(", ")":
                    throw refuse("\"\(character)\"")
                case "`":
                    throw refuse("a backquote")
                case "~" where !inWord:
                    throw refuse("a leading \"~\"")
                case "$":
                    if let next, expands(after: next) { throw refuse("\"$\(next)\"") }
                    word.append(character)
                    inWord = true
                default:
                    word.append(character)
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
        if inWord { words.append(word) }
        return words
    }

    /// Whether `$` followed by this character is an expansion in `sh`.
    private static func expands(after character: Character) -> Bool {
        character.isLetter || character.isNumber || "_({@*#?!$-".contains(character)
    }
}
