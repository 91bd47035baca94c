import JSONValue
import KubeModels

/// Why a CustomResourceDefinition's `openAPIV3Schema` was refused: every problem found, each with the field path of
/// the schema node at fault, worded as apiextensions-apiserver words it
/// (`spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Unsupported value: "strin": …`).
public struct CRDSchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// All problems, joined as Kubernetes aggregates field errors (one alone, several as `[a, b]`).
    public var message: String
    /// The problems one by one, for a `Status` with one cause per error.
    public var fieldErrors: [FieldError]

    /// An error with a message and no itemised causes.
    public init(message: String) {
        self.message = message
        self.fieldErrors = []
    }

    /// An error listing `fieldErrors`, its message their aggregate.
    public init(_ fieldErrors: [FieldError]) {
        self.message = fieldErrors.aggregateDescription
        self.fieldErrors = fieldErrors
    }

    /// The message.
    public var description: String { message }
}

extension StructuralSchema {
    /// Builds the structural schema of a CRD version's `schema.openAPIV3Schema`.
    ///
    /// The schema must be structural as apiextensions-apiserver demands: every node outside `allOf`, `anyOf`,
    /// `oneOf` and `not` has a `type` unless it is `x-kubernetes-int-or-string` or
    /// `x-kubernetes-preserve-unknown-fields`; the value validations do not declare types, descriptions, defaults or
    /// fields missing outside them; `$ref`, `definitions`, `dependencies`, `patternProperties`, `additionalItems`,
    /// `id` and `uniqueItems: true` are refused; `additionalProperties` is not used beside `properties` nor at the
    /// root; and every `default` validates against its node and has no unknown fields. Keywords that are not JSON
    /// schema keywords Kubernetes knows are refused too, as a strict decode of the CRD would.
    ///
    /// The root always declares `apiVersion` and `kind` (strings) and `metadata`, which becomes
    /// ``StructuralSchema/objectMeta()`` whatever the CRD says (keeping restrictions on `name` and `generateName`).
    /// A node with `x-kubernetes-embedded-resource` likewise gets `apiVersion` and `kind` (required) and `metadata`.
    ///
    /// - Parameters:
    ///   - json: The `openAPIV3Schema` object.
    ///   - path: Where the schema sits in the CRD, for error messages.
    /// - Throws: ``CRDSchemaError`` listing every problem found.
    public static func fromOpenAPIV3(
        _ json: JSONValue,
        at path: FieldPath = FieldPath("spec.versions[0].schema.openAPIV3Schema")
    ) throws(CRDSchemaError) -> StructuralSchema {
        var builder = CRDSchemaBuilder()
        let schema = builder.node(json, at: path, level: .root, context: CRDSchemaBuilder.Context())
        if !builder.errors.isEmpty { throw CRDSchemaError(builder.errors) }
        return schema
    }
}

/// Walks an `openAPIV3Schema`, collecting every problem, and builds its ``StructuralSchema``.
struct CRDSchemaBuilder {
    /// Where a node sits, for the wording of a missing `type`.
    enum Level {
        case root, item, field
    }

    /// What the nodes above imply for this one.
    struct Context {
        /// Inside the `apiVersion`, `kind` or `metadata` of the resource or of an embedded resource.
        var insideResourceMeta = false
        /// Why `default` may not be used here, when it may not.
        var defaultsForbiddenReason: String?
    }

    var errors: [FieldError] = []

    static let supportedTypes = ["array", "boolean", "integer", "number", "object", "string"]
    static let resourceMetaFields: Set<String> = ["apiVersion", "kind", "metadata"]

    /// Every member a `JSONSchemaProps` of apiextensions.k8s.io/v1 has.
    static let knownKeywords: Set<String> = [
        "id", "$schema", "$ref", "description", "type", "format", "title", "default", "maximum", "exclusiveMaximum",
        "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems",
        "multipleOf", "enum", "maxProperties", "minProperties", "required", "items", "allOf", "oneOf", "anyOf", "not",
        "properties", "additionalProperties", "patternProperties", "dependencies", "additionalItems", "definitions",
        "externalDocs", "example", "nullable", "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-embedded-resource", "x-kubernetes-int-or-string", "x-kubernetes-list-map-keys",
        "x-kubernetes-list-type", "x-kubernetes-map-type", "x-kubernetes-validations",
    ]

