import CanaryModel
import Foundation
import JSONValue
import Testing

/// A default the defaulter writes: after `edits` to the seed, the member at `pointer` becomes `value`.
struct DefaultCase: Sendable, CustomTestStringConvertible {
    var label: String
    var edits: [Edit]
    var pointer: String
    var value: JSONValue

    var testDescription: String { label }
}

/// A member the defaulter must leave alone.
struct KeptCase: Sendable, CustomTestStringConvertible {
    var label: String
    var edits: [Edit]
    var pointer: String

    var testDescription: String { label }
}

/// A sparse Canary that needs every kind of default, including an empty webhook type (a `replace`).
let sparseCanary = Fixture.parse(
    """
    {
      "apiVersion": "flagger.app/v1beta1",
      "kind": "Canary",
      "metadata": {"name": "checkout", "namespace": "shop"},
      "spec": {
        "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "checkout"},
        "service": {"port": 80},
        "analysis": {
          "stepWeight": 10,
          "metrics": [
            {"name": "request-success-rate", "thresholdRange": {"min": 99}},
            {"name": "latency", "templateRef": {"name": "latency", "namespace": "flagger"},
             "thresholdRange": {"max": 1}},
            {"name": "errors", "query": "sum(rate(errors[1m]))", "thresholdRange": {"max": 1}}
          ],
          "webhooks": [{"name": "gate", "type": "", "url": "http://flagger-loadtester.shop/gate/approve"}],
          "alerts": [{"name": "on-call", "providerRef": {"name": "slack"}}]
        }
      }
    }
    """
)

@Suite("Defaulting")
struct DefaultingTests {
    let defaulter = CanaryDefaulter()

    @Test(
        "the provider is the server's configured default provider",
        arguments: [
            "linkerd", "gatewayapi:v1", "smi:v1alpha3", "kubernetes",
        ]
    )
    func configuredProvider(provider: String) {
        let defaulted = CanaryDefaulter(defaultProvider: provider).defaulted(Fixture.seed)
        #expect(defaulted["spec", "provider"] == .string(provider))
    }

    @Test("without configuration the default provider is linkerd")
    func linkerdByDefault() {
        #expect(CanaryDefaulter().defaultProvider == "linkerd")
        #expect(defaulter.defaulted(Fixture.seed)["spec", "provider"] == "linkerd")
    }

