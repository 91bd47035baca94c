/// One of the two built-in queries of Flagger's Linkerd provider, with the values Flagger filled in.
///
/// Parsed from PromQL text tolerantly (any whitespace or comments, label matchers in any order, `by (le)` before or
/// after the aggregated expression, `100 *` on either side), but only these two shapes are recognised:
/// - request-success-rate: `sum(rate(response_total{namespace="NS", deployment=~"TARGET",
///   classification!="failure", direction="inbound"}[1m])) / sum(rate(response_total{namespace="NS",
///   deployment=~"TARGET", direction="inbound"}[1m])) * 100`
/// - request-duration: `histogram_quantile(0.99, sum(rate(response_latency_ms_bucket{namespace="NS",
///   deployment=~"TARGET", direction="inbound"}[1m])) by (le))`
struct LinkerdQuery: Equatable {
    enum Kind: Equatable {
        /// Percentage of inbound responses not classified as failures.
        case requestSuccessRate
        /// A quantile (0.99 in Flagger) of inbound latency, in milliseconds.
        case requestDuration(quantile: Double)
    }

    /// How the `deployment` label is matched.
    enum DeploymentMatcher: Equatable {
        /// `deployment="name"`.
        case equal(String)
        /// `deployment=~"regex"`, anchored at both ends like every Prometheus regex matcher.
        case regex(String)
    }

    var kind: Kind
    var namespace: String
    var deployment: DeploymentMatcher
    /// The range of the `rate(…[window])`, in seconds.
    var window: Double

    /// Parses PromQL text and recognises one of the two built-in queries.
    init(parsing text: String) throws(LinkerdQueryError) {
        var parser = try PromQLParser(text)
        let expression = try parser.parseQuery()
        self = try Self.recognise(expression)
    }

    init(kind: Kind, namespace: String, deployment: DeploymentMatcher, window: Double) {
        self.kind = kind
        self.namespace = namespace
        self.deployment = deployment
        self.window = window
    }

    static func recognise(_ expression: PromExpression) throws(LinkerdQueryError) -> LinkerdQuery {
        switch expression {
        case .binary("*", .binary("/", let numerator, let denominator), .number(100)),
            .binary("*", .number(100), .binary("/", let numerator, let denominator)):
            let success = try summedRate(numerator, metric: "response_total", grouping: [])
            let all = try summedRate(denominator, metric: "response_total", grouping: [])
            let numeratorFilter = try Filter(success, allowingClassification: true)
            let denominatorFilter = try Filter(all, allowingClassification: false)
            guard numeratorFilter.excludesFailures else {
                throw .unsupported("the numerator must select classification!=\"failure\"")
            }
            guard denominatorFilter.namespace == numeratorFilter.namespace,
                denominatorFilter.deployment == numeratorFilter.deployment,
                denominatorFilter.window == numeratorFilter.window
            else {
                throw .unsupported("numerator and denominator must select the same namespace, deployment and range")
            }
            return LinkerdQuery(
                kind: .requestSuccessRate,
                namespace: numeratorFilter.namespace,
                deployment: numeratorFilter.deployment,
                window: numeratorFilter.window
            )
        case .call("histogram_quantile", let arguments):
            guard arguments.count == 2, case .number(let quantile) = arguments[0] else {
                throw .unsupported("histogram_quantile needs a numeric quantile and one aggregated rate")
            }
            let selector = try summedRate(arguments[1], metric: "response_latency_ms_bucket", grouping: ["le"])
            let filter = try Filter(selector, allowingClassification: false)
            return LinkerdQuery(
                kind: .requestDuration(quantile: quantile),
                namespace: filter.namespace,
                deployment: filter.deployment,
                window: filter.window
            )
        default:
            throw .unsupported("it is neither of the two shapes")
        }
    }

    /// `sum(rate(METRIC{…}[range]))` with the given `by` labels; returns the selector.
    static func summedRate(
        _ expression: PromExpression,
        metric: String,
        grouping: [String]
    ) throws(LinkerdQueryError) -> PromSelector {
        guard case .aggregation("sum", let by, .call("rate", let arguments)) = expression else {
            throw .unsupported("expected sum(rate(\(metric){…}[…]))" + (grouping.isEmpty ? "" : " by (le)"))
        }
        guard (by ?? []) == grouping else {
            let wanted = grouping.isEmpty ? "no grouping" : "by (\(grouping.joined(separator: ", ")))"
            throw .unsupported("sum over \(metric) must have \(wanted)")
        }
        guard arguments.count == 1, case .selector(let selector) = arguments[0], let range = selector.range else {
            throw .unsupported("rate needs one range selector like \(metric){…}[1m]")
        }
        guard selector.name == metric, range > 0 else {
            throw .unsupported("expected \(metric){…}[…] with a positive range")
        }
        return selector
    }