    /// Keywords Kubernetes knows but refuses in CRD schemas, with its reason.
    static let unsupportedKeywords: [(keyword: String, detail: String)] = [
        ("id", "id is not supported"),
        ("additionalItems", "additionalItems is not supported"),
        ("patternProperties", "patternProperties is not supported"),
        ("definitions", "definitions is not supported"),
        ("dependencies", "dependencies is not supported"),
        ("$ref", "$ref is not supported"),
    ]

    /// Keywords a value validation (inside `allOf`, `anyOf`, `oneOf`, `not`) must leave out, with the wording.
    static let forbiddenInValueValidation: [(keyword: String, detail: String)] = [
        ("type", "must be empty to be structural"),
        ("additionalProperties", "must be undefined to be structural"),
        ("default", "must be undefined to be structural"),
        ("title", "must be empty to be structural"),
        ("description", "must be empty to be structural"),
        ("nullable", "must be false to be structural"),
        ("x-kubernetes-preserve-unknown-fields", "must be false to be structural"),
        ("x-kubernetes-embedded-resource", "must be false to be structural"),
        ("x-kubernetes-int-or-string", "must be false to be structural"),
        ("x-kubernetes-list-map-keys", "must be empty to be structural"),
        ("x-kubernetes-list-type", "must be undefined to be structural"),
    ]

    // MARK: Structural nodes

    /// Builds the schema of one structural node (the root, a property, `items` or `additionalProperties`).
    mutating func node(_ json: JSONValue, at path: FieldPath, level: Level, context: Context) -> StructuralSchema {
        guard let members = json.objectValue else {
            errors.append(.invalid(path.description, json, "must be a JSON schema object"))
            return StructuralSchema()
        }
        checkKeywords(members, at: path)

        let typeName = string(members, "type", at: path) ?? ""
        var type: StructuralSchema.ValueType?
        if typeName == "null" {
            errors.append(
                .forbidden(path.child("type").description, "type cannot be set to null, use nullable as an alternative")
            )
        } else if !typeName.isEmpty {
            type = StructuralSchema.ValueType(rawValue: typeName)
            if type == nil {
                errors.append(
                    .notSupported(path.child("type").description, .string(typeName), supported: Self.supportedTypes)
                )
            }
        }
        let intOrString = flag(members, "x-kubernetes-int-or-string", at: path)
        let preserveUnknownFields = flag(members, "x-kubernetes-preserve-unknown-fields", at: path)
        if members["x-kubernetes-preserve-unknown-fields"] == .bool(false) {
            errors.append(
                .invalid(
                    path.child("x-kubernetes-preserve-unknown-fields").description,
                    false,
                    "must be true or undefined"
                )
            )
        }
        let embedded = flag(members, "x-kubernetes-embedded-resource", at: path)
        let nullable = flag(members, "nullable", at: path)
        let description = string(members, "description", at: path)
        checkStructuralInvariants(
            members,
            at: path,
            level: level,
            context: context,
            typeName: typeName,
            intOrString: intOrString,
            preserveUnknownFields: preserveUnknownFields,
            embedded: embedded
        )

        var items: StructuralSchema?
        if let itemsJSON = members["items"] {
            if case .array = itemsJSON {
                errors.append(
                    .forbidden(path.child("items").description, "items must be a schema object and not an array")
                )
            } else {
                items = node(itemsJSON, at: path.child("items"), level: .item, context: context)
            }
        } else if typeName == "array" {
            errors.append(.required(path.child("items").description, "must be specified"))
        }

        let declared = objectMembers(members, "properties", at: path)
        let isResource = level == .root || embedded
        var properties: [(String, StructuralSchema)] = []
        for (name, propertyJSON) in declared.sorted(by: { $0.key < $1.key }) {
            var propertyContext = context
            if isResource, Self.resourceMetaFields.contains(name) {
                propertyContext.insideResourceMeta = true
                if level == .root { propertyContext.defaultsForbiddenReason = "in top-level \(name)" }
            }
            let propertyPath = path.child("properties").key(name)
            var property = node(propertyJSON, at: propertyPath, level: .field, context: propertyContext)
            if isResource, name == "metadata" {
                property = objectMeta(propertyJSON, built: property, at: propertyPath, strict: level == .root)
            }
            properties.append((name, property))
        }
        if isResource {
            checkTypeMeta(declared, at: path)
            for name in ["apiVersion", "kind"] where declared[name] == nil {
                properties.append((name, embedded ? StructuralSchema.string(minLength: 1) : StructuralSchema.string()))
            }
            if declared["metadata"] == nil { properties.append(("metadata", StructuralSchema.objectMeta())) }
        }

        let additionalProperties = additionalPropertiesSchema(
            members,
            at: path,
            level: level,
            context: context,
            hasProperties: !declared.isEmpty,
            embedded: embedded
        )

        var checks = valueChecks(members, at: path, integerType: type == .integer)
        if embedded {
            for name in ["apiVersion", "kind"] where !checks.required.contains(name) { checks.required.append(name) }
        }

        let shape = StructuralSchema(type: type, properties: properties, items: items)
        let junctions = junctions(
            members,
            at: path,
            counterpart: shape,
            counterpartPath: path,
            intOrString: intOrString,
            allowIntOrStringAnyOf: true
        )

        let schema = StructuralSchema(
            type: type,
            description: description,
            properties: properties,
            required: checks.required,
            items: items,
            additionalProperties: additionalProperties,
            enumValues: checks.enumValues,
            minimum: checks.minimum,
            maximum: checks.maximum,
            minLength: checks.minLength,
            maxLength: checks.maxLength,
            minItems: checks.minItems,
            maxItems: checks.maxItems,
            maxProperties: checks.maxProperties,
            pattern: checks.pattern,
            format: checks.format,
            oneOf: junctions.oneOf,
            anyOf: junctions.anyOf,
            intOrString: intOrString,
            preserveUnknownFields: preserveUnknownFields,
            nullable: nullable
        )
        if let defaultValue = members["default"] {
            checkDefault(defaultValue, of: schema, at: path, context: context)
        }
        return schema
    }

