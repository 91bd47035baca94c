import JSONValue

/// A JSONPath expression of the kind CRD printer columns use, evaluated as client-go's `jsonpath` package does with
/// missing keys allowed.
///
/// Supported: fields (`.status.phase`, with `\.` escaping a dot inside a name), quoted keys
/// (`.metadata.labels['app.kubernetes.io/name']`), indexes and slices (`[0]`, `[-1]`, `[1:3]`, `[::2]`), wildcards
/// (`[*]`, `.*`), recursive descent (`..name`) and filters (`[?(@.type=="Ready")]`, `[?(@.ready)]`). The
/// expression may be wrapped in braces (`{.status.phase}`) and may start with `$`.
public struct JSONPathExpression: Sendable, Hashable, CustomStringConvertible {
    enum Step: Sendable, Hashable {
        case field(String)
        case wildcard
        case recursive
        case slice(start: Int?, end: Int?, step: Int?, index: Bool)
        case filter(Filter)
    }

    struct Filter: Sendable, Hashable {
        var left: [Step]
        var op: String?
        var right: Operand?
    }

    enum Operand: Sendable, Hashable {
        case literal(JSONValue)
        case path([Step])
    }

    let steps: [Step]

    /// The expression as written.
    public let description: String

    /// Parses an expression such as `.spec.analysis.stepWeights` or `.status.conditions[?(@.type=="Ready")].status`.
    ///
    /// - Throws: ``SelectorError`` naming the expression and what could not be read.
    public init(_ expression: String) throws(SelectorError) {
        description = expression
        var text = Substring(expression)
        if text.hasPrefix("{") && text.hasSuffix("}") && text.count >= 2 { text = text.dropFirst().dropLast() }
        do {
            var parser = Parser(Array(text.unicodeScalars))
            steps = try parser.parsePath(stopAt: [])
        } catch {
            throw SelectorError("invalid JSONPath \(GoFormat.quote(expression)): \(error.message)")
        }
    }

    /// The values the expression selects, in document order; empty when nothing matches.
    ///
    /// A field that is present with a `null` value is selected as ``JSONValue/null``. Where client-go reports an
    /// error (an index out of range, indexing something that is not an array, comparing values of different kinds),
    /// the result is empty, as the apiserver shows such a cell as empty.
    public func evaluate(_ object: JSONValue) -> [JSONValue] {
        (try? Self.run(steps, on: [object])) ?? []
    }

    struct EvaluationError: Error {}

    static func run(_ steps: [Step], on input: [JSONValue]) throws(EvaluationError) -> [JSONValue] {
        var current = input
        for step in steps { current = try apply(step, to: current) }
        return current
    }

    static func apply(_ step: Step, to input: [JSONValue]) throws(EvaluationError) -> [JSONValue] {
        var output: [JSONValue] = []
        switch step {
        case .field(let name):
            for value in input {
                if case .object(let members) = value, let member = members[name] { output.append(member) }
            }
        case .wildcard:
            for value in input {
                switch value {
                case .object(let members):
                    for key in members.keys.sorted(by: GoFormat.byteOrder) {
                        if let member = members[key] { output.append(member) }
                    }
                case .array(let elements): output += elements
                default: break
                }
            }
        case .recursive:
            for value in input { collect(value, into: &output) }
        case .slice(let start, let end, let stride, let isIndex):
            for value in input {
                if value.isNull { continue }
                guard case .array(let elements) = value else { throw EvaluationError() }
                let count = elements.count
                var lower = start ?? 0
                if lower < 0 { lower += count }
                var upper: Int
                if isIndex {
                    upper = lower + 1
                } else {
                    upper = end ?? count
                    if upper < 0 { upper += count }
                }
                if upper == lower { continue }
                guard lower >= 0, lower < count, upper >= 0, upper <= count, lower <= upper else {
                    throw EvaluationError()
                }
                let by = stride ?? 1
                guard by > 0 else { throw EvaluationError() }
                for index in Swift.stride(from: lower, to: upper, by: by) { output.append(elements[index]) }
            }
        case .filter(let filter):
            for value in input {
                guard case .array(let elements) = value else { throw EvaluationError() }
                for element in elements where try filter.passes(element) { output.append(element) }
            }
        }
        return output
    }

