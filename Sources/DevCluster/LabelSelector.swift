import JSONValue

/// A label selector: a conjunction of requirements on an object's labels.
///
/// Parsing and validation follow apimachinery `labels.Parse`, including its error messages, so a bad
/// `labelSelector` query parameter can be answered with the apiserver's own 400 text. Requirements are kept sorted
/// by key and ``description`` renders the canonical form (`app=web,tier in (a,b)`).
public struct LabelSelector: Sendable, Hashable, CustomStringConvertible {
    /// How a requirement relates a label to its values (apimachinery `selection.Operator`).
    public enum Operator: String, Sendable, Hashable {
        /// `key=value`.
        case equals = "="
        /// `key==value`.
        case doubleEquals = "=="
        /// `key!=value`: matches when the label is absent or different.
        case notEquals = "!="
        /// `key in (a,b)`.
        case `in` = "in"
        /// `key notin (a,b)`: matches when the label is absent or none of the values.
        case notIn = "notin"
        /// `key`: the label is present.
        case exists = "exists"
        /// `!key`: the label is absent.
        case doesNotExist = "!"
        /// `key>1`: the label is an integer greater than the value.
        case greaterThan = "gt"
        /// `key<1`: the label is an integer less than the value.
        case lessThan = "lt"
    }

    /// One requirement: a key, an operator and the values it compares with.
    public struct Requirement: Sendable, Hashable, CustomStringConvertible {
        /// The label key, e.g. `app.kubernetes.io/name`.
        public var key: String
        /// How the label is compared.
        public var op: Operator
        /// The values; empty for ``Operator/exists`` and ``Operator/doesNotExist``.
        public var values: [String]

        /// A requirement validated as `labels.NewRequirement` validates it.
        ///
        /// - Throws: ``SelectorError`` with the field errors apimachinery reports, e.g.
        ///   `values[0][app]: Invalid value: "-x": a valid label must be ...`.
        public init(key: String, op: Operator, values: [String]) throws(SelectorError) {
            var errors: [String] = []
            let keyErrors = KubeValidation.qualifiedNameErrors(key)
            if !keyErrors.isEmpty {
                errors.append(KubeValidation.invalid("key", key, keyErrors.joined(separator: "; ")))
            }
            switch op {
            case .in, .notIn:
                if values.isEmpty {
                    errors.append(
                        KubeValidation.invalid(
                            "values",
                            values: values,
                            "for 'in', 'notin' operators, values set can't be empty"
                        )
                    )
                }
            case .equals, .doubleEquals, .notEquals:
                if values.count != 1 {
                    errors.append(
                        KubeValidation.invalid(
                            "values",
                            values: values,
                            "exact-match compatibility requires one single value"
                        )
                    )
                }
            case .exists, .doesNotExist:
                if !values.isEmpty {
                    errors.append(
                        KubeValidation.invalid(
                            "values",
                            values: values,
                            "values set must be empty for exists and does not exist"
                        )
                    )
                }
            case .greaterThan, .lessThan:
                if values.count != 1 {
                    errors.append(
                        KubeValidation.invalid(
                            "values",
                            values: values,
                            "for 'Gt', 'Lt' operators, exactly one value is required"
                        )
                    )
                }
                for (index, value) in values.enumerated() where Int64(value) == nil {
                    errors.append(
                        KubeValidation.invalid(
                            "values[\(index)]",
                            value,
                            "for 'Gt', 'Lt' operators, the value must be an integer"
                        )
                    )
                }
            }
            for (index, value) in values.enumerated() {
                let valueErrors = KubeValidation.labelValueErrors(value)
                if !valueErrors.isEmpty {
                    errors.append(
                        KubeValidation.invalid("values[\(index)][\(key)]", value, valueErrors.joined(separator: "; "))
                    )
                }
            }
            if let message = KubeValidation.aggregate(errors) { throw SelectorError(message) }
            self.key = key
            self.op = op
            self.values = values
        }