    /// The checks of apiextensions' `validateStructuralInvariants` that concern one node's own keywords.
    mutating func checkStructuralInvariants(
        _ members: [String: JSONValue],
        at path: FieldPath,
        level: Level,
        context: Context,
        typeName: String,
        intOrString: Bool,
        preserveUnknownFields: Bool,
        embedded: Bool
    ) {
        let typePath = path.child("type").description
        if intOrString, preserveUnknownFields {
            errors.append(
                .invalid(
                    path.child("x-kubernetes-preserve-unknown-fields").description,
                    true,
                    "must be false if x-kubernetes-int-or-string is true"
                )
            )
        }
        if intOrString, embedded {
            errors.append(
                .invalid(
                    path.child("x-kubernetes-embedded-resource").description,
                    true,
                    "must be false if x-kubernetes-int-or-string is true"
                )
            )
        }
        if embedded, typeName != "object" {
            let detail = "must be object if x-kubernetes-embedded-resource is true"
            errors.append(
                typeName.isEmpty ? .required(typePath, detail) : .invalid(typePath, .string(typeName), detail)
            )
        } else if typeName.isEmpty, !intOrString, !preserveUnknownFields {
            switch level {
            case .root: errors.append(.required(typePath, "must not be empty at the root"))
            case .item: errors.append(.required(typePath, "must not be empty for specified array items"))
            case .field: errors.append(.required(typePath, "must not be empty for specified object fields"))
            }
        }
        if level == .root, !typeName.isEmpty, typeName != "object" {
            errors.append(.invalid(typePath, .string(typeName), "must be object at the root"))
        }
        if embedded, !preserveUnknownFields, (members["properties"]?.objectValue ?? [:]).isEmpty {
            errors.append(
                .required(
                    path.child("properties").description,
                    "must not be empty if x-kubernetes-embedded-resource is true without "
                        + "x-kubernetes-preserve-unknown-fields"
                )
            )
        }
        if embedded, context.insideResourceMeta {
            errors.append(
                .forbidden(
                    path.child("x-kubernetes-embedded-resource").description,
                    "must not be used inside of resource meta"
                )
            )
        }
    }

