import DevCluster
import JSONValue
import KubeModels
import Testing

/// One defaulting case: a schema, an object, and the object once defaulted.
struct DefaultingCase: CustomTestStringConvertible, Sendable {
    var name: String
    var schema: String
    var object: String
    var expected: String

    var testDescription: String { name }

    init(_ name: String, schema: String, _ object: String, _ expected: String) {
        self.name = name
        self.schema = schema
        self.object = object
        self.expected = expected
    }
}

@Suite("CRDDefaulting.apply")
struct CRDDefaultingTests {
    static let replicas = #"""
        {"type": "object", "properties": {"spec": {"type": "object", "properties": {
          "replicas": {"type": "integer", "default": 1},
          "paused": {"type": "boolean"}
        }}}}
        """#

    static let nested = #"""
        {"type": "object", "properties": {"spec": {"type": "object", "default": {}, "properties": {
          "replicas": {"type": "integer", "default": 1},
          "strategy": {"type": "object", "properties": {"type": {"type": "string", "default": "Rolling"}}},
          "service": {"type": "object", "default": {"port": 80}, "properties": {
            "port": {"type": "integer"},
            "protocol": {"type": "string", "default": "TCP"}
          }}
        }}}}
        """#

    static let nulls = #"""
        {"type": "object", "properties": {"spec": {"type": "object", "properties": {
          "withDefault": {"type": "string", "default": "d"},
          "nullable": {"type": "string", "nullable": true, "default": "d"},
          "plain": {"type": "string"},
          "plainNullable": {"type": "string", "nullable": true},
          "list": {"type": "array", "items": {"type": "string"}},
          "map": {"type": "object", "additionalProperties": {"type": "string"}}
        }}}}
        """#

    static let collections = #"""
        {"type": "object", "properties": {"spec": {"type": "object", "properties": {
          "ports": {"type": "array", "items": {"type": "object", "default": {"port": 443},
            "properties": {"port": {"type": "integer"}, "protocol": {"type": "string", "default": "TCP"}}}},
          "routes": {"type": "object", "additionalProperties": {"type": "object", "default": {"weight": 0},
            "properties": {"weight": {"type": "integer", "default": 100}, "timeout": {"type": "string", "default": "30s"}}}},
          "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {
            "level": {"type": "string", "default": "info"}}},
          "surge": {"x-kubernetes-int-or-string": true, "default": "25%"}
        }}}}
        """#

    static let cases: [DefaultingCase] = [
        DefaultingCase(
            "an absent field under a present parent is defaulted",
            schema: replicas,
            #"{"spec": {}}"#,
            #"{"spec": {"replicas": 1}}"#
        ),
        DefaultingCase(
            "a present value is kept",
            schema: replicas,
            #"{"spec": {"replicas": 3, "paused": false}}"#,
            #"{"spec": {"replicas": 3, "paused": false}}"#
        ),
        DefaultingCase(
            "an absent parent without a default stays absent",
            schema: replicas,
            #"{"metadata": {"name": "a"}}"#,
            #"{"metadata": {"name": "a"}}"#
        ),
        DefaultingCase(
            "unknown members are left alone",
            schema: replicas,
            #"{"spec": {"other": {"replicas": null}}, "extra": 1}"#,
            #"{"spec": {"other": {"replicas": null}, "replicas": 1}, "extra": 1}"#
        ),
        DefaultingCase(
            "an absent parent with a default is created and defaulted recursively",
            schema: nested,
            "{}",
            #"{"spec": {"replicas": 1, "service": {"port": 80, "protocol": "TCP"}}}"#
        ),
        DefaultingCase(
            "a present object is defaulted inside; an absent one without a default is not created",
            schema: nested,
            #"{"spec": {"strategy": {}, "service": {"port": 8080}}}"#,
            #"{"spec": {"replicas": 1, "strategy": {"type": "Rolling"}, "service": {"port": 8080, "protocol": "TCP"}}}"#
        ),
        DefaultingCase(
            "nulls: defaulted when not nullable, kept when nullable, dropped when neither defaulted nor nullable",
            schema: nulls,
            #"""
            {"spec": {"withDefault": null, "nullable": null, "plain": null, "plainNullable": null,
                      "list": ["a", null], "map": {"k": null, "j": "v"}, "unknown": null}}
            """#,
            #"""
            {"spec": {"withDefault": "d", "nullable": null, "plainNullable": null,
                      "list": ["a", null], "map": {"j": "v"}, "unknown": null}}
            """#
        ),
        DefaultingCase(
            "array items are defaulted, and a null item takes the items default",
            schema: collections,
            #"{"spec": {"ports": [{"port": 80}, {}, null]}}"#,
            #"""
            {"spec": {"ports": [{"port": 80, "protocol": "TCP"}, {"protocol": "TCP"}, {"port": 443, "protocol": "TCP"}],
                      "surge": "25%"}}
            """#
        ),
        DefaultingCase(
            "additionalProperties values are defaulted, and a null value takes its default",
            schema: collections,
            #"{"spec": {"routes": {"a": {}, "b": {"weight": 5}, "c": null}}}"#,
            #"""
            {"spec": {"routes": {"a": {"weight": 100, "timeout": "30s"}, "b": {"weight": 5, "timeout": "30s"},
                                 "c": {"weight": 0, "timeout": "30s"}}, "surge": "25%"}}
            """#
        ),
        DefaultingCase(
            "preserve-unknown-fields objects get their declared defaults and keep the rest",
            schema: collections,
            #"{"spec": {"free": {"anything": [1]}}}"#,
            #"{"spec": {"free": {"anything": [1], "level": "info"}, "surge": "25%"}}"#
        ),
        DefaultingCase(
            "int-or-string defaults",
            schema: collections,
            #"{"spec": {}}"#,
            #"{"spec": {"surge": "25%"}}"#
        ),
        DefaultingCase(
            "a value of the wrong type is left for validation to report",
            schema: collections,
            #"{"spec": {"ports": "none", "routes": [1]}}"#,
            #"{"spec": {"ports": "none", "routes": [1], "surge": "25%"}}"#
        ),
        DefaultingCase(
            "a schema that is not an object changes nothing",
            schema: #""garbage""#,
            #"{"spec": {"a": null}}"#,
            #"{"spec": {"a": null}}"#
        ),
    ]

    @Test(arguments: cases)
    func defaulting(_ testCase: DefaultingCase) throws {
        let schema = try json(testCase.schema)
        let object = try json(testCase.object)
        let expected = try json(testCase.expected)
        #expect(CRDDefaulting.apply(schema, to: object) == expected)
    }

    @Test("a defaulted object validates against the schema built from the same JSON")
    func defaultedValidates() throws {
        let text = Self.collections
        let schema = try StructuralSchema.fromOpenAPIV3(try json(text))
        let defaulted = CRDDefaulting.apply(
            try json(text),
            to: try json(#"{"spec": {"ports": [null], "routes": {"r": null}}}"#)
        )
        let findings = schema.validate(defaulted, at: FieldPath(""))
        #expect(findings.errors.isEmpty)
        #expect(findings.unknownFields.isEmpty)
    }
}