        /// Whether the labels satisfy this requirement.
        public func matches(_ labels: [String: String]) -> Bool {
            switch op {
            case .in, .equals, .doubleEquals:
                guard let value = labels[key] else { return false }
                return values.contains(value)
            case .notIn, .notEquals:
                guard let value = labels[key] else { return true }
                return !values.contains(value)
            case .exists:
                return labels[key] != nil
            case .doesNotExist:
                return labels[key] == nil
            case .greaterThan, .lessThan:
                guard let text = labels[key], let actual = Int64(text), values.count == 1,
                    let bound = Int64(values[0])
                else { return false }
                return op == .greaterThan ? actual > bound : actual < bound
            }
        }

        /// The canonical text, values sorted: `!a`, `a`, `a=b`, `a in (x,y)`, `a>3`.
        public var description: String {
            let joined = values.count == 1 ? values[0] : values.sorted(by: GoFormat.byteOrder).joined(separator: ",")
            switch op {
            case .exists: return key
            case .doesNotExist: return "!" + key
            case .equals: return key + "=" + joined
            case .doubleEquals: return key + "==" + joined
            case .notEquals: return key + "!=" + joined
            case .in: return key + " in (" + joined + ")"
            case .notIn: return key + " notin (" + joined + ")"
            case .greaterThan: return key + ">" + joined
            case .lessThan: return key + "<" + joined
            }
        }
    }

    /// The requirements, sorted by key; all must hold.
    public private(set) var requirements: [Requirement]

    /// The selector that matches every set of labels.
    public static let everything = LabelSelector(requirements: [])

    /// A selector of the given requirements, sorted by key as apimachinery sorts them.
    public init(requirements: [Requirement]) {
        self.requirements = Self.sortedByKey(requirements)
    }

    /// Parses the label selector syntax of `kubectl get -l` and the `labelSelector` query parameter.
    ///
    /// `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, `a>1`, `a<1`, joined by commas; whitespace
    /// between tokens is ignored. The empty string selects everything.
    ///
    /// - Throws: ``SelectorError`` with apimachinery's message, e.g.
    ///   `unable to parse requirement: found '', expected: ',' or ')'` or
    ///   `found 'b', expected: ',' or 'end of string'`.
    public init(parsing text: String) throws(SelectorError) {
        var parser = LabelSelectorParser(text)
        self.init(requirements: try parser.parse())
    }

    /// Converts a `metav1.LabelSelector` object (`matchLabels`, `matchExpressions`), as
    /// `metav1.LabelSelectorAsSelector` does.
    ///
    /// An empty object matches everything. A missing selector matches nothing in Kubernetes; telling the two apart
    /// is the caller's job, so pass only a selector that is present.
    ///
    /// - Throws: ``SelectorError`` for an unknown operator (`"Foo" is not a valid label selector operator`),
    ///   invalid keys or values, or a value that is not a selector object.
    public init(json: JSONValue) throws(SelectorError) {
        guard case .object(let members) = json else {
            throw SelectorError("a label selector must be an object, not \(json.typeName)")
        }
        var requirements: [Requirement] = []
        if let matchLabels = members["matchLabels"], !matchLabels.isNull {
            guard case .object(let labels) = matchLabels else {
                throw SelectorError("matchLabels must be an object, not \(matchLabels.typeName)")
            }
            for key in labels.keys.sorted(by: GoFormat.byteOrder) {
                guard let value = labels[key]?.stringValue else {
                    throw SelectorError("matchLabels[\(key)] must be a string")
                }
                requirements.append(try Requirement(key: key, op: .equals, values: [value]))
            }
        }
        if let expressions = members["matchExpressions"], !expressions.isNull {
            guard case .array(let items) = expressions else {
                throw SelectorError("matchExpressions must be an array, not \(expressions.typeName)")
            }
            for item in items {
                let key = item["key"]?.stringValue ?? ""
                let operatorName = item["operator"]?.stringValue ?? ""
                let op: Operator
                switch operatorName {
                case "In": op = .in
                case "NotIn": op = .notIn
                case "Exists": op = .exists
                case "DoesNotExist": op = .doesNotExist
                default: throw SelectorError("\(GoFormat.quote(operatorName)) is not a valid label selector operator")
                }
                let values = (item["values"]?.arrayValue ?? []).compactMap(\.stringValue)
                requirements.append(try Requirement(key: key, op: op, values: values))
            }
        }
        self.init(requirements: requirements)
    }