    @Test(
        "absent members get Flagger's defaults",
        arguments: [
            DefaultCase(label: "provider", edits: [], pointer: "/spec/provider", value: "linkerd"),
            DefaultCase(
                label: "progressDeadlineSeconds",
                edits: [],
                pointer: "/spec/progressDeadlineSeconds",
                value: 600
            ),
            DefaultCase(
                label: "analysis.interval",
                edits: [.remove("/spec/analysis/interval")],
                pointer: "/spec/analysis/interval",
                value: "1m"
            ),
            DefaultCase(
                label: "analysis.threshold",
                edits: [.remove("/spec/analysis/threshold")],
                pointer: "/spec/analysis/threshold",
                value: 1
            ),
            DefaultCase(
                label: "maxWeight with stepWeight",
                edits: [.remove("/spec/analysis/maxWeight")],
                pointer: "/spec/analysis/maxWeight",
                value: 100
            ),
            DefaultCase(
                label: "primaryReadyThreshold",
                edits: [],
                pointer: "/spec/analysis/primaryReadyThreshold",
                value: 100
            ),
            DefaultCase(
                label: "canaryReadyThreshold",
                edits: [],
                pointer: "/spec/analysis/canaryReadyThreshold",
                value: 100
            ),
            DefaultCase(
                label: "built-in metric interval",
                edits: [.remove("/spec/analysis/metrics/0/interval")],
                pointer: "/spec/analysis/metrics/0/interval",
                value: "1m"
            ),
            DefaultCase(
                label: "inline query metric interval",
                edits: [.set("/spec/analysis/metrics/-", ["name": "errors", "query": "sum(rate(errors[1m]))"])],
                pointer: "/spec/analysis/metrics/2/interval",
                value: "1m"
            ),
            DefaultCase(
                label: "absent webhook type",
                edits: [.remove("/spec/analysis/webhooks/1/type")],
                pointer: "/spec/analysis/webhooks/1/type",
                value: "rollout"
            ),
            DefaultCase(
                label: "empty webhook type",
                edits: [.set("/spec/analysis/webhooks/0/type", "")],
                pointer: "/spec/analysis/webhooks/0/type",
                value: "rollout"
            ),
            DefaultCase(
                label: "webhook timeout",
                edits: [],
                pointer: "/spec/analysis/webhooks/1/timeout",
                value: "10s"
            ),
            DefaultCase(
                label: "absent alert severity",
                edits: [.set("/spec/analysis/alerts", [["name": "on-call", "providerRef": ["name": "slack"]]])],
                pointer: "/spec/analysis/alerts/0/severity",
                value: "info"
            ),
            DefaultCase(
                label: "empty alert severity",
                edits: [
                    .set(
                        "/spec/analysis/alerts",
                        [["name": "on-call", "severity": "", "providerRef": ["name": "slack"]]]
                    )
                ],
                pointer: "/spec/analysis/alerts/0/severity",
                value: "info"
            ),
            DefaultCase(label: "service.portName", edits: [], pointer: "/spec/service/portName", value: "http"),
            DefaultCase(
                label: "service.targetPort is the port",
                edits: [],
                pointer: "/spec/service/targetPort",
                value: 9898
            ),
            DefaultCase(
                label: "service.targetPort follows another port",
                edits: [.set("/spec/service/port", 8080)],
                pointer: "/spec/service/targetPort",
                value: 8080
            ),
        ]
    )
    func addsDefault(_ entry: DefaultCase) throws {
        let input = try Fixture.seed.applying(entry.edits)
        let pointer = try JSONPointer(entry.pointer)
        #expect(input[pointer: pointer] != entry.value, "the input already has the default")
        #expect(defaulter.defaulted(input)[pointer: pointer] == entry.value)
    }

    @Test(
        "defaults that do not apply are not written",
        arguments: [
            KeptCase(
                label: "maxWeight with stepWeights",
                edits: [
                    .remove("/spec/analysis/stepWeight"), .remove("/spec/analysis/maxWeight"),
                    .set("/spec/analysis/stepWeights", [10, 20, 40]),
                ],
                pointer: "/spec/analysis/maxWeight"
            ),
            KeptCase(
                label: "maxWeight with iterations",
                edits: [
                    .remove("/spec/analysis/stepWeight"), .remove("/spec/analysis/maxWeight"),
                    .set("/spec/analysis/iterations", 10),
                ],
                pointer: "/spec/analysis/maxWeight"
            ),
            KeptCase(
                label: "interval of a templateRef metric",
                edits: [.set("/spec/analysis/metrics/-", ["name": "latency", "templateRef": ["name": "latency"]])],
                pointer: "/spec/analysis/metrics/2/interval"
            ),
            KeptCase(
                label: "targetPort from a port that is not a number",
                edits: [.set("/spec/service/port", "9898")],
                pointer: "/spec/service/targetPort"
            ),
            KeptCase(
                label: "analysis members when there is no analysis",
                edits: [.remove("/spec/analysis")],
                pointer: "/spec/analysis"
            ),
            KeptCase(
                label: "service members when there is no service",
                edits: [.remove("/spec/service")],
                pointer: "/spec/service"
            ),
        ]
    )
    func doesNotDefault(_ entry: KeptCase) throws {
        let input = try Fixture.seed.applying(entry.edits)
        let defaulted = defaulter.defaulted(input)
        #expect(defaulted[pointer: try JSONPointer(entry.pointer)] == nil)
        // The other defaults still apply.
        #expect(defaulted["spec", "progressDeadlineSeconds"] == 600)
    }

