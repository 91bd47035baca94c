import JSONValue

/// An OpenAPI v3 schema in the structural subset Kubernetes uses for CustomResourceDefinitions, able to validate and
/// prune JSON and to render itself as a CRD's `openAPIV3Schema`.
public final class StructuralSchema: Sendable {
    /// The JSON types a schema can demand.
    public enum ValueType: String, Sendable {
        case object, array, string, integer, number, boolean
    }

    public let type: ValueType?
    public let description: String?
    public let properties: [(name: String, schema: StructuralSchema)]
    public let required: [String]
    public let items: StructuralSchema?
    public let additionalProperties: StructuralSchema?
    public let enumValues: [JSONValue]?
    public let minimum: Double?
    public let maximum: Double?
    public let minLength: Int?
    public let maxLength: Int?
    public let minItems: Int?
    public let maxItems: Int?
    public let maxProperties: Int?
    public let pattern: String?
    /// What the pattern means, for error messages (`a duration such as 30s or 1m`).
    public let patternDescription: String?
    public let format: String?
    public let oneOf: [StructuralSchema]
    public let anyOf: [StructuralSchema]
    public let intOrString: Bool
    public let preserveUnknownFields: Bool
    public let nullable: Bool
    /// Members rendered into the CRD but not checked by ``validate(_:at:)``, for rules whose check lives elsewhere
    /// with a better message (for example a `oneOf` that semantic validation explains).
    public let renderedOnly: [String: JSONValue]
    /// Whether this is an object's `metadata`, which keeps its members and renders as a bare `type: object`.
    public let isObjectMeta: Bool
    /// Each property's place in ``properties``.
    let propertyPosition: [String: Int]
    let compiledPattern: CompiledPattern?

    public init(
        type: ValueType? = nil,
        description: String? = nil,
        properties: [(String, StructuralSchema)] = [],
        required: [String] = [],
        items: StructuralSchema? = nil,
        additionalProperties: StructuralSchema? = nil,
        enumValues: [JSONValue]? = nil,
        minimum: Double? = nil,
        maximum: Double? = nil,
        minLength: Int? = nil,
        maxLength: Int? = nil,
        minItems: Int? = nil,
        maxItems: Int? = nil,
        maxProperties: Int? = nil,
        pattern: String? = nil,
        patternDescription: String? = nil,
        format: String? = nil,
        oneOf: [StructuralSchema] = [],
        anyOf: [StructuralSchema] = [],
        intOrString: Bool = false,
        preserveUnknownFields: Bool = false,
        nullable: Bool = false,
        renderedOnly: [String: JSONValue] = [:],
        isObjectMeta: Bool = false
    ) {
        self.type = type
        self.description = description
        self.properties = properties.map { (name: $0.0, schema: $0.1) }
        self.required = required
        self.items = items
        self.additionalProperties = additionalProperties
        self.enumValues = enumValues
        self.minimum = minimum
        self.maximum = maximum
        self.minLength = minLength
        self.maxLength = maxLength
        self.minItems = minItems
        self.maxItems = maxItems
        self.maxProperties = maxProperties
        self.pattern = pattern
        self.patternDescription = patternDescription
        self.format = format
        self.oneOf = oneOf
        self.anyOf = anyOf
        self.intOrString = intOrString
        self.preserveUnknownFields = preserveUnknownFields || isObjectMeta
        self.isObjectMeta = isObjectMeta
        self.nullable = nullable
        self.renderedOnly = renderedOnly
        self.propertyPosition = Dictionary(
            properties.enumerated().map { ($0.element.0, $0.offset) },
            uniquingKeysWith: { first, _ in first }
        )
        self.compiledPattern = pattern.map(CompiledPattern.init)
    }

    /// The schema of a named property, if declared.
    public func property(_ name: String) -> StructuralSchema? { propertyPosition[name].map { properties[$0].schema } }
}

// MARK: - Builders