    /// Whether the selector has no requirements and so matches every set of labels.
    public var isEverything: Bool { requirements.isEmpty }

    /// Whether `labels` satisfies every requirement.
    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { $0.matches(labels) }
    }

    /// Whether the labels of a JSON object (`metadata.labels`) satisfy every requirement.
    public func matches(object: JSONValue) -> Bool {
        var labels: [String: String] = [:]
        for (key, value) in object["metadata", "labels"]?.objectValue ?? [:] {
            if let text = value.stringValue { labels[key] = text }
        }
        return matches(labels)
    }

    /// The canonical text: requirements sorted by key, joined by commas; empty for ``everything``.
    public var description: String {
        requirements.map(\.description).joined(separator: ",")
    }

    static func sortedByKey(_ requirements: [Requirement]) -> [Requirement] {
        requirements.enumerated()
            .sorted { lhs, rhs in
                if lhs.element.key != rhs.element.key { return GoFormat.byteOrder(lhs.element.key, rhs.element.key) }
                return lhs.offset < rhs.offset
            }
            .map(\.element)
    }
}

/// The lexer and recursive-descent parser of apimachinery `labels.Parse`, token for token.
struct LabelSelectorParser {
    enum Token: Equatable {
        case endOfString, closedPar, comma, doesNotExist, doubleEquals, equals, greaterThan, identifier, `in`
        case lessThan, notEquals, notIn, openPar
    }

    enum Context { case keyAndOperator, values }

    struct Item {
        var token: Token
        var literal: String
    }

    let bytes: [UInt8]
    var position = 0
    var items: [Item] = []
    var cursor = 0

    init(_ text: String) { bytes = Array(text.utf8) }