    @Test(
        "values the user wrote are never changed",
        arguments: [
            DefaultCase(label: "provider", edits: [], pointer: "/spec/provider", value: "smi:v1alpha2"),
            DefaultCase(label: "unsupported provider", edits: [], pointer: "/spec/provider", value: "istio"),
            DefaultCase(label: "empty provider", edits: [], pointer: "/spec/provider", value: ""),
            DefaultCase(
                label: "progressDeadlineSeconds",
                edits: [],
                pointer: "/spec/progressDeadlineSeconds",
                value: 120
            ),
            DefaultCase(label: "interval", edits: [], pointer: "/spec/analysis/interval", value: "30s"),
            DefaultCase(label: "threshold", edits: [], pointer: "/spec/analysis/threshold", value: 3),
            DefaultCase(
                label: "threshold of the wrong type",
                edits: [],
                pointer: "/spec/analysis/threshold",
                value: "five"
            ),
            DefaultCase(label: "maxWeight", edits: [], pointer: "/spec/analysis/maxWeight", value: 50),
            DefaultCase(
                label: "primaryReadyThreshold",
                edits: [],
                pointer: "/spec/analysis/primaryReadyThreshold",
                value: 50
            ),
            DefaultCase(
                label: "canaryReadyThreshold",
                edits: [],
                pointer: "/spec/analysis/canaryReadyThreshold",
                value: 80
            ),
            DefaultCase(label: "metric interval", edits: [], pointer: "/spec/analysis/metrics/0/interval", value: "2m"),
            DefaultCase(
                label: "webhook type",
                edits: [],
                pointer: "/spec/analysis/webhooks/1/type",
                value: "post-rollout"
            ),
            DefaultCase(
                label: "misspelt webhook type",
                edits: [],
                pointer: "/spec/analysis/webhooks/1/type",
                value: "pre_rollout"
            ),
            DefaultCase(label: "webhook timeout", edits: [], pointer: "/spec/analysis/webhooks/0/timeout", value: "1m"),
            DefaultCase(
                label: "alert severity",
                edits: [.set("/spec/analysis/alerts", [["name": "on-call", "providerRef": ["name": "slack"]]])],
                pointer: "/spec/analysis/alerts/0/severity",
                value: "warn"
            ),
            DefaultCase(label: "portName", edits: [], pointer: "/spec/service/portName", value: "grpc"),
            DefaultCase(label: "targetPort number", edits: [], pointer: "/spec/service/targetPort", value: 8080),
            DefaultCase(label: "targetPort name", edits: [], pointer: "/spec/service/targetPort", value: "http"),
        ]
    )
    func keepsUserValue(_ entry: DefaultCase) throws {
        let input = try Fixture.seed.applying(entry.edits + [.set(entry.pointer, entry.value)])
        let pointer = try JSONPointer(entry.pointer)
        #expect(defaulter.defaulted(input)[pointer: pointer] == entry.value)
        let touched = defaulter.patch(for: input).json.arrayValue?.compactMap { $0["path"]?.stringValue } ?? []
        #expect(!touched.contains(entry.pointer), "the patch touches \(entry.pointer): \(touched)")
    }

    @Test("the seed Canary gets exactly Flagger's missing defaults, all added")
    func seedPatch() throws {
        let patch = defaulter.patch(for: Fixture.seed)
        let operations = try #require(patch.json.arrayValue)
        let expected: Set<JSONValue> = [
            ["op": "add", "path": "/spec/provider", "value": "linkerd"],
            ["op": "add", "path": "/spec/progressDeadlineSeconds", "value": 600],
            ["op": "add", "path": "/spec/analysis/primaryReadyThreshold", "value": 100],
            ["op": "add", "path": "/spec/analysis/canaryReadyThreshold", "value": 100],
            ["op": "add", "path": "/spec/analysis/webhooks/1/timeout", "value": "10s"],
            ["op": "add", "path": "/spec/service/portName", "value": "http"],
            ["op": "add", "path": "/spec/service/targetPort", "value": 9898],
        ]
        #expect(operations.count == expected.count)
        #expect(Set(operations) == expected)
    }