    static func collect(_ value: JSONValue, into output: inout [JSONValue]) {
        output.append(value)
        switch value {
        case .object(let members):
            for key in members.keys.sorted(by: GoFormat.byteOrder) {
                if let member = members[key] { collect(member, into: &output) }
            }
        case .array(let elements):
            for element in elements { collect(element, into: &output) }
        default:
            break
        }
    }

    struct ParseError: Error {
        var message: String
    }

    struct Parser {
        let scalars: [Unicode.Scalar]
        var index = 0

        init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

        var atEnd: Bool { index >= scalars.count }
        var current: Unicode.Scalar? { atEnd ? nil : scalars[index] }

        static func isTerminator(_ scalar: Unicode.Scalar) -> Bool {
            switch scalar {
            case ".", ",", "[", "]", "$", "@", "{", "}", " ", "\t", "\n", "\r": return true
            default: return false
            }
        }

        mutating func parsePath(stopAt stops: Set<Unicode.Scalar>) throws(ParseError) -> [Step] {
            var steps: [Step] = []
            if current == "$" || current == "@" { index += 1 }
            while let scalar = current, !stops.contains(scalar) {
                switch scalar {
                case ".":
                    index += 1
                    if current == "." {
                        index += 1
                        steps.append(.recursive)
                    }
                    steps.append(try parseField())
                case "[":
                    steps.append(try parseBracket())
                case " ", "\t":
                    index += 1
                default:
                    throw ParseError(message: "unrecognized character \(GoFormat.quote(String(Character(scalar))))")
                }
            }
            return steps
        }

        mutating func parseField() throws(ParseError) -> Step {
            var name = ""
            while let scalar = current, !Self.isTerminator(scalar) {
                if scalar == "\\" {
                    index += 1
                    guard let escaped = current else { break }
                    name.unicodeScalars.append(escaped)
                } else {
                    name.unicodeScalars.append(scalar)
                }
                index += 1
            }
            if name == "*" { return .wildcard }
            guard !name.isEmpty else { throw ParseError(message: "missing field name") }
            return .field(name)
        }

        mutating func parseBracket() throws(ParseError) -> Step {
            index += 1
            guard let first = current else { throw ParseError(message: "unclosed array expect ]") }
            if first == "'" || first == "\"" {
                index += 1
                var key = ""
                while let scalar = current, scalar != first {
                    if scalar == "\\", index + 1 < scalars.count { index += 1 }
                    key.unicodeScalars.append(scalars[index])
                    index += 1
                }
                guard current == first else { throw ParseError(message: "unclosed quote") }
                index += 1
                try expect("]")
                return .field(key)
            }
            if first == "?" {
                return .filter(try parseFilter())
            }
            var text = ""
            while let scalar = current, scalar != "]" {
                text.unicodeScalars.append(scalar)
                index += 1
            }
            try expect("]")
            let trimmed = text.trimmingWhitespace()
            if trimmed == "*" { return .wildcard }
            let parts = trimmed.split(separator: ":", omittingEmptySubsequences: false).map {
                String($0).trimmingWhitespace()
            }
            guard (1...3).contains(parts.count) else {
                throw ParseError(message: "invalid array index \(GoFormat.quote(text))")
            }
            var numbers: [Int?] = []
            for part in parts {
                if part.isEmpty {
                    numbers.append(nil)
                } else if let number = Int(part) {
                    numbers.append(number)
                } else {
                    throw ParseError(message: "invalid array index \(GoFormat.quote(text))")
                }
            }
            if parts.count == 1 {
                guard let only = numbers[0] else { throw ParseError(message: "invalid array index \"\"") }
                return .slice(start: only, end: nil, step: nil, index: true)
            }
            return .slice(
                start: numbers[0],
                end: numbers[1],
                step: numbers.count > 2 ? numbers[2] : nil,
                index: false
            )
        }

        mutating func expect(_ scalar: Unicode.Scalar) throws(ParseError) {
            guard current == scalar else { throw ParseError(message: "unclosed array expect \(Character(scalar))") }
            index += 1
        }

