import DevCluster
import JSONValue
import KubeModels
import Testing

/// One keyword check: the schema of `spec.x`, a value for it, and the errors validation must report.
struct KeywordCase: CustomTestStringConvertible, Sendable {
    var name: String
    var schema: String
    var value: String
    var errors: [String]

    var testDescription: String { name }

    init(_ name: String, _ schema: String, _ value: String, _ errors: [String] = []) {
        self.name = name
        self.schema = schema
        self.value = value
        self.errors = errors
    }
}

@Suite("fromOpenAPIV3: each keyword validates")
struct CRDSchemaKeywordTests {
    static let cases: [KeywordCase] = [
        // type
        KeywordCase("string accepts a string", #"{"type": "string"}"#, #""a""#),
        KeywordCase(
            "string refuses a number",
            #"{"type": "string"}"#,
            "5",
            ["spec.x: Invalid value: 5: must be of type string"]
        ),
        KeywordCase(
            "string refuses an object",
            #"{"type": "string"}"#,
            "{}",
            [#"spec.x: Invalid value: "object": must be of type string"#]
        ),
        KeywordCase("integer accepts 3", #"{"type": "integer"}"#, "3"),
        KeywordCase("integer accepts 3.0", #"{"type": "integer"}"#, "3.0"),
        KeywordCase(
            "integer refuses 1.5",
            #"{"type": "integer"}"#,
            "1.5",
            ["spec.x: Invalid value: 1.5: must be of type integer"]
        ),
        KeywordCase("number accepts 1.5", #"{"type": "number"}"#, "1.5"),
        KeywordCase(
            "number refuses a string",
            #"{"type": "number"}"#,
            #""1""#,
            [#"spec.x: Invalid value: "1": must be of type number"#]
        ),
        KeywordCase("boolean accepts true", #"{"type": "boolean"}"#, "true"),
        KeywordCase(
            "boolean refuses \"true\"",
            #"{"type": "boolean"}"#,
            #""true""#,
            [#"spec.x: Invalid value: "true": must be of type boolean"#]
        ),
        KeywordCase(
            "array refuses an object",
            #"{"type": "array", "items": {"type": "string"}}"#,
            "{}",
            [#"spec.x: Invalid value: "object": must be of type array"#]
        ),
        KeywordCase(
            "object refuses an array",
            #"{"type": "object"}"#,
            "[]",
            [#"spec.x: Invalid value: "array": must be of type object"#]
        ),
        // properties, required, items
        KeywordCase(
            "properties validate their members",
            #"{"type": "object", "properties": {"a": {"type": "integer"}}}"#,
            #"{"a": "one"}"#,
            [#"spec.x.a: Invalid value: "one": must be of type integer"#]
        ),
        KeywordCase(
            "required reports a missing member",
            #"{"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}}}"#,
            "{}",
            ["spec.x.a: Required value"]
        ),
        KeywordCase(
            "items validate each element",
            #"{"type": "array", "items": {"type": "integer"}}"#,
            #"[1, "a", 3]"#,
            [#"spec.x[1]: Invalid value: "a": must be of type integer"#]
        ),
        // additionalProperties
        KeywordCase(
            "additionalProperties schema validates map values",
            #"{"type": "object", "additionalProperties": {"type": "integer"}}"#,
            #"{"a": 1, "b": "x"}"#,
            [#"spec.x[b]: Invalid value: "x": must be of type integer"#]
        ),
        KeywordCase(
            "additionalProperties true lets anything through",
            #"{"type": "object", "additionalProperties": true}"#,
            #"{"a": 1, "b": {"c": [null]}}"#
        ),
        // enum
        KeywordCase("enum accepts a listed value", #"{"type": "string", "enum": ["a", "b"]}"#, #""b""#),
        KeywordCase(
            "enum refuses an unlisted value",
            #"{"type": "string", "enum": ["a", "b"]}"#,
            #""c""#,
            [#"spec.x: Unsupported value: "c": supported values: "a", "b""#]
        ),
        // numbers
        KeywordCase("minimum is inclusive", #"{"type": "integer", "minimum": 1}"#, "1"),
        KeywordCase(
            "minimum refuses less",
            #"{"type": "integer", "minimum": 1}"#,
            "0",
            ["spec.x: Invalid value: 0: must be greater than or equal to 1"]
        ),
        KeywordCase("maximum is inclusive", #"{"type": "integer", "maximum": 10}"#, "10"),
        KeywordCase(
            "maximum refuses more",
            #"{"type": "integer", "maximum": 10}"#,
            "11",
            ["spec.x: Invalid value: 11: must be less than or equal to 10"]
        ),
        KeywordCase(
            "exclusiveMinimum refuses the bound (integer)",
            #"{"type": "integer", "minimum": 1, "exclusiveMinimum": true}"#,
            "1",
            ["spec.x: Invalid value: 1: must be greater than or equal to 2"]
        ),
        KeywordCase(
            "exclusiveMinimum accepts just past the bound (integer)",
            #"{"type": "integer", "minimum": 1, "exclusiveMinimum": true}"#,
            "2"
        ),
        KeywordCase(
            "exclusiveMaximum refuses the bound (integer)",
            #"{"type": "integer", "maximum": 10, "exclusiveMaximum": true}"#,
            "10",
            ["spec.x: Invalid value: 10: must be less than or equal to 9"]
        ),
        KeywordCase(
            "exclusiveMaximum accepts just below the bound (number)",
            #"{"type": "number", "maximum": 1.5, "exclusiveMaximum": true}"#,
            "1.4999"
        ),
        KeywordCase(
            "exclusiveMinimum refuses the bound (number)",
            #"{"type": "number", "minimum": 0.5, "exclusiveMinimum": true}"#,
            "0.5",
            ["spec.x: Invalid value: 0.5: must be greater than or equal to 0.5000000000000001"]
        ),
        // lengths and counts
        KeywordCase(
            "minLength",
            #"{"type": "string", "minLength": 2}"#,
            #""a""#,
            [#"spec.x: Invalid value: "a": must be at least 2 characters long"#]
        ),
        KeywordCase(
            "maxLength",
            #"{"type": "string", "maxLength": 3}"#,
            #""abcd""#,
            ["spec.x: Too long: may not be more than 3 bytes"]
        ),
        KeywordCase(
            "minItems",
            #"{"type": "array", "minItems": 1, "items": {"type": "string"}}"#,
            "[]",
            ["spec.x: Invalid value: 0: must have at least 1 items"]
        ),
        KeywordCase(
            "maxItems",
            #"{"type": "array", "maxItems": 1, "items": {"type": "string"}}"#,
            #"["a", "b"]"#,
            ["spec.x: Too many: 2: must have at most 1 items"]
        ),
        KeywordCase(
            "maxProperties",
            #"{"type": "object", "maxProperties": 1, "properties": {"a": {"type": "string"}, "b": {"type": "string"}}}"#,
            #"{"a": "1", "b": "2"}"#,
            [#"spec.x: Forbidden: may have at most 1 of "a", "b""#]
        ),
        // pattern, format
        KeywordCase("pattern accepts a match", #"{"type": "string", "pattern": "^[a-z]+$"}"#, #""abc""#),
        KeywordCase(
            "pattern refuses a mismatch",
            #"{"type": "string", "pattern": "^[a-z]+$"}"#,
            #""A1""#,
            [#"spec.x: Invalid value: "A1": must match the pattern '^[a-z]+$'"#]
        ),
        KeywordCase("format is kept but not checked", #"{"type": "string", "format": "date-time"}"#, #""never""#),
        // nullable
        KeywordCase("nullable accepts null", #"{"type": "string", "nullable": true}"#, "null"),
        KeywordCase(
            "not nullable refuses null",
            #"{"type": "string"}"#,
            "null",
            ["spec.x: Invalid value: null: must be of type string"]
        ),
        // oneOf, anyOf, allOf, not
        KeywordCase(
            "oneOf accepts exactly one match",
            #"{"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "oneOf": [{"required": ["a"]}, {"required": ["b"]}]}"#,
            #"{"a": 1}"#
        ),
        KeywordCase(
            "oneOf refuses two matches",
            #"{"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "oneOf": [{"required": ["a"]}, {"required": ["b"]}]}"#,
            #"{"a": 1, "b": 2}"#,
            [#"spec.x: Invalid value: {"a":1,"b":2}: must match exactly one of 2 schemas"#]
        ),
        KeywordCase(
            "oneOf refuses no match",
            #"{"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "oneOf": [{"required": ["a"]}, {"required": ["b"]}]}"#,
            "{}",
            ["spec.x: Invalid value: {}: must match exactly one of 2 schemas"]
        ),
        KeywordCase(
            "oneOf reaches into declared properties",
            #"{"type": "object", "properties": {"a": {"type": "integer"}}, "oneOf": [{"properties": {"a": {"minimum": 5}}}]}"#,
            #"{"a": 1}"#,
            [#"spec.x: Invalid value: {"a":1}: must match exactly one of 1 schemas"#]
        ),
        KeywordCase(
            "anyOf accepts one match of several",
            #"{"type": "integer", "anyOf": [{"minimum": 10}, {"maximum": 0}]}"#,
            "-1"
        ),
        KeywordCase(
            "anyOf refuses no match",
            #"{"type": "integer", "anyOf": [{"minimum": 10}, {"maximum": 0}]}"#,
            "5",
            ["spec.x: Invalid value: 5: must match at least one of the allowed schemas"]
        ),
        KeywordCase(
            "allOf accepts a value matching all",
            #"{"type": "integer", "allOf": [{"minimum": 0}, {"maximum": 10}]}"#,
            "5"
        ),
        KeywordCase(
            "allOf refuses a value failing the second",
            #"{"type": "integer", "allOf": [{"minimum": 0}, {"maximum": 10}]}"#,
            "11",
            ["spec.x: Invalid value: 11: must match at least one of the allowed schemas"]
        ),
        KeywordCase(
            "allOf refuses a value failing the first",
            #"{"type": "integer", "allOf": [{"minimum": 0}, {"maximum": 10}]}"#,
            "-1",
            ["spec.x: Invalid value: -1: must match at least one of the allowed schemas"]
        ),
        KeywordCase("not accepts a non-match", #"{"type": "string", "not": {"enum": ["no"]}}"#, #""yes""#),
        KeywordCase(
            "not refuses a match",
            #"{"type": "string", "not": {"enum": ["no"]}}"#,
            #""no""#,
            [#"spec.x: Invalid value: "no": must match at least one of the allowed schemas"#]
        ),
        // x-kubernetes-int-or-string
        KeywordCase("int-or-string accepts an integer", #"{"x-kubernetes-int-or-string": true}"#, "5"),
        KeywordCase("int-or-string accepts a string", #"{"x-kubernetes-int-or-string": true}"#, #""25%""#),
        KeywordCase(
            "int-or-string refuses a fraction",
            #"{"x-kubernetes-int-or-string": true}"#,
            "1.5",
            ["spec.x: Invalid value: 1.5: must be an integer or a string"]
        ),
        KeywordCase(
            "int-or-string with its anyOf refuses a Boolean",
            #"{"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]}"#,
            "true",
            ["spec.x: Invalid value: true: must be an integer or a string"]
        ),
        KeywordCase(
            "int-or-string with allOf keeps checking it",
            #"{"x-kubernetes-int-or-string": true, "allOf": [{"anyOf": [{"type": "integer"}, {"type": "string"}]}, {"not": {"enum": [0]}}]}"#,
            "0",
            ["spec.x: Invalid value: 0: must match exactly one of 1 schemas"]
        ),
        // x-kubernetes-preserve-unknown-fields, x-kubernetes-embedded-resource
        KeywordCase(
            "preserve-unknown-fields keeps unknown members without a report",
            #"{"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {"a": {"type": "string"}}}"#,
            #"{"a": "x", "b": {"c": 1}}"#
        ),
        KeywordCase(
            "preserve-unknown-fields still checks declared members",
            #"{"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {"a": {"type": "string"}}}"#,
            #"{"a": 1}"#,
            ["spec.x.a: Invalid value: 1: must be of type string"]
        ),
        KeywordCase(
            "embedded resource accepts a whole object",
            #"{"type": "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true}"#,
            #"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "labels": {"x": "y"}}, "data": {"k": "v"}}"#
        ),
        KeywordCase(
            "embedded resource requires apiVersion and kind",
            #"{"type": "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true}"#,
            #"{"data": {}}"#,
            ["spec.x.apiVersion: Required value", "spec.x.kind: Required value"]
        ),
        KeywordCase(
            "embedded resource refuses a non-string kind",
            #"{"type": "object", "x-kubernetes-embedded-resource": true, "properties": {"spec": {"type": "object"}}}"#,
            #"{"apiVersion": "v1", "kind": 3}"#,
            ["spec.x.kind: Invalid value: 3: must be of type string"]
        ),
    ]

    @Test(arguments: cases)
    func keyword(_ testCase: KeywordCase) throws {
        let schema = try StructuralSchema.fromOpenAPIV3(try rootSchema(x: testCase.schema))
        let value = try json(testCase.value)
        let object: JSONValue = ["spec": ["x": value]]
        let findings = schema.validate(object, at: FieldPath(""))
        #expect(findings.errors.map(\.description) == testCase.errors)
        #expect(findings.unknownFields.isEmpty)
    }

    @Test("an object reports members it does not declare, and pruning drops them")
    func unknownMembers() throws {
        let schema = try StructuralSchema.fromOpenAPIV3(
            try rootSchema(x: #"{"type": "object", "properties": {"a": {"type": "string"}}}"#)
        )
        let object = try json(#"{"spec": {"x": {"a": "1", "b": 2}, "y": true}}"#)
        let findings = schema.validate(object, at: FieldPath(""))
        #expect(findings.errors.isEmpty)
        #expect(findings.unknownFields == ["spec.x.b", "spec.y"])
        let pruned = try json(#"{"spec": {"x": {"a": "1"}}}"#)
        #expect(schema.pruned(object) == pruned)
    }

    @Test("preserve-unknown-fields, additionalProperties true and embedded resources keep what pruning would drop")
    func keptByPruning() throws {
        let schema = try StructuralSchema.fromOpenAPIV3(
            try rootSchema(
                spec: #"""
                    {"type": "object", "properties": {
                      "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                      "any": {"type": "object", "additionalProperties": true},
                      "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                                   "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}
                    }}
                    """#
            )
        )
        let object = try json(
            #"""
            {"spec": {"free": {"a": {"b": 1}}, "any": {"k": [1, {"z": 2}]},
                      "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "uid": "u"},
                                   "spec": {"containers": []}, "status": {}}}}
            """#
        )
        var expected = object
        expected["spec"]?["template"]?["status"] = nil
        #expect(schema.pruned(object) == expected)
        #expect(schema.validate(object, at: FieldPath("")).unknownFields == ["spec.template.status"])
    }

    @Test("the schema keeps description, format, nullable and int-or-string for rendering")
    func keptForRendering() throws {
        let schema = try StructuralSchema.fromOpenAPIV3(
            try rootSchema(
                spec: #"""
                    {"type": "object", "description": "The spec.", "properties": {
                      "when": {"type": "string", "format": "date-time", "nullable": true},
                      "surge": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]}
                    }}
                    """#
            )
        )
        let spec = try #require(schema.property("spec"))
        #expect(spec.description == "The spec.")
        #expect(spec.property("when")?.format == "date-time")
        #expect(spec.property("when")?.nullable == true)
        #expect(spec.property("surge")?.intOrString == true)
        #expect(spec.property("surge")?.json == ["x-kubernetes-int-or-string": true])
    }

    @Test("the root always has apiVersion and kind as strings and ObjectMeta as metadata")
    func rootTypeMeta() throws {
        for text in [
            #"{"type": "object", "properties": {"spec": {"type": "object"}}}"#,
            #"{"type": "object", "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"}}}"#,
            #"{"type": "object", "x-kubernetes-preserve-unknown-fields": true}"#,
        ] {
            let schema = try StructuralSchema.fromOpenAPIV3(try json(text))
            #expect(schema.property("apiVersion")?.type == .string)
            #expect(schema.property("kind")?.type == .string)
            #expect(schema.property("metadata")?.isObjectMeta == true)
            let object = try json(
                #"{"apiVersion": "a/v1", "kind": "K", "metadata": {"name": "n", "labels": {"a": "b"}, "finalizers": ["f"]}}"#
            )
            let findings = schema.validate(object, at: FieldPath(""))
            #expect(findings.errors.isEmpty)
            #expect(findings.unknownFields.isEmpty)
            #expect(schema.pruned(object) == object)
            let wrong = schema.validate(try json(#"{"apiVersion": 1, "kind": true}"#), at: FieldPath(""))
            #expect(wrong.errors.map(\.field) == ["apiVersion", "kind"])
        }
    }

    @Test("a root metadata restricting name keeps the restriction and stays ObjectMeta")
    func metadataNameRestriction() throws {
        let schema = try StructuralSchema.fromOpenAPIV3(
            try json(
                #"{"type": "object", "properties": {"metadata": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 5}}}}}"#
            )
        )
        let metadata = try #require(schema.property("metadata"))
        #expect(metadata.isObjectMeta)
        let findings = schema.validate(
            try json(#"{"metadata": {"name": "toolong", "namespace": "a"}}"#),
            at: FieldPath("")
        )
        #expect(findings.errors.map(\.description) == ["metadata.name: Too long: may not be more than 5 bytes"])
        #expect(findings.unknownFields.isEmpty)
    }

    @Test("properties come out sorted by name, and the rendered schema builds the same schema again")
    func renderRoundTrip() throws {
        let schema = try StructuralSchema.fromOpenAPIV3(
            try rootSchema(
                spec:
                    #"{"type": "object", "required": ["b"], "properties": {"b": {"type": "integer", "minimum": 0}, "a": {"type": "array", "items": {"type": "string", "enum": ["x"]}}}}"#
            )
        )
        #expect(schema.property("spec")?.propertyOrder == ["a", "b"])
        let again = try StructuralSchema.fromOpenAPIV3(schema.json)
        #expect(again.json == schema.json)
    }
}
