import JSONValue

/// Text formatting that reproduces what the Go standard library prints, so messages and table cells read exactly
/// as kube-apiserver writes them.
enum GoFormat {
    /// `strconv.Quote` / `%q`: a double-quoted Go string literal.
    static func quote(_ string: String) -> String {
        var output = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\u{07}": output += "\\a"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{0B}": output += "\\v"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    output += "\\x" + hex(scalar.value, width: 2)
                } else if (0x80..<0xA0).contains(scalar.value) || scalar.value == 0xAD
                    || scalar.properties.generalCategory == .unassigned
                {
                    output +=
                        scalar.value > 0xFFFF
                        ? "\\U" + hex(scalar.value, width: 8) : "\\u" + hex(scalar.value, width: 4)
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        return output + "\""
    }

    /// `%#v` of a `[]string`: `[]string{"a", "b"}`, or `[]string(nil)` when there are no elements.
    static func goSyntax(_ strings: [String]) -> String {
        if strings.isEmpty { return "[]string(nil)" }
        return "[]string{" + strings.map(quote).joined(separator: ", ") + "}"
    }

    static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// The shortest decimal digits of a finite, non-zero `Double` and its decimal point position:
    /// the value is `0.d1d2…dn × 10^point`.
    static func shortestDigits(_ value: Double) -> (digits: [UInt8], point: Int) {
        let text = "\(Swift.abs(value))"
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[text.startIndex..<e]
            exponent = Int(text[text.index(after: e)...]) ?? 0
        }
        var digits: [UInt8] = []
        var point = 0
        var seenPoint = false
        for character in mantissa {
            if character == "." {
                seenPoint = true
                continue
            }
            guard let digit = character.wholeNumberValue else { continue }
            digits.append(UInt8(digit))
            if !seenPoint { point += 1 }
        }
        while let first = digits.first, first == 0, digits.count > 1 {
            digits.removeFirst()
            point -= 1
        }
        while let last = digits.last, last == 0, digits.count > 1 { digits.removeLast() }
        return (digits, point + exponent)
    }

    /// `%v` of a `float64`: `strconv.FormatFloat(f, 'g', -1, 64)`.
    static func formatFloatV(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
        if value == 0 { return value.sign == .minus ? "-0" : "0" }
        let (digits, point) = shortestDigits(value)
        let sign = value < 0 ? "-" : ""
        let exponent = point - 1
        if exponent < -4 || exponent >= 6 {
            return sign + exponential(digits, exponent: exponent, minimumExponentDigits: 2)
        }
        return sign + fixed(digits, point: point)
    }

    /// How `encoding/json` writes a `float64`.
    static func formatFloatJSON(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value == 0 { return value.sign == .minus ? "-0" : "0" }
        let (digits, point) = shortestDigits(value)
        let sign = value < 0 ? "-" : ""
        let magnitude = Swift.abs(value)
        if magnitude < 1e-6 || magnitude >= 1e21 {
            return sign + exponential(digits, exponent: point - 1, minimumExponentDigits: 1)
        }
        return sign + fixed(digits, point: point)
    }

    private static func exponential(_ digits: [UInt8], exponent: Int, minimumExponentDigits: Int) -> String {
        var text = String(digits[0])
        if digits.count > 1 { text += "." + digits.dropFirst().map(String.init).joined() }
        let magnitude = String(Swift.abs(exponent))
        let padded = String(repeating: "0", count: max(0, minimumExponentDigits - magnitude.count)) + magnitude
        return text + "e" + (exponent < 0 ? "-" : "+") + padded
    }

    private static func fixed(_ digits: [UInt8], point: Int) -> String {
        let all = digits.map(String.init).joined()
        if point <= 0 { return "0." + String(repeating: "0", count: -point) + all }
        if point >= digits.count { return all + String(repeating: "0", count: point - digits.count) }
        let split = all.index(all.startIndex, offsetBy: point)
        return String(all[..<split]) + "." + String(all[split...])
    }

    /// `fmt.Sprint` of a value decoded from JSON the way apimachinery decodes it (`int64`, `float64`, `string`,
    /// `bool`); objects and arrays are written as compact JSON, as client-go's JSONPath printer does.
    static func print(_ value: JSONValue) -> String {
        switch value {
        case .null: return "<no value>"
        case .bool(let bool): return bool ? "true" : "false"
        case .int(let int): return String(int)
        case .double(let double): return formatFloatV(double)
        case .string(let string): return string
        case .array, .object: return json(value)
        }
    }

    /// `json.Marshal` output: compact, map keys in byte order, HTML-sensitive characters escaped.
    static func json(_ value: JSONValue) -> String {
        var output = ""
        writeJSON(value, into: &output)
        return output
    }

    private static func writeJSON(_ value: JSONValue, into output: inout String) {
        switch value {
        case .null: output += "null"
        case .bool(let bool): output += bool ? "true" : "false"
        case .int(let int): output += String(int)
        case .double(let double): output += formatFloatJSON(double)
        case .string(let string): writeJSONString(string, into: &output)
        case .array(let elements):
            output += "["
            for (offset, element) in elements.enumerated() {
                if offset > 0 { output += "," }
                writeJSON(element, into: &output)
            }
            output += "]"
        case .object(let members):
            output += "{"
            let keys = members.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            for (offset, key) in keys.enumerated() {
                if offset > 0 { output += "," }
                writeJSONString(key, into: &output)
                output += ":"
                writeJSON(members[key] ?? .null, into: &output)
            }
            output += "}"
        }
    }

    private static func writeJSONString(_ string: String, into output: inout String) {
        output += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            case "<", ">", "&", "\u{2028}", "\u{2029}": output += "\\u" + hex(scalar.value, width: 4)
            default:
                if scalar.value < 0x20 {
                    output += "\\u" + hex(scalar.value, width: 4)
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        output += "\""
    }

    /// Go's byte-wise string ordering (`sort.Strings`).
    static func byteOrder(_ lhs: String, _ rhs: String) -> Bool {
        Array(lhs.utf8).lexicographicallyPrecedes(Array(rhs.utf8))
    }
}