        mutating func parseFilter() throws(ParseError) -> Filter {
            index += 1
            guard current == "(" else { throw ParseError(message: "unrecognized filter") }
            index += 1
            var body: [Unicode.Scalar] = []
            var quote: Unicode.Scalar?
            while let scalar = current {
                if let open = quote {
                    if scalar == open && body.last != "\\" { quote = nil }
                } else if scalar == "'" || scalar == "\"" {
                    quote = scalar
                } else if scalar == ")" {
                    break
                }
                body.append(scalar)
                index += 1
            }
            guard current == ")" else { throw ParseError(message: "unterminated filter") }
            index += 1
            try expect("]")
            let operatorCharacters: Set<Unicode.Scalar> = ["!", "<", ">", "="]
            guard let opStart = body.firstIndex(where: { operatorCharacters.contains($0) }) else {
                return Filter(left: try Self.operandPath(body), op: nil, right: nil)
            }
            var opEnd = opStart
            while opEnd < body.count, operatorCharacters.contains(body[opEnd]) { opEnd += 1 }
            let op = String(String.UnicodeScalarView(body[opStart..<opEnd]))
            guard ["==", "!=", "<", ">", "<=", ">="].contains(op) else {
                throw ParseError(message: "unrecognized filter operator \(op)")
            }
            let left = try Self.operandPath(Array(body[..<opStart]))
            let right = try Self.operand(Array(body[opEnd...]))
            return Filter(left: left, op: op, right: right)
        }

        static func operandPath(_ scalars: [Unicode.Scalar]) throws(ParseError) -> [Step] {
            var parser = Parser(Array(String(String.UnicodeScalarView(scalars)).trimmingWhitespace().unicodeScalars))
            return try parser.parsePath(stopAt: [])
        }

        static func operand(_ scalars: [Unicode.Scalar]) throws(ParseError) -> Operand {
            let text = String(String.UnicodeScalarView(scalars)).trimmingWhitespace()
            if let first = text.unicodeScalars.first, first == "'" || first == "\"" {
                guard text.unicodeScalars.count >= 2, text.unicodeScalars.last == first else {
                    throw ParseError(message: "unclosed quote in filter")
                }
                return .literal(.string(String(text.dropFirst().dropLast())))
            }
            if text == "true" { return .literal(.bool(true)) }
            if text == "false" { return .literal(.bool(false)) }
            if let int = Int64(text) { return .literal(.int(int)) }
            if let double = Double(text) { return .literal(.double(double)) }
            return .path(try operandPath(Array(text.unicodeScalars)))
        }
    }
}

extension JSONPathExpression.Filter {
    func passes(_ element: JSONValue) throws(JSONPathExpression.EvaluationError) -> Bool {
        let lefts = (try? JSONPathExpression.run(left, on: [element])) ?? []
        guard let op, let right else { return !lefts.isEmpty }
        guard lefts.count <= 1 else { throw JSONPathExpression.EvaluationError() }
        guard let leftValue = lefts.first else { return false }
        let rightValue: JSONValue
        switch right {
        case .literal(let literal):
            rightValue = literal
        case .path(let steps):
            let rights = try JSONPathExpression.run(steps, on: [element])
            guard rights.count <= 1 else { throw JSONPathExpression.EvaluationError() }
            guard let only = rights.first else { return false }
            rightValue = only
        }
        switch (leftValue, rightValue) {
        case (.string(let a), .string(let b)): return Self.compare(a, b, op)
        case (.int(let a), .int(let b)): return Self.compare(a, b, op)
        case (.double(let a), .double(let b)): return Self.compare(a, b, op)
        case (.bool(let a), .bool(let b)):
            switch op {
            case "==": return a == b
            case "!=": return a != b
            default: throw JSONPathExpression.EvaluationError()
            }
        default:
            throw JSONPathExpression.EvaluationError()
        }
    }

    static func compare<T: Comparable>(_ a: T, _ b: T, _ op: String) -> Bool {
        switch op {
        case "==": return a == b
        case "!=": return a != b
        case "<": return a < b
        case ">": return a > b
        case "<=": return a <= b
        default: return a >= b
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
