import Foundation
import JSONValue
import Testing

@Suite("fledge validate")
struct ValidateCommandTests {
    @Test("the seed Canary is valid: exit 0")
    func seed() throws {
        let result = try Fledge.run(["validate", "-f", "manifests/examples/canary.yaml"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout == "canary.flagger.app/podinfo is valid\n")
    }

    @Test("an invalid Canary: exit 1 and every problem in kubectl's format")
    func invalid() throws {
        let result = try Fledge.run(["validate", "-f", "manifests/examples/invalid-canary.yaml"])
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.first == #"The Canary "podinfo-bad" is invalid: "#)
        #expect(lines.contains("* spec.analysis.stepWeight: Invalid value: 150: must be between 1 and 100"))
        #expect(lines.filter { $0.hasPrefix("* spec.") }.count >= 4)
    }

    @Test("multi-document input from stdin: other kinds are skipped, JSON output on request")
    func stdinJSON() throws {
        let yaml = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: podinfo}
            ---
            apiVersion: flagger.app/v1beta1
            kind: Canary
            metadata: {name: a, namespace: prod}
            spec:
              targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
              service: {port: 9898}
              analysis: {interval: 1m, threshold: 2, stepWeights: [10, 5]}
            ---
            apiVersion: flagger.app/v1beta1
            kind: MetricTemplate
            metadata: {name: errors}
            spec: {provider: {type: prometheus, address: "http://prometheus:9090"}, query: "sum(x)"}
            """
        let result = try Fledge.run(["validate", "-f", "-", "-o", "json"], stdin: yaml)
        #expect(result.status == 1)
        let json = try JSONValue(parsing: result.stdout)
        #expect(json[0]?["checked"] == false)
        #expect(json[1]?["valid"] == false)
        #expect(json[1]?["errors"]?[0]?["field"] == "spec.analysis.stepWeights[1]")
        #expect(json[2]?["valid"] == true)
    }

    @Test("unreadable input: exit 2", arguments: [["validate", "-f", "/nonexistent.yaml"], ["validate", "-f", "-"]])
    func unreadable(_ arguments: [String]) throws {
        let result = try Fledge.run(arguments, stdin: "key: [unclosed\n  - :")
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("error: "))
    }
}
