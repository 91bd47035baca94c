import JSONValue

/// Schema defaulting of custom resources, as apiextensions-apiserver does it when it decodes one.
public enum CRDDefaulting {
    /// Applies `default:` values of the OpenAPI schema to `object` as apiextensions-apiserver does (absent fields
    /// under present parents; objects defaulted recursively; array items; additionalProperties).
    ///
    /// Two passes, in the server's order:
    /// 1. a `null` where the schema neither allows `null` (`nullable`) nor has a default is dropped, so it reads as
    ///    absent rather than failing validation;
    /// 2. every declared property that is absent, or `null` where not nullable, gets a copy of its `default` (a
    ///    property is defaulted only when its parent object is present, and a defaulted object is itself defaulted
    ///    further); array items and `additionalProperties` members that are `null` get their schema's default;
    ///    then every present member, item and map value is defaulted by its own schema.
    ///
    /// Defaults under `allOf`, `anyOf`, `oneOf` and `not` are not applied (a structural schema has none there). The
    /// schema is not checked here; build it with ``StructuralSchema/fromOpenAPIV3(_:at:)`` first, which refuses
    /// defaults that do not validate. Call this before validating, after pruning.
    ///
    /// - Parameters:
    ///   - openAPIV3: The CRD version's `schema.openAPIV3Schema`.
    ///   - object: The custom resource.
    /// - Returns: The resource with defaults applied.
    public static func apply(_ openAPIV3: JSONValue, to object: JSONValue) -> JSONValue {
        defaulted(droppingNonNullableNulls(object, schema: openAPIV3), schema: openAPIV3)
    }

    /// The value with every `null` removed whose schema is neither nullable nor has a default.
    static func droppingNonNullableNulls(_ value: JSONValue, schema: JSONValue?) -> JSONValue {
        switch value {
        case .object(var members):
            for (key, member) in members {
                let memberSchema = fieldSchema(key, in: schema)
                if isNonNullableNull(member, memberSchema), defaultValue(of: memberSchema) == nil {
                    members.removeValue(forKey: key)
                } else if member.objectValue != nil || member.arrayValue != nil {
                    members[key] = droppingNonNullableNulls(member, schema: memberSchema)
                }
            }
            return .object(members)
        case .array(let elements):
            let items = subschema(schema?["items"])
            return .array(elements.map { droppingNonNullableNulls($0, schema: items) })
        default:
            return value
        }
    }

    /// The value with the schema's defaults filled in.
    static func defaulted(_ value: JSONValue, schema: JSONValue?) -> JSONValue {
        guard let schema = subschema(schema) else { return value }
        switch value {
        case .object(var members):
            let properties = schema["properties"]?.objectValue ?? [:]
            for (key, property) in properties {
                guard let defaultValue = defaultValue(of: property) else { continue }
                if let member = members[key], !isNonNullableNull(member, property) { continue }
                members[key] = defaultValue
            }
            let additional = subschema(schema["additionalProperties"])
            for (key, member) in members {
                if let property = properties[key] {
                    members[key] = defaulted(member, schema: property)
                } else if let additional {
                    var member = member
                    if isNonNullableNull(member, additional), let defaultValue = defaultValue(of: additional) {
                        member = defaultValue
                    }
                    members[key] = defaulted(member, schema: additional)
                }
            }
            return .object(members)
        case .array(let elements):
            guard let items = subschema(schema["items"]) else { return value }
            return .array(
                elements.map { element in
                    if isNonNullableNull(element, items), let defaultValue = defaultValue(of: items) {
                        return defaulted(defaultValue, schema: items)
                    }
                    return defaulted(element, schema: items)
                }
            )
        default:
            return value
        }
    }

    /// The schema of an object's member: its declared property, else `additionalProperties` when that is a schema.
    static func fieldSchema(_ key: String, in schema: JSONValue?) -> JSONValue? {
        guard let schema = subschema(schema) else { return nil }
        if let property = subschema(schema["properties"]?[key]) { return property }
        return subschema(schema["additionalProperties"])
    }

    /// `json` when it is a schema object, else `nil` (absent, or `additionalProperties: true`).
    static func subschema(_ json: JSONValue?) -> JSONValue? {
        guard let json, json.objectValue != nil else { return nil }
        return json
    }

    /// The schema's default, if it has one (`default: null` counts as none, as in apiextensions).
    static func defaultValue(of schema: JSONValue?) -> JSONValue? {
        guard let value = schema?["default"], !value.isNull else { return nil }
        return value
    }

    /// Whether the value is `null` where a schema is given that does not allow `null`.
    static func isNonNullableNull(_ value: JSONValue, _ schema: JSONValue?) -> Bool {
        guard value.isNull, let schema = subschema(schema) else { return false }
        return schema["nullable"]?.boolValue != true
    }
}