    /// Checks that a resource's `apiVersion` and `kind` are strings and its `metadata` an object, if declared.
    mutating func checkTypeMeta(_ declared: [String: JSONValue], at path: FieldPath) {
        for (name, expected) in [("apiVersion", "string"), ("kind", "string"), ("metadata", "object")] {
            guard let property = declared[name] else { continue }
            let type = property["type"] ?? .string("")
            if type != .string(expected) {
                errors.append(
                    .invalid(
                        path.child("properties").key(name).child("type").description,
                        type,
                        "must be \(expected)"
                    )
                )
            }
        }
    }

    /// The `metadata` of a resource as ``StructuralSchema/objectMeta()``, keeping what the CRD says of `name` and
    /// `generateName`. At the root (`strict`) the CRD may say nothing else.
    mutating func objectMeta(
        _ json: JSONValue,
        built: StructuralSchema,
        at path: FieldPath,
        strict: Bool
    ) -> StructuralSchema {
        let members = json.objectValue ?? [:]
        let declared = members["properties"]?.objectValue ?? [:]
        let allowedKeys: Set<String> = ["type", "properties", "default"]
        let restrictsOthers =
            members.keys.contains { !allowedKeys.contains($0) }
            || declared.keys.contains { $0 != "name" && $0 != "generateName" }
        if strict, restrictsOthers {
            errors.append(
                .forbidden(
                    path.description,
                    "must not specify anything other than name and generateName, but metadata is implicitly specified"
                )
            )
        }
        let kept = built.properties.filter { $0.name == "name" || $0.name == "generateName" }
        if kept.isEmpty { return .objectMeta() }
        return StructuralSchema(type: .object, properties: kept.map { ($0.name, $0.schema) }, isObjectMeta: true)
    }

    /// The schema of `additionalProperties`, with its checks.
    mutating func additionalPropertiesSchema(
        _ members: [String: JSONValue],
        at path: FieldPath,
        level: Level,
        context: Context,
        hasProperties: Bool,
        embedded: Bool
    ) -> StructuralSchema? {
        guard let json = members["additionalProperties"] else { return nil }
        let additionalPath = path.child("additionalProperties")
        if level == .root {
            errors.append(.forbidden(additionalPath.description, "must not be used at the root"))
        }
        if embedded {
            errors.append(
                .forbidden(additionalPath.description, "must not be used if x-kubernetes-embedded-resource is set")
            )
        }
        switch json {
        case .bool(let allows):
            if hasProperties, !allows {
                errors.append(
                    .forbidden(additionalPath.description, "additionalProperties and properties are mutual exclusive")
                )
            }
            // `true` lets any member through and keeps it; `false` is what an absent `additionalProperties` does.
            return allows ? StructuralSchema(preserveUnknownFields: true) : nil
        case .object:
            if hasProperties {
                errors.append(
                    .forbidden(additionalPath.description, "additionalProperties and properties are mutual exclusive")
                )
            }
            var valueContext = context
            if context.insideResourceMeta {
                valueContext.defaultsForbiddenReason = "inside additionalProperties applying to object metadata"
            }
            return node(json, at: additionalPath, level: .field, context: valueContext)
        default:
            errors.append(.invalid(additionalPath.description, json, "must be a Boolean or a JSON schema object"))
            return nil
        }
    }

    /// Checks a node's `default` as apiextensions does: allowed here, valid against the node, nothing to prune.
    mutating func checkDefault(_ value: JSONValue, of schema: StructuralSchema, at path: FieldPath, context: Context) {
        let defaultPath = path.child("default")
        if let reason = context.defaultsForbiddenReason {
            errors.append(.forbidden(defaultPath.description, "must not be set \(reason)"))
            return
        }
        if value.isNull { return }
        let findings = schema.validate(value, at: defaultPath)
        errors.append(contentsOf: findings.errors)
        if !findings.unknownFields.isEmpty || schema.pruned(value) != value {
            errors.append(.invalid(defaultPath.description, value, "must not have unknown fields"))
        }
    }

    // MARK: Value validations

