import DevCluster
import JSONValue
import KubeModels
import Testing

/// Parses JSON text written in a test.
func json(_ text: String) throws -> JSONValue {
    try JSONValue(parsing: text)
}

/// A root schema whose `spec` has one property `x` of the given schema (JSON text).
func rootSchema(x: String) throws -> JSONValue {
    try json(#"{"type": "object", "properties": {"spec": {"type": "object", "properties": {"x": \#(x)}}}}"#)
}

/// A root schema whose `spec` has the given schema (JSON text).
func rootSchema(spec: String) throws -> JSONValue {
    try json(#"{"type": "object", "properties": {"spec": \#(spec)}}"#)
}

/// The errors `fromOpenAPIV3` reports for a schema it refuses; fails the test when it accepts it.
func refusal(_ schema: JSONValue) -> CRDSchemaError? {
    do {
        _ = try StructuralSchema.fromOpenAPIV3(schema)
        Issue.record("the schema was accepted")
        return nil
    } catch {
        return error
    }
}

/// The prefix of every error path for a schema built with the default path.
let schemaPath = "spec.versions[0].schema.openAPIV3Schema"