extension StructuralSchema {
    public static func object(
        _ description: String? = nil,
        required: [String] = [],
        renderedOnly: [String: JSONValue] = [:],
        _ properties: KeyValuePairs<String, StructuralSchema>
    ) -> StructuralSchema {
        StructuralSchema(
            type: .object,
            description: description,
            properties: properties.map { ($0.key, $0.value) },
            required: required,
            renderedOnly: renderedOnly
        )
    }

    /// An object with the given properties, none required.
    public static func object(_ properties: KeyValuePairs<String, StructuralSchema>) -> StructuralSchema {
        StructuralSchema(type: .object, properties: properties.map { ($0.key, $0.value) })
    }

    /// An object whose members are all of one schema (`additionalProperties`).
    public static func map(_ description: String? = nil, of values: StructuralSchema) -> StructuralSchema {
        StructuralSchema(type: .object, description: description, additionalProperties: values)
    }

    /// `metadata` of a custom resource: validated by the API server itself, rendered as a bare `type: object`.
    public static func objectMeta() -> StructuralSchema {
        StructuralSchema(type: .object, renderedOnly: [:], isObjectMeta: true)
    }

    /// An object that keeps whatever members it is given.
    public static func freeForm(_ description: String? = nil) -> StructuralSchema {
        StructuralSchema(type: .object, description: description, preserveUnknownFields: true)
    }

    public static func string(
        _ description: String? = nil,
        enum values: [String]? = nil,
        pattern: String? = nil,
        patternDescription: String? = nil,
        format: String? = nil,
        minLength: Int? = nil,
        maxLength: Int? = nil
    ) -> StructuralSchema {
        StructuralSchema(
            type: .string,
            description: description,
            enumValues: values?.map { .string($0) },
            minLength: minLength,
            maxLength: maxLength,
            pattern: pattern,
            patternDescription: patternDescription,
            format: format
        )
    }

    public static func integer(
        _ description: String? = nil,
        minimum: Double? = nil,
        maximum: Double? = nil,
        format: String? = nil
    ) -> StructuralSchema {
        StructuralSchema(type: .integer, description: description, minimum: minimum, maximum: maximum, format: format)
    }

    public static func number(_ description: String? = nil, minimum: Double? = nil) -> StructuralSchema {
        StructuralSchema(type: .number, description: description, minimum: minimum)
    }

    public static func boolean(_ description: String? = nil) -> StructuralSchema {
        StructuralSchema(type: .boolean, description: description)
    }

    /// A list; `maxItems` is required so that no list in a schema is unbounded (a review's cost and the answer's size
    /// must stay linear and small whatever a client sends).
    public static func array(
        _ description: String? = nil,
        of items: StructuralSchema,
        minItems: Int? = nil,
        maxItems: Int
    ) -> StructuralSchema {
        StructuralSchema(type: .array, description: description, items: items, minItems: minItems, maxItems: maxItems)
    }

    public static func intOrString(_ description: String? = nil) -> StructuralSchema {
        StructuralSchema(description: description, anyOf: [.integer(), .string()], intOrString: true)
    }
}

// MARK: - Validation

/// What a schema check found: errors deny, warnings are reported alongside.
public struct SchemaFindings: Sendable {
    public var errors: [FieldError] = []
    /// Members the schema does not declare (they would be pruned), as field paths.
    public var unknownFields: [String] = []
    /// Where values of the wrong type are, as pointers from the validated value, so a caller can set them aside and
    /// still check the rest.
    public var mistypedPointers: [JSONPointer] = []

    public init() {}
}

extension StructuralSchema {
    /// Checks `value` against the schema, collecting every violation rather than stopping at the first.
    public func validate(_ value: JSONValue, at path: FieldPath) -> SchemaFindings {
        var findings = SchemaFindings()
        var stack = SchemaPath(root: path)
        validate(value, path: &stack, into: &findings)
        return findings
    }