    /// What `allOf`, `anyOf`, `oneOf` and `not` of a node come to, in the two lists ``StructuralSchema`` checks.
    ///
    /// `oneOf` and `anyOf` map across. `allOf` and `not`, which ``StructuralSchema`` lacks, are rewritten: `not S` is
    /// "exactly one of S and anything", and a conjunction is a chain of one-element `oneOf`s; a conjunction takes the
    /// `anyOf` slot (or the `oneOf` slot on an int-or-string node, whose `anyOf` ``StructuralSchema`` ignores).
    mutating func junctions(
        _ members: [String: JSONValue],
        at path: FieldPath,
        counterpart: StructuralSchema?,
        counterpartPath: FieldPath,
        intOrString: Bool,
        allowIntOrStringAnyOf: Bool
    ) -> (oneOf: [StructuralSchema], anyOf: [StructuralSchema]) {
        let oneOf = nestedList(members, "oneOf", at: path, counterpart: counterpart, counterpartPath: counterpartPath)
        var anyOf: [StructuralSchema] = []
        var anyOfIsIntOrString = false
        if allowIntOrStringAnyOf, let json = members["anyOf"], Self.isIntOrStringPattern(json) {
            anyOf = [StructuralSchema(type: .integer), StructuralSchema(type: .string)]
            anyOfIsIntOrString = true
        } else {
            anyOf = nestedList(members, "anyOf", at: path, counterpart: counterpart, counterpartPath: counterpartPath)
        }
        var conjuncts: [StructuralSchema] = []
        if let json = members["allOf"] {
            if let elements = json.arrayValue {
                for (index, element) in elements.enumerated() {
                    conjuncts.append(
                        nested(
                            element,
                            at: path.child("allOf").index(index),
                            counterpart: counterpart,
                            counterpartPath: counterpartPath,
                            allowIntOrStringAnyOf: index == 0
                        )
                    )
                }
            } else {
                errors.append(.invalid(path.child("allOf").description, json, "must be an array of JSON schemas"))
            }
        }
        if let json = members["not"] {
            let negated = nested(
                json,
                at: path.child("not"),
                counterpart: counterpart,
                counterpartPath: counterpartPath,
                allowIntOrStringAnyOf: false
            )
            conjuncts.append(StructuralSchema(oneOf: [negated, StructuralSchema()]))
        }
        if intOrString {
            if !anyOf.isEmpty, !anyOfIsIntOrString { conjuncts.append(StructuralSchema(anyOf: anyOf)) }
            if conjuncts.isEmpty { return (oneOf, anyOf) }
            if !oneOf.isEmpty { conjuncts.append(StructuralSchema(oneOf: oneOf)) }
            return ([Self.conjunction(conjuncts)], anyOf)
        }
        if conjuncts.isEmpty { return (oneOf, anyOf) }
        if !anyOf.isEmpty { conjuncts.append(StructuralSchema(anyOf: anyOf)) }
        return (oneOf, [Self.conjunction(conjuncts)])
    }

    /// A schema that matches when every one of `schemas` does.
    static func conjunction(_ schemas: [StructuralSchema]) -> StructuralSchema {
        guard let first = schemas.first else { return StructuralSchema() }
        if schemas.count == 1 { return first }
        return StructuralSchema(oneOf: [first], anyOf: [conjunction(Array(schemas.dropFirst()))])
    }

    /// Whether `json` is `[{type: integer}, {type: string}]`, the `anyOf` an int-or-string node may carry.
    static func isIntOrStringPattern(_ json: JSONValue) -> Bool {
        json == [["type": "integer"], ["type": "string"]]
    }

    /// The value validations of a keyword holding a list of them (`oneOf`, `anyOf`).
    mutating func nestedList(
        _ members: [String: JSONValue],
        _ keyword: String,
        at path: FieldPath,
        counterpart: StructuralSchema?,
        counterpartPath: FieldPath
    ) -> [StructuralSchema] {
        guard let json = members[keyword] else { return [] }
        guard let elements = json.arrayValue else {
            errors.append(.invalid(path.child(keyword).description, json, "must be an array of JSON schemas"))
            return []
        }
        return elements.enumerated().map { index, element in
            nested(
                element,
                at: path.child(keyword).index(index),
                counterpart: counterpart,
                counterpartPath: counterpartPath,
                allowIntOrStringAnyOf: false
            )
        }
    }