    static let keywords: [String: Token] = [
        ")": .closedPar, ",": .comma, "!": .doesNotExist, "==": .doubleEquals, "=": .equals, ">": .greaterThan,
        "in": .in, "<": .lessThan, "!=": .notEquals, "notin": .notIn, "(": .openPar,
    ]

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A
    }

    static func isSpecial(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "="), UInt8(ascii: "!"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: ","),
            UInt8(ascii: ">"), UInt8(ascii: "<"):
            return true
        default:
            return false
        }
    }

    mutating func lex() -> Item {
        while position < bytes.count, Self.isWhitespace(bytes[position]) { position += 1 }
        guard position < bytes.count else { return Item(token: .endOfString, literal: "") }
        if Self.isSpecial(bytes[position]) {
            var buffer: [UInt8] = []
            var last: Item?
            while position < bytes.count, Self.isSpecial(bytes[position]) {
                buffer.append(bytes[position])
                let text = String(decoding: buffer, as: UTF8.self)
                if let token = Self.keywords[text] {
                    last = Item(token: token, literal: text)
                } else if last != nil {
                    break
                }
                position += 1
            }
            // Every single special character is a token, so `last` is always set here.
            return last ?? Item(token: .endOfString, literal: "")
        }
        let start = position
        while position < bytes.count, !Self.isSpecial(bytes[position]), !Self.isWhitespace(bytes[position]) {
            position += 1
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        return Item(token: Self.keywords[text] ?? .identifier, literal: text)
    }

    mutating func scan() {
        while true {
            let item = lex()
            items.append(item)
            if item.token == .endOfString { break }
        }
    }

    func lookahead(_ context: Context) -> Item {
        var item = items[min(cursor, items.count - 1)]
        if context == .values, item.token == .in || item.token == .notIn { item.token = .identifier }
        return item
    }

    mutating func consume(_ context: Context) -> Item {
        let item = lookahead(context)
        cursor += 1
        return item
    }

    mutating func parse() throws(SelectorError) -> [LabelSelector.Requirement] {
        scan()
        var requirements: [LabelSelector.Requirement] = []
        while true {
            let next = lookahead(.values)
            switch next.token {
            case .identifier, .doesNotExist:
                do {
                    requirements.append(try parseRequirement())
                } catch {
                    throw SelectorError("unable to parse requirement: " + error.message)
                }
                let separator = consume(.values)
                switch separator.token {
                case .endOfString:
                    return requirements
                case .comma:
                    let following = lookahead(.values)
                    if following.token != .identifier && following.token != .doesNotExist {
                        throw SelectorError("found '\(following.literal)', expected: identifier after ','")
                    }
                default:
                    throw SelectorError("found '\(separator.literal)', expected: ',' or 'end of string'")
                }
            case .endOfString:
                return requirements
            default:
                throw SelectorError("found '\(next.literal)', expected: !, identifier, or 'end of string'")
            }
        }
    }

    mutating func parseRequirement() throws(SelectorError) -> LabelSelector.Requirement {
        var item = consume(.values)
        var op: LabelSelector.Operator?
        if item.token == .doesNotExist {
            op = .doesNotExist
            item = consume(.values)
        }
        guard item.token == .identifier else { throw SelectorError("found '\(item.literal)', expected: identifier") }
        let key = item.literal
        let keyErrors = KubeValidation.qualifiedNameErrors(key)
        if !keyErrors.isEmpty {
            throw SelectorError(KubeValidation.invalid("<nil>", key, keyErrors.joined(separator: "; ")))
        }
        let after = lookahead(.values).token
        if after == .endOfString || after == .comma {
            return try LabelSelector.Requirement(key: key, op: op ?? .exists, values: [])
        }
        if op == .doesNotExist { return try LabelSelector.Requirement(key: key, op: .doesNotExist, values: []) }
        let operatorItem = consume(.keyAndOperator)
        let binary: LabelSelector.Operator
        switch operatorItem.token {
        case .in: binary = .in
        case .equals: binary = .equals
        case .doubleEquals: binary = .doubleEquals
        case .greaterThan: binary = .greaterThan
        case .lessThan: binary = .lessThan
        case .notIn: binary = .notIn
        case .notEquals: binary = .notEquals
        default:
            throw SelectorError("found '\(operatorItem.literal)', expected: in, notin, =, ==, !=, gt, lt")
        }
        let values: [String]
        switch binary {
        case .in, .notIn: values = try parseValues()
        default: values = try parseExactValue()
        }
        return try LabelSelector.Requirement(key: key, op: binary, values: values)
    }

    /// A set of values, de-duplicated and sorted as apimachinery's `sets.String` leaves them.
    static func set(_ values: [String]) -> [String] {
        Array(Set(values)).sorted(by: GoFormat.byteOrder)
    }

    mutating func parseValues() throws(SelectorError) -> [String] {
        let open = consume(.values)
        guard open.token == .openPar else { throw SelectorError("found '\(open.literal)' expected: '('") }
        let next = lookahead(.values)
        switch next.token {
        case .identifier, .comma:
            let values = try parseIdentifiersList()
            if consume(.values).token != .closedPar {
                throw SelectorError("found '\(next.literal)', expected: ')'")
            }
            return values
        case .closedPar:
            _ = consume(.values)
            return [""]
        default:
            throw SelectorError("found '\(next.literal)', expected: ',', ')' or identifier")
        }
    }

    mutating func parseIdentifiersList() throws(SelectorError) -> [String] {
        var values: [String] = []
        while true {
            let item = consume(.values)
            switch item.token {
            case .identifier:
                values.append(item.literal)
                let next = lookahead(.values)
                switch next.token {
                case .comma: continue
                case .closedPar: return Self.set(values)
                default: throw SelectorError("found '\(next.literal)', expected: ',' or ')'")
                }
            case .comma:
                if values.isEmpty { values.append("") }
                let next = lookahead(.values).token
                if next == .closedPar {
                    values.append("")
                    return Self.set(values)
                }
                if next == .comma { values.append("") }
            default:
                throw SelectorError("found '\(item.literal)', expected: ',', or identifier")
            }
        }
    }

    mutating func parseExactValue() throws(SelectorError) -> [String] {
        let next = lookahead(.values).token
        if next == .endOfString || next == .comma { return [""] }
        let item = consume(.values)
        guard item.token == .identifier else { throw SelectorError("found '\(item.literal)', expected: identifier") }
        return [item.literal]
    }
}