    func validate(_ value: JSONValue, path: inout SchemaPath, into findings: inout SchemaFindings) {
        if value.isNull {
            if nullable || (type == nil && !intOrString) { return }
            findings.errors.append(typeError(value, at: path.description))
            findings.mistypedPointers.append(path.pointer)
            return
        }
        if intOrString {
            switch value {
            case .string, .int: break
            case .double where value.intValue != nil: break
            default:
                findings.errors.append(
                    FieldError(
                        .typeInvalid,
                        field: path.description,
                        value: value,
                        detail: "must be an integer or a string"
                    )
                )
                findings.mistypedPointers.append(path.pointer)
                return
            }
        } else if let type, !Self.matches(value, type) {
            findings.errors.append(typeError(value, at: path.description))
            findings.mistypedPointers.append(path.pointer)
            return
        }
        if let enumValues, !enumValues.contains(value) {
            findings.errors.append(
                .notSupported(
                    path.description,
                    value,
                    supported: enumValues.map { $0.stringValue ?? $0.serialized() }
                )
            )
        }
        switch value {
        case .string(let string):
            checkString(string, value: value, at: path, into: &findings)
        case .int, .double:
            checkNumber(value, at: path, into: &findings)
        case .array(let elements):
            if let minItems, elements.count < minItems {
                findings.errors.append(
                    .invalid(path.description, .int(Int64(elements.count)), "must have at least \(minItems) items")
                )
            }
            if let maxItems, elements.count > maxItems {
                // The list's length is the problem to fix first: its elements are not checked one by one (a hostile
                // list would cost as much as it is long and bury this message), and the list is set aside like a
                // mistyped value so the rest of the object is still checked.
                findings.errors.append(
                    FieldError(
                        .tooMany,
                        field: path.description,
                        value: .int(Int64(elements.count)),
                        detail: "must have at most \(maxItems) items"
                    )
                )
                findings.mistypedPointers.append(path.pointer)
                return
            }
            if let items {
                for (index, element) in elements.enumerated() {
                    path.tokens.append(.index(index))
                    items.validate(element, path: &path, into: &findings)
                    path.tokens.removeLast()
                }
            }
        case .object(let members):
            if let maxProperties, members.count > maxProperties {
                let names = propertyOrder.map { "\"\($0)\"" }.joined(separator: ", ")
                findings.errors.append(
                    FieldError(
                        .forbidden,
                        field: path.description,
                        detail: "may have at most \(maxProperties) of \(names)"
                    )
                )
            }
            for name in required {
                if let member = members[name], !member.isNull { continue }
                path.tokens.append(.member(name))
                findings.errors.append(.required(path.description))
                path.tokens.removeLast()
            }
            // Declared members in declaration order, then the rest sorted, so messages come out in a stable order.
            // Objects usually set a few of many declared properties: look up what is there, not all that could be.
            var declared: [(position: Int, value: JSONValue)] = []
            declared.reserveCapacity(members.count)
            for (name, member) in members {
                if let position = propertyPosition[name] { declared.append((position, member)) }
            }
            declared.sort { $0.position < $1.position }
            for (position, member) in declared {
                let property = properties[position]
                path.tokens.append(.member(property.name))
                property.schema.validate(member, path: &path, into: &findings)
                path.tokens.removeLast()
            }
            let matched = declared.count
            if matched < members.count {
                for key in members.keys.sorted() where propertyPosition[key] == nil {
                    if let additionalProperties {
                        path.tokens.append(.key(key))
                        additionalProperties.validate(members[key]!, path: &path, into: &findings)
                        path.tokens.removeLast()
                    } else if !preserveUnknownFields, type == .object {
                        path.tokens.append(.member(key))
                        findings.unknownFields.append(path.description)
                        path.tokens.removeLast()
                    }
                }
            }
        default:
            break
        }
        if !oneOf.isEmpty {
            let here = FieldPath(path.description)
            let matching = oneOf.filter { $0.validate(value, at: here).errors.isEmpty }.count
            if matching != 1 {
                findings.errors.append(
                    .invalid(path.description, value, "must match exactly one of \(oneOf.count) schemas")
                )
            }
        }
        if !anyOf.isEmpty, !intOrString {
            let here = FieldPath(path.description)
            if !anyOf.contains(where: { $0.validate(value, at: here).errors.isEmpty }) {
                findings.errors.append(
                    .invalid(path.description, value, "must match at least one of the allowed schemas")
                )
            }
        }
    }

