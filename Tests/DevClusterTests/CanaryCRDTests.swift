import DevCluster
import Foundation
import JSONValue
import KubeModels
import Testing

/// Flagger's Canary CRD (`manifests/crds/canary.yaml` as JSON) against the tutorial's Canary.
@Suite("Flagger's Canary CRD")
struct CanaryCRDTests {
    static func fixture(_ name: String) throws -> JSONValue {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"))
        return try JSONValue(parsing: Array(try Data(contentsOf: url)))
    }

    static func openAPIV3Schema() throws -> JSONValue {
        let crd = try fixture("canary-crd")
        #expect(crd["kind"] == "CustomResourceDefinition")
        return try #require(crd["spec", "versions"]?[0]?["schema", "openAPIV3Schema"])
    }

    static func schema() throws -> StructuralSchema {
        try StructuralSchema.fromOpenAPIV3(try openAPIV3Schema())
    }

    static func tutorialCanary() throws -> JSONValue { try fixture("tutorial-canary") }

    @Test("the tutorial Canary validates with no errors and nothing unknown")
    func tutorialValidates() throws {
        let schema = try Self.schema()
        let canary = try Self.tutorialCanary()
        let findings = schema.validate(canary, at: FieldPath(""))
        #expect(findings.errors.map(\.description) == [])
        #expect(findings.unknownFields == [])
        #expect(schema.pruned(canary) == canary)
        #expect(CRDDefaulting.apply(try Self.openAPIV3Schema(), to: canary) == canary)
    }

    @Test("stepWeight: \"five\" is a type error at spec.analysis.stepWeight")
    func stepWeightType() throws {
        var canary = try Self.tutorialCanary()
        canary["spec"]?["analysis"]?["stepWeight"] = "five"
        let findings = try Self.schema().validate(canary, at: FieldPath(""))
        #expect(
            findings.errors.map(\.description) == [
                #"spec.analysis.stepWeight: Invalid value: "five": must be of type integer"#
            ]
        )
        #expect(findings.errors.first?.kind == .typeInvalid)
        #expect(findings.mistypedPointers.map(\.description) == ["/spec/analysis/stepWeight"])
    }

    @Test("an unknown spec.foo is reported as unknown and pruned")
    func unknownField() throws {
        let schema = try Self.schema()
        let canary = try Self.tutorialCanary()
        var withFoo = canary
        withFoo["spec"]?["foo"] = ["bar": 1]
        let findings = schema.validate(withFoo, at: FieldPath(""))
        #expect(findings.errors.isEmpty)
        #expect(findings.unknownFields == ["spec.foo"])
        let pruned = schema.pruned(withFoo)
        #expect(pruned["spec", "foo"] == nil)
        #expect(pruned == canary)
    }

    @Test("a targetRef.kind outside the enum is reported")
    func targetRefKind() throws {
        var canary = try Self.tutorialCanary()
        canary["spec"]?["targetRef"]?["kind"] = "StatefulSet"
        let findings = try Self.schema().validate(canary, at: FieldPath(""))
        #expect(
            findings.errors.map(\.description) == [
                #"spec.targetRef.kind: Unsupported value: "StatefulSet": supported values: "Deployment", "DaemonSet""#
            ]
        )
    }

    @Test("the analysis oneOf: neither iterations, stepWeight nor stepWeights is an error at spec.analysis")
    func analysisOneOf() throws {
        var canary = try Self.tutorialCanary()
        canary["spec"]?["analysis"]?["stepWeight"] = nil
        let findings = try Self.schema().validate(canary, at: FieldPath(""))
        #expect(findings.errors.map(\.field) == ["spec.analysis"])
        #expect(findings.errors.first?.detail == "must match exactly one of 3 schemas")
    }

    @Test("required fields and metadata: service.port is required, metadata is ObjectMeta")
    func requiredAndMetadata() throws {
        let schema = try Self.schema()
        #expect(schema.property("metadata")?.isObjectMeta == true)
        var canary = try Self.tutorialCanary()
        canary["spec"]?["service"] = ["name": "podinfo"]
        canary["metadata"]?["finalizers"] = ["x"]
        let findings = schema.validate(canary, at: FieldPath(""))
        #expect(findings.errors.map(\.description) == ["spec.service.port: Required value"])
        #expect(findings.unknownFields.isEmpty)
    }

    @Test("the schema renders back to JSON that builds the same schema")
    func roundTrip() throws {
        let schema = try Self.schema()
        let again = try StructuralSchema.fromOpenAPIV3(schema.json)
        #expect(again.json == schema.json)
        #expect(again.validate(try Self.tutorialCanary(), at: FieldPath("")).errors.isEmpty)
    }
}