    @Test(
        "defaulting twice changes nothing more",
        arguments: [
            Sample("seed", Fixture.seed), Sample("sparse", sparseCanary),
        ]
    )
    func idempotent(sample: Sample) {
        let (label, canary) = (sample.name, sample.json)
        let once = defaulter.defaulted(canary)
        #expect(once != canary, "the \(label) Canary needs defaults")
        #expect(defaulter.defaulted(once) == once)
        #expect(defaulter.patch(for: once).isEmpty, "second pass: \(defaulter.patch(for: once).json.serialized())")
    }

    @Test(
        "objects that are not Canaries are returned unchanged",
        arguments: [
            Sample("null", nil), Sample("a string", "text"), Sample("an array", [1, 2]),
            Sample("an object without spec", ["kind": "Canary"]), Sample("a spec that is not an object", ["spec": "x"]),
        ]
    )
    func notACanary(sample: Sample) {
        let value = sample.json
        #expect(defaulter.defaulted(value) == value)
        #expect(defaulter.patch(for: value).isEmpty)
    }

    @Test(
        "the patch applied with our JSONPatch gives the defaulted Canary",
        arguments: [
            Sample("seed", Fixture.seed), Sample("sparse", sparseCanary),
        ]
    )
    func patchAppliesWithJSONPatch(sample: Sample) throws {
        let canary = sample.json
        let patch = defaulter.patch(for: canary)
        #expect(!patch.isEmpty)
        #expect(try patch.apply(to: canary) == defaulter.defaulted(canary))
        // Through its JSON form, as the API server receives it.
        #expect(
            try JSONPatch(json: Fixture.parse(patch.json.serialized())).apply(to: canary) == defaulter.defaulted(canary)
        )
    }

    @Test(
        "the patch applied with Python's jsonpatch gives the same Canary",
        arguments: [
            Sample("seed", Fixture.seed), Sample("sparse", sparseCanary),
        ]
    )
    func patchAppliesWithPythonJSONPatch(sample: Sample) throws {
        let canary = sample.json
        try Python.requireJSONPatch()
        let patch = defaulter.patch(for: canary)
        let theirs = try Python.applyJSONPatch(patch.json, to: canary)
        #expect(theirs == defaulter.defaulted(canary))
        #expect(theirs == (try patch.apply(to: canary)))
    }
}

/// Runs Python's `jsonpatch` (an independent RFC 6902 implementation) on files in a temporary directory.
enum Python {
    static let installHint =
        "python3 cannot import jsonpatch, which checks our patches: install it with "
        + "`apt-get install python3-jsonpatch` or `python3 -m pip install jsonpatch` (see the README's prerequisites)"

    struct Run {
        var status: Int32
        var output: String
        var errors: String
    }

    static func run(_ script: String, arguments: [String] = []) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus,
            output: String(decoding: outputData, as: UTF8.self),
            errors: String(decoding: errorData, as: UTF8.self)
        )
    }

    /// Fails the test (never skips it) when python3 or its jsonpatch module is missing.
    static func requireJSONPatch() throws {
        let check: Run
        do {
            check = try run("import jsonpatch")
        } catch {
            Issue.record("cannot run python3 (\(error)); \(installHint)")
            throw error
        }
        try #require(check.status == 0, "\(installHint)\n\(check.errors)")
    }

    static func applyJSONPatch(_ patch: JSONValue, to document: JSONValue) throws -> JSONValue {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("fledge-jsonpatch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let documentFile = directory.appendingPathComponent("document.json")
        let patchFile = directory.appendingPathComponent("patch.json")
        try Data(document.serializedBytes()).write(to: documentFile)
        try Data(patch.serializedBytes()).write(to: patchFile)
        let script = """
            import json, sys, jsonpatch
            with open(sys.argv[1]) as f: document = json.load(f)
            with open(sys.argv[2]) as f: patch = json.load(f)
            sys.stdout.write(json.dumps(jsonpatch.JsonPatch(patch).apply(document)))
            """
        let result = try run(script, arguments: [documentFile.path, patchFile.path])
        try #require(result.status == 0, "python jsonpatch failed: \(result.errors)")
        return try JSONValue(parsing: result.output)
    }
}