    static func matches(_ value: JSONValue, _ type: ValueType) -> Bool {
        switch (type, value) {
        case (.object, .object), (.array, .array), (.string, .string), (.boolean, .bool): return true
        case (.number, .int), (.number, .double), (.integer, .int): return true
        case (.integer, .double): return value.intValue != nil
        default: return false
        }
    }

    func typeError(_ value: JSONValue, at path: String) -> FieldError {
        let shown: JSONValue
        switch value {
        case .object: shown = .string("object")
        case .array: shown = .string("array")
        default: shown = value
        }
        let expected = intOrString ? "integer or string" : (type?.rawValue ?? "any")
        return FieldError(.typeInvalid, field: path, value: shown, detail: "must be of type \(expected)")
    }

    func checkString(_ string: String, value: JSONValue, at path: SchemaPath, into findings: inout SchemaFindings) {
        if let minLength, string.count < minLength {
            findings.errors.append(
                .invalid(path.description, value, "must be at least \(minLength) characters long")
            )
        }
        if let maxLength, string.count > maxLength {
            findings.errors.append(.tooLong(path.description, value, maximum: maxLength))
        }
        if let pattern, let compiledPattern, !intOrString, !compiledPattern.matches(string) {
            let meaning = patternDescription.map { "must be \($0) (pattern '\(pattern)')" }
            findings.errors.append(.invalid(path.description, value, meaning ?? "must match the pattern '\(pattern)'"))
        }
    }

    func checkNumber(_ value: JSONValue, at path: SchemaPath, into findings: inout SchemaFindings) {
        guard let number = value.doubleValue else { return }
        if let minimum, number < minimum {
            findings.errors.append(
                .invalid(
                    path.description,
                    value,
                    "must be greater than or equal to \(JSONValue.double(minimum).serialized())"
                )
            )
        }
        if let maximum, number > maximum {
            findings.errors.append(
                .invalid(
                    path.description,
                    value,
                    "must be less than or equal to \(JSONValue.double(maximum).serialized())"
                )
            )
        }
    }
}

/// A schema pattern compiled once. Patterns Kubernetes schemas use all the time have hand-written matchers (the
/// regex engine costs microseconds a match); any other goes to `Regex`. A pattern that does not compile matches
/// nothing, so the fault shows.
final class CompiledPattern: @unchecked Sendable {
    // Regex is an immutable value; matching does not mutate it, so sharing it across threads is safe.
    let regex: Regex<AnyRegexOutput>?
    let fast: (@Sendable (Substring.UTF8View) -> Bool)?

    init(_ pattern: String) {
        fast = Self.known[pattern]
        regex = fast == nil ? try? Regex(pattern) : nil
    }

    func matches(_ string: String) -> Bool {
        if let fast { return fast(Substring(string).utf8) }
        guard let regex else { return false }
        return (try? regex.firstMatch(in: string)) != nil
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    static func isLower(_ byte: UInt8) -> Bool { byte >= 0x61 && byte <= 0x7A }
    static func isLetter(_ byte: UInt8) -> Bool { isLower(byte) || (byte >= 0x41 && byte <= 0x5A) }

    static let known: [String: @Sendable (Substring.UTF8View) -> Bool] = [
        // Flagger's duration pattern: digits then m or s, unanchored at the end.
        "^[0-9]+(m|s)": { bytes in
            let digits = bytes.prefix(while: isDigit)
            guard !digits.isEmpty, let next = bytes.dropFirst(digits.count).first else { return false }
            return next == UInt8(ascii: "m") || next == UInt8(ascii: "s")
        },
        // DNS-1123 label.
        "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$": { bytes in
            guard let first = bytes.first, let last = bytes.last else { return false }
            guard isLower(first) || isDigit(first), isLower(last) || isDigit(last) else { return false }
            return bytes.allSatisfy { isLower($0) || isDigit($0) || $0 == UInt8(ascii: "-") }
        },
        // A Kubernetes kind.
        "^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$": { bytes in
            guard let first = bytes.first, let last = bytes.last else { return false }
            guard isLetter(first), isLetter(last) || isDigit(last) else { return false }
            return bytes.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "-") }
        },
    ]
}