    /// The label matchers of one selector, checked against what Flagger's template writes.
    struct Filter {
        var namespace: String
        var deployment: DeploymentMatcher
        var window: Double
        var excludesFailures = false

        init(_ selector: PromSelector, allowingClassification: Bool) throws(LinkerdQueryError) {
            var namespace: String?
            var deployment: DeploymentMatcher?
            var inbound = false
            var seen: Set<String> = []
            for matcher in selector.matchers {
                guard seen.insert(matcher.label).inserted else {
                    throw .unsupported("label \(matcher.label) is matched twice")
                }
                switch (matcher.label, matcher.operation) {
                case ("namespace", "="): namespace = matcher.value
                case ("deployment", "=~"): deployment = .regex(matcher.value)
                case ("deployment", "="): deployment = .equal(matcher.value)
                case ("direction", "="):
                    guard matcher.value == "inbound" else { throw .unsupported("only direction=\"inbound\"") }
                    inbound = true
                case ("classification", "!=") where allowingClassification && matcher.value == "failure",
                    ("classification", "=") where allowingClassification && matcher.value == "success":
                    excludesFailures = true
                default:
                    throw .unsupported("unexpected matcher \(matcher.label)\(matcher.operation)\"\(matcher.value)\"")
                }
            }
            guard let namespace, let deployment, inbound, let window = selector.range else {
                throw .unsupported("namespace=\"…\", deployment=~\"…\" and direction=\"inbound\" are all required")
            }
            self.namespace = namespace
            self.deployment = deployment
            self.window = window
        }
    }
}

/// Why a query was refused; answered as Prometheus' `bad_data` error.
struct LinkerdQueryError: Error, Equatable {
    var message: String

    static let scope =
        "this simulated Prometheus answers only Flagger's built-in Linkerd queries request-success-rate and "
        + "request-duration"

    static func parse(_ reason: String) -> LinkerdQueryError {
        LinkerdQueryError(message: "parse error: \(reason); \(scope)")
    }

    static func unsupported(_ reason: String) -> LinkerdQueryError {
        LinkerdQueryError(message: "unsupported query (\(reason)): \(scope)")
    }
}

/// A parsed PromQL expression, for the subset the two Linkerd queries use.
indirect enum PromExpression: Equatable {
    case number(Double)
    case selector(PromSelector)
    case call(String, [PromExpression])
    /// An aggregation such as `sum`; `by` is the `by (…)` label list, `nil` when there is none.
    case aggregation(String, [String]?, PromExpression)
    case binary(String, PromExpression, PromExpression)
}

/// `name{label op "value", …}[range]`.
struct PromSelector: Equatable {
    var name: String?
    var matchers: [PromMatcher]
    /// The range in seconds, for a range selector.
    var range: Double?
}

/// One label matcher: `label op "value"` with op one of `=`, `!=`, `=~`, `!~`.
struct PromMatcher: Equatable {
    var label: String
    var operation: String
    var value: String
}

/// A lexical token of PromQL.
enum PromToken: Equatable {
    case identifier(String)
    case number(Double)
    case duration(String)
    case string(String)
    case symbol(String)

    var display: String {
        switch self {
        case .identifier(let name): return name
        case .number(let value): return String(value)
        case .duration(let text): return text
        case .string(let value): return "\"\(value)\""
        case .symbol(let symbol): return symbol
        }
    }
}

/// A recursive-descent parser for numbers, selectors, function calls, aggregations and arithmetic.
struct PromQLParser {
    static let aggregations: Set<String> = [
        "sum", "avg", "min", "max", "count", "stddev", "stdvar", "group", "topk", "bottomk", "quantile",
        "count_values",
    ]

    var tokens: [PromToken]
    var position = 0

    init(_ text: String) throws(LinkerdQueryError) {
        tokens = try Self.tokenize(text)
    }

    mutating func parseQuery() throws(LinkerdQueryError) -> PromExpression {
        guard !tokens.isEmpty else { throw .parse("no expression found in input") }
        let expression = try parseAdditive()
        if let extra = peek { throw .parse("unexpected \(extra.display) after the expression") }
        return expression
    }

