import DevCluster
import JSONValue
import KubeModels
import Testing

/// A schema `fromOpenAPIV3` must refuse, and exactly the errors it must give.
struct BadSchemaCase: CustomTestStringConvertible, Sendable {
    var name: String
    var schema: String
    var errors: [String]

    var testDescription: String { name }

    init(_ name: String, _ schema: String, _ errors: [String]) {
        self.name = name
        self.schema = schema
        self.errors = errors
    }
}

let spec = "\(schemaPath).properties[spec]"

@Suite("fromOpenAPIV3: schemas apiextensions refuses")
struct CRDSchemaErrorTests {
    static let cases: [BadSchemaCase] = [
        BadSchemaCase(
            "unknown type name",
            #"{"type": "object", "properties": {"spec": {"type": "strin"}}}"#,
            [
                #"\#(spec).type: Unsupported value: "strin": supported values: "array", "boolean", "integer", "number", "object", "string""#
            ]
        ),
        BadSchemaCase(
            "type null",
            #"{"type": "object", "properties": {"spec": {"type": "null"}}}"#,
            ["\(spec).type: Forbidden: type cannot be set to null, use nullable as an alternative"]
        ),
        BadSchemaCase(
            "missing type on a property",
            #"{"type": "object", "properties": {"spec": {"properties": {"a": {"type": "string"}}}}}"#,
            ["\(spec).type: Required value: must not be empty for specified object fields"]
        ),
        BadSchemaCase(
            "missing type at the root",
            #"{"properties": {"spec": {"type": "object"}}}"#,
            ["\(schemaPath).type: Required value: must not be empty at the root"]
        ),
        BadSchemaCase(
            "missing type on array items",
            #"{"type": "object", "properties": {"spec": {"type": "array", "items": {"minLength": 1}}}}"#,
            ["\(spec).items.type: Required value: must not be empty for specified array items"]
        ),
        BadSchemaCase(
            "missing type on additionalProperties",
            #"{"type": "object", "properties": {"spec": {"type": "object", "additionalProperties": {}}}}"#,
            ["\(spec).additionalProperties.type: Required value: must not be empty for specified object fields"]
        ),
        BadSchemaCase(
            "array without items",
            #"{"type": "object", "properties": {"spec": {"type": "array"}}}"#,
            ["\(spec).items: Required value: must be specified"]
        ),
        BadSchemaCase(
            "items as an array of schemas",
            #"{"type": "object", "properties": {"spec": {"type": "array", "items": [{"type": "string"}]}}}"#,
            ["\(spec).items: Forbidden: items must be a schema object and not an array"]
        ),
        BadSchemaCase(
            "root not an object",
            #"{"type": "string"}"#,
            [#"\#(schemaPath).type: Invalid value: "string": must be object at the root"#]
        ),
        BadSchemaCase(
            "$ref",
            ##"{"type": "object", "properties": {"spec": {"type": "object", "$ref": "#/definitions/Spec"}}}"##,
            ["\(spec).$ref: Forbidden: $ref is not supported"]
        ),
        BadSchemaCase(
            "definitions",
            #"{"type": "object", "definitions": {"a": {"type": "string"}}}"#,
            ["\(schemaPath).definitions: Forbidden: definitions is not supported"]
        ),
        BadSchemaCase(
            "patternProperties",
            #"{"type": "object", "properties": {"spec": {"type": "object", "patternProperties": {"^a": {"type": "string"}}}}}"#,
            ["\(spec).patternProperties: Forbidden: patternProperties is not supported"]
        ),
        BadSchemaCase(
            "uniqueItems",
            #"{"type": "object", "properties": {"spec": {"type": "array", "uniqueItems": true, "items": {"type": "string"}}}}"#,
            [
                "\(spec).uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic"
            ]
        ),
        BadSchemaCase(
            "additionalProperties beside properties",
            #"{"type": "object", "properties": {"spec": {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "string"}}}}"#,
            ["\(spec).additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive"]
        ),
        BadSchemaCase(
            "additionalProperties false beside properties",
            #"{"type": "object", "properties": {"spec": {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": false}}}"#,
            ["\(spec).additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive"]
        ),
        BadSchemaCase(
            "additionalProperties at the root",
            #"{"type": "object", "additionalProperties": {"type": "string"}}"#,
            ["\(schemaPath).additionalProperties: Forbidden: must not be used at the root"]
        ),
        BadSchemaCase(
            "preserve-unknown-fields false",
            #"{"type": "object", "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": false}}}"#,
            ["\(spec).x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined"]
        ),
        BadSchemaCase(
            "int-or-string with preserve-unknown-fields",
            #"{"type": "object", "properties": {"spec": {"x-kubernetes-int-or-string": true, "x-kubernetes-preserve-unknown-fields": true}}}"#,
            [
                "\(spec).x-kubernetes-preserve-unknown-fields: Invalid value: true: must be false if x-kubernetes-int-or-string is true"
            ]
        ),
        BadSchemaCase(
            "embedded resource without type",
            #"{"type": "object", "properties": {"spec": {"x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true}}}"#,
            ["\(spec).type: Required value: must be object if x-kubernetes-embedded-resource is true"]
        ),
        BadSchemaCase(
            "embedded resource without properties or preserve-unknown-fields",
            #"{"type": "object", "properties": {"spec": {"type": "object", "x-kubernetes-embedded-resource": true}}}"#,
            [
                "\(spec).properties: Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields"
            ]
        ),
        BadSchemaCase(
            "type inside oneOf",
            #"{"type": "object", "properties": {"spec": {"type": "object", "oneOf": [{"type": "object"}]}}}"#,
            ["\(spec).oneOf[0].type: Forbidden: must be empty to be structural"]
        ),
        BadSchemaCase(
            "description and default inside anyOf",
            #"{"type": "object", "properties": {"spec": {"type": "string", "anyOf": [{"description": "d", "default": "x"}]}}}"#,
            [
                "\(spec).anyOf[0].default: Forbidden: must be undefined to be structural",
                "\(spec).anyOf[0].description: Forbidden: must be empty to be structural",
            ]
        ),
        BadSchemaCase(
            "a field defined only inside a value validation",
            #"{"type": "object", "properties": {"spec": {"type": "object", "properties": {"a": {"type": "string"}}, "oneOf": [{"properties": {"b": {"minLength": 1}}}]}}}"#,
            ["\(spec).properties[b]: Required value: because it is defined in \(spec).oneOf[0].properties[b]"]
        ),
        BadSchemaCase(
            "items defined only inside a value validation",
            #"{"type": "object", "properties": {"spec": {"type": "object", "allOf": [{"items": {"minLength": 1}}]}}}"#,
            ["\(spec).items: Required value: because it is defined in \(spec).allOf[0].items"]
        ),
        BadSchemaCase(
            "metadata inside a value validation",
            #"{"type": "object", "properties": {"metadata": {"type": "object"}}, "anyOf": [{"properties": {"metadata": {"required": ["name"]}}}]}"#,
            ["\(schemaPath).anyOf[0].properties[metadata]: Forbidden: must not be specified in a nested context"]
        ),
        BadSchemaCase(
            "root metadata declaring more than name and generateName",
            #"{"type": "object", "properties": {"metadata": {"type": "object", "properties": {"labels": {"type": "object"}}}}}"#,
            [
                "\(schemaPath).properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified"
            ]
        ),
        BadSchemaCase(
            "root kind that is not a string",
            #"{"type": "object", "properties": {"kind": {"type": "integer"}, "metadata": {"type": "array", "items": {"type": "string"}}}}"#,
            [
                #"\#(schemaPath).properties[kind].type: Invalid value: "integer": must be string"#,
                #"\#(schemaPath).properties[metadata].type: Invalid value: "array": must be object"#,
                "\(schemaPath).properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified",
            ]
        ),
        BadSchemaCase(
            "default of the wrong type",
            #"{"type": "object", "properties": {"spec": {"type": "object", "properties": {"replicas": {"type": "integer", "default": "three"}}}}}"#,
            [#"\#(spec).properties[replicas].default: Invalid value: "three": must be of type integer"#]
        ),
        BadSchemaCase(
            "default breaking a constraint",
            #"{"type": "object", "properties": {"spec": {"type": "object", "properties": {"mode": {"type": "string", "enum": ["a", "b"], "default": "c"}}}}}"#,
            [#"\#(spec).properties[mode].default: Unsupported value: "c": supported values: "a", "b""#]
        ),
        BadSchemaCase(
            "default with unknown fields",
            #"{"type": "object", "properties": {"spec": {"type": "object", "default": {"a": "x", "b": 1}, "properties": {"a": {"type": "string"}}}}}"#,
            [#"\#(spec).default: Invalid value: {"a":"x","b":1}: must not have unknown fields"#]
        ),
        BadSchemaCase(
            "default in top-level metadata",
            #"{"type": "object", "properties": {"metadata": {"type": "object", "properties": {"name": {"type": "string", "default": "n"}}}}}"#,
            [
                "\(schemaPath).properties[metadata].properties[name].default: Forbidden: must not be set in top-level metadata"
            ]
        ),
        BadSchemaCase(
            "unknown keyword",
            #"{"type": "object", "properties": {"spec": {"type": "object", "requried": ["a"]}}}"#,
            [
                #"\#(spec).requried: Forbidden: unknown field "requried": not a JSON schema keyword Kubernetes knows"#
            ]
        ),
        BadSchemaCase(
            "pattern that does not compile",
            #"{"type": "object", "properties": {"spec": {"type": "string", "pattern": "[a-"}}}"#,
            [#"\#(spec).pattern: Invalid value: "[a-": must be a valid regular expression"#]
        ),
        BadSchemaCase(
            "keywords of the wrong JSON type",
            #"{"type": "object", "properties": {"spec": {"type": "string", "minLength": -1, "maxLength": "5", "nullable": "yes", "required": "a", "enum": "a"}}}"#,
            [
                #"\#(spec).enum: Invalid value: "a": must be an array"#,
                "\(spec).minLength: Invalid value: -1: must be a non-negative integer",
                #"\#(spec).maxLength: Invalid value: "5": must be a non-negative integer"#,
                #"\#(spec).nullable: Invalid value: "yes": must be a Boolean"#,
                #"\#(spec).required: Invalid value: "a": must be an array of strings"#,
            ]
        ),
        BadSchemaCase(
            "a schema that is not an object",
            #"{"type": "object", "properties": {"spec": "string"}}"#,
            [#"\#(spec): Invalid value: "string": must be a JSON schema object"#]
        ),
        BadSchemaCase(
            "unsupported list type",
            #"{"type": "object", "properties": {"spec": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "bag"}}}"#,
            [#"\#(spec).x-kubernetes-list-type: Unsupported value: "bag": supported values: "atomic", "set", "map""#]
        ),
    ]

    @Test(arguments: cases)
    func refused(_ testCase: BadSchemaCase) throws {
        let error = try #require(refusal(try json(testCase.schema)))
        #expect(Set(error.fieldErrors.map(\.description)) == Set(testCase.errors))
        #expect(error.fieldErrors.count == testCase.errors.count)
        #expect(error.message == error.fieldErrors.aggregateDescription)
        #expect(error.description == error.message)
    }

    @Test("one problem is the message alone; several are aggregated as [a, b]")
    func aggregation() throws {
        let one = try #require(refusal(try rootSchema(spec: #"{"type": "strin"}"#)))
        #expect(one.message.hasPrefix("\(spec).type: Unsupported value: \"strin\""))
        let two = try #require(
            refusal(try json(#"{"type": "object", "properties": {"a": {}, "b": {"type": "array"}}}"#))
        )
        #expect(
            two.message
                == "[\(schemaPath).properties[a].type: Required value: must not be empty for specified object fields, "
                + "\(schemaPath).properties[b].items: Required value: must be specified]"
        )
    }

    @Test("errors are placed under the path given")
    func customPath() throws {
        let path = FieldPath("spec.versions[2].schema.openAPIV3Schema")
        #expect(
            throws: CRDSchemaError([
                .required("spec.versions[2].schema.openAPIV3Schema.type", "must not be empty at the root")
            ])
        ) {
            try StructuralSchema.fromOpenAPIV3(try json("{}"), at: path)
        }
    }

    @Test(
        "schemas apiextensions accepts are accepted",
        arguments: [
            #"{"type": "object", "x-kubernetes-preserve-unknown-fields": true}"#,
            #"{"type": "object", "properties": {"metadata": {"type": "object", "properties": {"name": {"type": "string", "pattern": "^[a-z]+$"}, "generateName": {"type": "string"}}}}}"#,
            #"{"type": "object", "properties": {"spec": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]}}}"#,
            #"{"type": "object", "properties": {"spec": {"x-kubernetes-int-or-string": true, "allOf": [{"anyOf": [{"type": "integer"}, {"type": "string"}]}, {"not": {"enum": [0]}}]}}}"#,
            #"{"type": "object", "properties": {"spec": {"type": "object", "additionalProperties": true}}}"#,
            #"{"type": "object", "properties": {"spec": {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": true}}}"#,
            #"{"type": "object", "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "x-kubernetes-embedded-resource": true}}}"#,
            #"{"type": "object", "properties": {"spec": {"type": "object", "default": {"a": "x"}, "properties": {"a": {"type": "string", "default": "y"}}}}}"#,
            #"{"type": "object", "properties": {"spec": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"], "items": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}}}}"#,
            #"{"type": "object", "$schema": "http://json-schema.org/draft-04/schema#", "title": "T", "example": {}, "externalDocs": {"url": "u"}, "x-kubernetes-validations": [{"rule": "true"}]}"#,
        ]
    )
    func accepted(_ text: String) throws {
        _ = try StructuralSchema.fromOpenAPIV3(try json(text))
    }
}