// MARK: - Pruning

extension StructuralSchema {
    /// The value with every member the schema does not declare removed, as kube-apiserver prunes custom resources.
    public func pruned(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members):
            if preserveUnknownFields && properties.isEmpty && additionalProperties == nil { return value }
            var kept: [String: JSONValue] = [:]
            for (key, member) in members {
                if let schema = property(key) {
                    kept[key] = schema.pruned(member)
                } else if let additionalProperties {
                    kept[key] = additionalProperties.pruned(member)
                } else if preserveUnknownFields {
                    kept[key] = member
                }
            }
            return .object(kept)
        case .array(let elements):
            guard let items else { return value }
            return .array(elements.map { items.pruned($0) })
        default:
            return value
        }
    }
}

// MARK: - Rendering

extension StructuralSchema {
    /// The schema as a CRD's `openAPIV3Schema` JSON.
    public var json: JSONValue {
        if isObjectMeta { return ["type": "object"] }
        var object: [String: JSONValue] = [:]
        if let type { object["type"] = .string(type.rawValue) }
        if let description { object["description"] = .string(description) }
        if !properties.isEmpty {
            object["properties"] = .object(
                Dictionary(uniqueKeysWithValues: properties.map { ($0.name, $0.schema.json) })
            )
        }
        if !required.isEmpty { object["required"] = .array(required.map { .string($0) }) }
        if let items { object["items"] = items.json }
        if let additionalProperties { object["additionalProperties"] = additionalProperties.json }
        if let enumValues { object["enum"] = .array(enumValues) }
        if let minimum { object["minimum"] = Self.number(minimum) }
        if let maximum { object["maximum"] = Self.number(maximum) }
        if let minLength { object["minLength"] = .int(Int64(minLength)) }
        if let maxLength { object["maxLength"] = .int(Int64(maxLength)) }
        if let minItems { object["minItems"] = .int(Int64(minItems)) }
        if let maxItems { object["maxItems"] = .int(Int64(maxItems)) }
        if let maxProperties { object["maxProperties"] = .int(Int64(maxProperties)) }
        if let pattern { object["pattern"] = .string(pattern) }
        if let format { object["format"] = .string(format) }
        if !oneOf.isEmpty { object["oneOf"] = .array(oneOf.map(\.json)) }
        if intOrString {
            object["x-kubernetes-int-or-string"] = true
        } else if !anyOf.isEmpty {
            object["anyOf"] = .array(anyOf.map(\.json))
        }
        if preserveUnknownFields { object["x-kubernetes-preserve-unknown-fields"] = true }
        if nullable { object["nullable"] = true }
        for (key, value) in renderedOnly { object[key] = value }
        return .object(object)
    }

    static func number(_ value: Double) -> JSONValue {
        value.rounded() == value ? .int(Int64(value)) : .double(value)
    }

    /// The property names in declaration order, for rendering with a stable, readable member order.
    public var propertyOrder: [String] { properties.map(\.name) }
}

/// The place being validated, kept as a stack of steps and rendered only when a finding needs it.
struct SchemaPath {
    enum Token {
        case member(String)
        case index(Int)
        case key(String)
    }

    let root: FieldPath
    var tokens: [Token] = []

    init(root: FieldPath) {
        self.root = root
        tokens.reserveCapacity(16)
    }

    var description: String {
        var path = root
        for token in tokens {
            switch token {
            case .member(let name): path = path.child(name)
            case .index(let index): path = path.index(index)
            case .key(let key): path = path.key(key)
            }
        }
        return path.description
    }

    var pointer: JSONPointer {
        JSONPointer(
            tokens: tokens.map { token in
                switch token {
                case .member(let name), .key(let name): return name
                case .index(let index): return String(index)
                }
            }
        )
    }
}
