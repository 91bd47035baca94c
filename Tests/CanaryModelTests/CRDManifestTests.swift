import CanaryModel
import Foundation
import JSONValue
import Testing

@Suite("CRD manifests")
struct CRDManifestTests {
    static let regenerate = "run `swift run fledge crds --out-dir manifests/crds` and commit the result"

    @Test(
        "each manifest in manifests/crds is what CustomResourceDefinitions generates",
        arguments:
            CustomResourceDefinitions.all.map(\.file)
    )
    func manifestIsGenerated(file: String) throws {
        let generated = try #require(CustomResourceDefinitions.all.first { $0.file == file }).crd
        let onDisk = try Fixture.yaml("manifests/crds/\(file)")
        let drift = JSONPatch.diff(from: onDisk, to: generated).json.serialized()
        #expect(onDisk == generated, "manifests/crds/\(file) is out of date: \(Self.regenerate). Drift: \(drift)")
    }

    @Test("manifests/crds holds exactly the generated CRDs, all listed in its kustomization")
    func noStrayManifests() throws {
        let generated = Set(CustomResourceDefinitions.all.map(\.file))
        let directory = Fixture.repositoryRoot.appendingPathComponent("manifests/crds").path
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".yaml") })
        #expect(files.subtracting(["kustomization.yaml"]) == generated, "\(Self.regenerate)")
        let kustomization = try Fixture.yaml("manifests/crds/kustomization.yaml")
        let resources = Set(kustomization["resources"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        #expect(resources == generated)
    }

    /// The Canary CRD as installed.
    func canaryCRD() throws -> JSONValue { try Fixture.yaml("manifests/crds/canary.yaml") }

    @Test("the Canary CRD has Flagger's printer columns, then why the release stands where it does")
    func printerColumns() throws {
        let version = try #require(try canaryCRD()["spec", "versions"]?[0])
        #expect(version["name"] == "v1beta1")
        let columns = try #require(version["additionalPrinterColumns"]?.arrayValue)
        let priority = { (column: JSONValue) in column["priority"]?.intValue ?? 0 }
        let always = columns.filter { priority($0) == 0 }
        // Flagger's three, in Flagger's order; Message (ours, BEHAVIOUR.md §8.5) comes last so scripts that cut
        // Flagger's columns by position keep working.
        #expect(
            always.compactMap { $0["name"]?.stringValue } == ["Status", "Weight", "LastTransitionTime", "Message"]
        )
        #expect(
            always.compactMap { $0["jsonPath"]?.stringValue } == [
                ".status.phase", ".status.canaryWeight", ".status.lastTransitionTime",
                #".status.conditions[?(@.type=="Promoted")].message"#,
            ]
        )
        let wide = columns.filter { priority($0) == 1 }.compactMap { $0["name"]?.stringValue }
        #expect(wide == ["Suspended", "FailedChecks", "Interval", "Mirror", "StepWeight", "StepWeights", "MaxWeight"])
        #expect(version["subresources"] == ["status": [:]])
        #expect(try canaryCRD()["metadata", "name"] == "canaries.flagger.app")
    }

    @Test(
        "counts and weights are integers in the Canary CRD",
        arguments: [
            ["spec", "analysis", "stepWeight"], ["spec", "analysis", "threshold"], ["spec", "analysis", "maxWeight"],
            ["spec", "analysis", "iterations"], ["spec", "analysis", "stepWeightPromotion"],
            ["spec", "analysis", "mirrorWeight"], ["spec", "analysis", "primaryReadyThreshold"],
            ["spec", "analysis", "canaryReadyThreshold"], ["spec", "service", "port"],
            ["spec", "progressDeadlineSeconds"],
        ]
    )
    func integerFields(path: [String]) throws {
        var schema = try #require(try canaryCRD()["spec", "versions"]?[0]?["schema", "openAPIV3Schema"])
        for name in path {
            schema = try #require(schema["properties", name], "no property \(name) on the way to \(path)")
        }
        #expect(schema["type"] == "integer", "\(path.joined(separator: ".")) is \(schema["type"] ?? nil)")
    }

    @Test("stepWeights is a list of integers")
    func stepWeightsItems() throws {
        let schema = try canaryCRD()["spec", "versions"]?[0]?["schema", "openAPIV3Schema"]
        let stepWeights = schema?["properties", "spec", "properties", "analysis", "properties", "stepWeights"]
        #expect(stepWeights?["type"] == "array")
        #expect(stepWeights?["items", "type"] == "integer")
    }
}
