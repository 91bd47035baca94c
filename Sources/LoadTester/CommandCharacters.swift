/// The characters a command may hold: anything printable, with ASCII space and tab the only blanks.
///
/// A command runs when the allow-list admits it, and the allow-list is a set of regular expressions and argument
/// policies written by people reading plain text. Characters that read as a space but are not one (U+00A0 NO-BREAK
/// SPACE, U+2003 EM SPACE, U+3000 IDEOGRAPHIC SPACE, …), control characters (a newline ends a `bash` command) and
/// invisible formatting characters (U+200B ZERO WIDTH SPACE, the bidirectional overrides) make a command read
/// differently from how it runs, so they are refused anywhere in it. ASCII blanks at either end (the newline a YAML
/// block scalar leaves) are trimmed first.
enum CommandCharacters {
    /// The command without ASCII blanks at either end, or a 400 naming the first character refused and its position
    /// (counted in Unicode scalars from 1, in `command` as given).
    static func checked(_ command: String, field: String = "cmd") throws(Refusal) -> String {
        let scalars = Array(command.unicodeScalars)
        let isBlank: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = scalars.firstIndex(where: { !isBlank($0) }),
            let last = scalars.lastIndex(where: { !isBlank($0) })
        else { return "" }
        for index in first...last where isRefused(scalars[index]) {
            throw Refusal(
                status: 400,
                message: "\(field): character \(index + 1) is \(describe(scalars[index])), which is not allowed in a "
                    + "command: only ASCII spaces and tabs may separate words, and control, invisible and non-ASCII "
                    + "space characters could make the command run differently from how it reads"
            )
        }
        var trimmed = String.UnicodeScalarView()
        trimmed.append(contentsOf: scalars[first...last])
        return String(trimmed)
    }

    /// Whether the scalar is refused inside a command.
    static func isRefused(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == " " || scalar == "\t" { return false }
        let properties = scalar.properties
        switch properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .spaceSeparator, .surrogate, .unassigned:
            return true
        default:
            return properties.isWhitespace || properties.isDefaultIgnorableCodePoint
        }
    }

    /// `U+00A0 (NO-BREAK SPACE)`.
    static func describe(_ scalar: Unicode.Scalar) -> String {
        var hex = String(scalar.value, radix: 16, uppercase: true)
        while hex.count < 4 { hex = "0" + hex }
        let name = Self.name(of: scalar)
        return name.map { "U+\(hex) (\($0))" } ?? "U+\(hex)"
    }

    private static func name(of scalar: Unicode.Scalar) -> String? {
        if let name = scalar.properties.name { return name }
        switch scalar.value {
        case 0x00: return "NULL"
        case 0x07: return "BELL"
        case 0x08: return "BACKSPACE"
        case 0x0A: return "LINE FEED"
        case 0x0B: return "LINE TABULATION"
        case 0x0C: return "FORM FEED"
        case 0x0D: return "CARRIAGE RETURN"
        case 0x1B: return "ESCAPE"
        case 0x7F: return "DELETE"
        case 0x85: return "NEXT LINE"
        default:
            return scalar.properties.generalCategory == .control ? "a control character" : nil
        }
    }
}