    /// Builds a value validation: a schema under `allOf`, `anyOf`, `oneOf` or `not`, which may only restrict values
    /// of fields the structural schema (`counterpart`) declares.
    mutating func nested(
        _ json: JSONValue,
        at path: FieldPath,
        counterpart: StructuralSchema?,
        counterpartPath: FieldPath,
        allowIntOrStringAnyOf: Bool
    ) -> StructuralSchema {
        guard let members = json.objectValue else {
            errors.append(.invalid(path.description, json, "must be a JSON schema object"))
            return StructuralSchema()
        }
        checkKeywords(members, at: path)
        for (keyword, detail) in Self.forbiddenInValueValidation {
            guard let value = members[keyword] else { continue }
            switch value {
            case .bool(false), .string(""), .array([]): continue
            default: errors.append(.forbidden(path.child(keyword).description, detail))
            }
        }

        var items: StructuralSchema?
        if let itemsJSON = members["items"] {
            if case .array = itemsJSON {
                errors.append(
                    .forbidden(path.child("items").description, "items must be a schema object and not an array")
                )
            } else {
                if let counterpart, counterpart.items == nil {
                    errors.append(
                        .required(
                            counterpartPath.child("items").description,
                            "because it is defined in \(path.child("items"))"
                        )
                    )
                }
                items = nested(
                    itemsJSON,
                    at: path.child("items"),
                    counterpart: counterpart?.items,
                    counterpartPath: counterpartPath.child("items"),
                    allowIntOrStringAnyOf: false
                )
            }
        }
        var properties: [(String, StructuralSchema)] = []
        for (name, propertyJSON) in objectMembers(members, "properties", at: path).sorted(by: { $0.key < $1.key }) {
            let propertyPath = path.child("properties").key(name)
            if name == "metadata" {
                errors.append(.forbidden(propertyPath.description, "must not be specified in a nested context"))
            }
            if let counterpart, counterpart.property(name) == nil {
                errors.append(
                    .required(
                        counterpartPath.child("properties").key(name).description,
                        "because it is defined in \(propertyPath)"
                    )
                )
            }
            let property = nested(
                propertyJSON,
                at: propertyPath,
                counterpart: counterpart?.property(name),
                counterpartPath: counterpartPath.child("properties").key(name),
                allowIntOrStringAnyOf: false
            )
            properties.append((name, property))
        }
        let checks = valueChecks(members, at: path, integerType: false)
        let junctions = junctions(
            members,
            at: path,
            counterpart: counterpart,
            counterpartPath: counterpartPath,
            intOrString: false,
            allowIntOrStringAnyOf: allowIntOrStringAnyOf
        )
        return StructuralSchema(
            properties: properties,
            required: checks.required,
            items: items,
            enumValues: checks.enumValues,
            minimum: checks.minimum,
            maximum: checks.maximum,
            minLength: checks.minLength,
            maxLength: checks.maxLength,
            minItems: checks.minItems,
            maxItems: checks.maxItems,
            maxProperties: checks.maxProperties,
            pattern: checks.pattern,
            format: checks.format,
            oneOf: junctions.oneOf,
            anyOf: junctions.anyOf
        )
    }

    /// The value checks a node states, as ``StructuralSchema`` holds them.
    struct ValueChecks {
        var enumValues: [JSONValue]?
        var minimum: Double?
        var maximum: Double?
        var minLength: Int?
        var maxLength: Int?
        var minItems: Int?
        var maxItems: Int?
        var maxProperties: Int?
        var pattern: String?
        var format: String?
        var required: [String] = []
    }