    var peek: PromToken? { position < tokens.count ? tokens[position] : nil }

    mutating func next() throws(LinkerdQueryError) -> PromToken {
        guard let token = peek else { throw .parse("unexpected end of input") }
        position += 1
        return token
    }

    mutating func expect(_ symbol: String) throws(LinkerdQueryError) {
        let token = try next()
        guard token == .symbol(symbol) else { throw .parse("expected \(symbol), found \(token.display)") }
    }

    mutating func take(_ symbol: String) -> Bool {
        guard peek == .symbol(symbol) else { return false }
        position += 1
        return true
    }

    mutating func parseAdditive() throws(LinkerdQueryError) -> PromExpression {
        var left = try parseMultiplicative()
        while case .symbol(let operation) = peek, operation == "+" || operation == "-" {
            position += 1
            left = .binary(operation, left, try parseMultiplicative())
        }
        return left
    }

    mutating func parseMultiplicative() throws(LinkerdQueryError) -> PromExpression {
        var left = try parseUnary()
        while case .symbol(let operation) = peek, operation == "*" || operation == "/" || operation == "%" {
            position += 1
            left = .binary(operation, left, try parseUnary())
        }
        return left
    }

    mutating func parseUnary() throws(LinkerdQueryError) -> PromExpression {
        if take("-") {
            let operand = try parseUnary()
            if case .number(let value) = operand { return .number(-value) }
            return .binary("*", .number(-1), operand)
        }
        if take("+") { return try parseUnary() }
        return try parsePrimary()
    }

    mutating func parsePrimary() throws(LinkerdQueryError) -> PromExpression {
        let token = try next()
        switch token {
        case .number(let value):
            return .number(value)
        case .symbol("("):
            let inner = try parseAdditive()
            try expect(")")
            return inner
        case .symbol("{"):
            return .selector(try parseSelectorRest(name: nil))
        case .identifier(let name) where Self.aggregations.contains(name):
            return try parseAggregation(name)
        case .identifier(let name) where peek == .symbol("("):
            position += 1
            var arguments: [PromExpression] = []
            if !take(")") {
                repeat { arguments.append(try parseAdditive()) } while take(",")
                try expect(")")
            }
            return .call(name, arguments)
        case .identifier(let name):
            return .selector(try parseSelectorRest(name: name))
        default:
            throw .parse("unexpected \(token.display)")
        }
    }

    mutating func parseAggregation(_ name: String) throws(LinkerdQueryError) -> PromExpression {
        var grouping = try parseGrouping()
        try expect("(")
        let body = try parseAdditive()
        try expect(")")
        if let after = try parseGrouping() {
            guard grouping == nil else { throw .parse("\(name) has two grouping clauses") }
            grouping = after
        }
        return .aggregation(name, grouping, body)
    }

    /// `by (a, b)`; `without` is refused because neither Linkerd query uses it.
    mutating func parseGrouping() throws(LinkerdQueryError) -> [String]? {
        switch peek {
        case .identifier("by"):
            position += 1
        case .identifier("without"):
            throw .parse("aggregation without (…) is not supported")
        default:
            return nil
        }
        try expect("(")
        var labels: [String] = []
        if !take(")") {
            repeat {
                let token = try next()
                guard case .identifier(let label) = token else {
                    throw .parse("expected a label, found \(token.display)")
                }
                labels.append(label)
            } while take(",") && peek != .symbol(")")
            try expect(")")
        }
        return labels
    }

    mutating func parseSelectorRest(name: String?) throws(LinkerdQueryError) -> PromSelector {
        var selector = PromSelector(name: name, matchers: [])
        if name == nil || take("{") {
            while !take("}") {
                let labelToken = try next()
                guard case .identifier(let label) = labelToken else {
                    throw .parse("expected a label name, found \(labelToken.display)")
                }
                let operationToken = try next()
                guard case .symbol(let operation) = operationToken, ["=", "!=", "=~", "!~"].contains(operation) else {
                    throw .parse("expected a label matcher operator after \(label), found \(operationToken.display)")
                }
                let valueToken = try next()
                guard case .string(let value) = valueToken else {
                    throw .parse("expected a quoted label value, found \(valueToken.display)")
                }
                selector.matchers.append(PromMatcher(label: label, operation: operation, value: value))
                if !take(",") {
                    try expect("}")
                    break
                }
            }
        }
        if take("[") {
            let token = try next()
            let range: Double?
            switch token {
            case .duration(let text): range = Self.parseDuration(text)
            case .number(let seconds) where seconds > 0 && seconds.isFinite: range = seconds
            default: range = nil
            }
            guard let range, range > 0 else { throw .parse("bad range \(token.display)") }
            selector.range = range
            try expect("]")
        }
        if case .identifier(let modifier) = peek, modifier == "offset" {
            throw .parse("offset is not supported")
        }
        if peek == .symbol("@") { throw .parse("@ is not supported") }
        return selector
    }