    /// Reads and checks the value-validation keywords of a node.
    ///
    /// An exclusive bound becomes the inclusive bound just past it: the next integer for an integer node, else the
    /// next representable `Double`, which admits exactly the same numbers.
    mutating func valueChecks(_ members: [String: JSONValue], at path: FieldPath, integerType: Bool) -> ValueChecks {
        var checks = ValueChecks()
        if let json = members["enum"] {
            if let values = json.arrayValue {
                checks.enumValues = values
            } else {
                errors.append(.invalid(path.child("enum").description, json, "must be an array"))
            }
        }
        if let minimum = number(members, "minimum", at: path) {
            let exclusive = flag(members, "exclusiveMinimum", at: path)
            checks.minimum =
                !exclusive ? minimum : integerType ? (minimum + 1).rounded(.down) : minimum.nextUp
        } else {
            _ = flag(members, "exclusiveMinimum", at: path)
        }
        if let maximum = number(members, "maximum", at: path) {
            let exclusive = flag(members, "exclusiveMaximum", at: path)
            checks.maximum =
                !exclusive ? maximum : integerType ? (maximum - 1).rounded(.up) : maximum.nextDown
        } else {
            _ = flag(members, "exclusiveMaximum", at: path)
        }
        _ = number(members, "multipleOf", at: path)
        checks.minLength = count(members, "minLength", at: path)
        checks.maxLength = count(members, "maxLength", at: path)
        checks.minItems = count(members, "minItems", at: path)
        checks.maxItems = count(members, "maxItems", at: path)
        checks.maxProperties = count(members, "maxProperties", at: path)
        _ = count(members, "minProperties", at: path)
        if flag(members, "uniqueItems", at: path) {
            errors.append(
                .forbidden(
                    path.child("uniqueItems").description,
                    "uniqueItems cannot be set to true since the runtime complexity becomes quadratic"
                )
            )
        }
        if let pattern = string(members, "pattern", at: path), !pattern.isEmpty {
            if (try? Regex(pattern)) == nil {
                errors.append(
                    .invalid(path.child("pattern").description, .string(pattern), "must be a valid regular expression")
                )
            } else {
                checks.pattern = pattern
            }
        }
        checks.format = string(members, "format", at: path).flatMap { $0.isEmpty ? nil : $0 }
        if let json = members["required"] {
            if let names = json.arrayValue?.compactMap(\.stringValue), names.count == json.arrayValue?.count {
                checks.required = names
            } else {
                errors.append(.invalid(path.child("required").description, json, "must be an array of strings"))
            }
        }
        return checks
    }

    // MARK: Keyword reading

    /// Reports keywords Kubernetes refuses and members that are no keyword at all, and checks the Kubernetes
    /// list and map extensions.
    mutating func checkKeywords(_ members: [String: JSONValue], at path: FieldPath) {
        for key in members.keys.sorted() where !Self.knownKeywords.contains(key) {
            errors.append(
                .forbidden(
                    path.child(key).description,
                    "unknown field \"\(key)\": not a JSON schema keyword Kubernetes knows"
                )
            )
        }
        for (keyword, detail) in Self.unsupportedKeywords where members[keyword] != nil {
            errors.append(.forbidden(path.child(keyword).description, detail))
        }
        if let listType = members["x-kubernetes-list-type"], !listType.isNull,
            !["atomic", "set", "map"].contains(listType)
        {
            errors.append(
                .notSupported(
                    path.child("x-kubernetes-list-type").description,
                    listType,
                    supported: ["atomic", "set", "map"]
                )
            )
        }
        if let mapType = members["x-kubernetes-map-type"], !mapType.isNull, !["atomic", "granular"].contains(mapType) {
            errors.append(
                .notSupported(
                    path.child("x-kubernetes-map-type").description,
                    mapType,
                    supported: ["atomic", "granular"]
                )
            )
        }
    }

    mutating func string(_ members: [String: JSONValue], _ key: String, at path: FieldPath) -> String? {
        guard let value = members[key], !value.isNull else { return nil }
        if let string = value.stringValue { return string }
        errors.append(.invalid(path.child(key).description, value, "must be a string"))
        return nil
    }

    mutating func flag(_ members: [String: JSONValue], _ key: String, at path: FieldPath) -> Bool {
        guard let value = members[key], !value.isNull else { return false }
        if let bool = value.boolValue { return bool }
        errors.append(.invalid(path.child(key).description, value, "must be a Boolean"))
        return false
    }

    mutating func number(_ members: [String: JSONValue], _ key: String, at path: FieldPath) -> Double? {
        guard let value = members[key], !value.isNull else { return nil }
        if let number = value.doubleValue { return number }
        errors.append(.invalid(path.child(key).description, value, "must be a number"))
        return nil
    }

    mutating func count(_ members: [String: JSONValue], _ key: String, at path: FieldPath) -> Int? {
        guard let value = members[key], !value.isNull else { return nil }
        if let count = value.intValue, count >= 0, let exact = Int(exactly: count) { return exact }
        errors.append(.invalid(path.child(key).description, value, "must be a non-negative integer"))
        return nil
    }

    mutating func objectMembers(
        _ members: [String: JSONValue],
        _ key: String,
        at path: FieldPath
    ) -> [String: JSONValue] {
        guard let value = members[key], !value.isNull else { return [:] }
        if let object = value.objectValue { return object }
        errors.append(.invalid(path.child(key).description, value, "must be an object of JSON schemas"))
        return [:]
    }
}