    /// A Prometheus (or Go) duration such as `30s`, `1m`, `1h30m` or `500ms`, in seconds; `nil` when malformed.
    static func parseDuration(_ text: String) -> Double? {
        let units: [String: Double] = [
            "ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800, "y": 31_536_000,
        ]
        var total = 0.0
        var rest = Substring(text)
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isASCII && $0.isLetter }
            rest = rest.dropFirst(unit.count)
            guard let value = Double(number), let scale = units[String(unit)] else { return nil }
            total += value * scale
        }
        return total.isFinite ? total : nil
    }

    static func tokenize(_ text: String) throws(LinkerdQueryError) -> [PromToken] {
        var tokens: [PromToken] = []
        let characters = Array(text.unicodeScalars)
        var index = 0
        func isIdentifierStart(_ c: Unicode.Scalar) -> Bool {
            ("a"..."z").contains(c) || ("A"..."Z").contains(c) || c == "_" || c == ":"
        }
        func isIdentifierPart(_ c: Unicode.Scalar) -> Bool {
            isIdentifierStart(c) || ("0"..."9").contains(c)
        }
        /// Digits, `.`, unit letters (`1m30s` lexes as one literal) and an exponent's sign (`1e+3`).
        func continuesNumber(_ c: Unicode.Scalar, after literal: String) -> Bool {
            if isIdentifierPart(c) || c == "." { return true }
            return (c == "+" || c == "-") && (literal.hasSuffix("e") || literal.hasSuffix("E"))
        }
        while index < characters.count {
            let c = characters[index]
            if c.properties.isWhitespace {
                index += 1
            } else if c == "#" {
                while index < characters.count, characters[index] != "\n" { index += 1 }
            } else if isIdentifierStart(c) {
                var name = ""
                while index < characters.count, isIdentifierPart(characters[index]) {
                    name.unicodeScalars.append(characters[index])
                    index += 1
                }
                tokens.append(.identifier(name))
            } else if ("0"..."9").contains(c)
                || (c == "." && index + 1 < characters.count && ("0"..."9").contains(characters[index + 1]))
            {
                var literal = ""
                while index < characters.count, continuesNumber(characters[index], after: literal) {
                    literal.unicodeScalars.append(characters[index])
                    index += 1
                }
                if let value = Double(literal), value.isFinite {
                    tokens.append(.number(value))
                } else {
                    tokens.append(.duration(literal))
                }
            } else if c == "\"" || c == "'" || c == "`" {
                index += 1
                var value = ""
                var closed = false
                while index < characters.count {
                    let d = characters[index]
                    index += 1
                    if d == c {
                        closed = true
                        break
                    }
                    if d == "\\" && c != "`" && index < characters.count {
                        let escaped = characters[index]
                        index += 1
                        switch escaped {
                        case "n": value += "\n"
                        case "t": value += "\t"
                        case "r": value += "\r"
                        case "\\", "\"", "'", "`": value.unicodeScalars.append(escaped)
                        default:
                            value += "\\"
                            value.unicodeScalars.append(escaped)
                        }
                    } else {
                        value.unicodeScalars.append(d)
                    }
                }
                guard closed else { throw .parse("unterminated quoted string") }
                tokens.append(.string(value))
            } else {
                let pair = index + 1 < characters.count ? String(c) + String(characters[index + 1]) : ""
                if ["=~", "!=", "!~", "==", ">=", "<="].contains(pair) {
                    tokens.append(.symbol(pair))
                    index += 2
                } else if "(){}[],=+-*/%^<>@".unicodeScalars.contains(c) {
                    tokens.append(.symbol(String(c)))
                    index += 1
                } else {
                    throw .parse("unexpected character \"\(c)\"")
                }
            }
        }
        return tokens
    }
}
