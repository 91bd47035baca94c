import DevCluster
import JSONValue
import Testing

@Suite("JSONPath for printer columns")
struct JSONPathTests {
    static let canary: JSONValue = {
        let text = """
            {"metadata":{"name":"podinfo","labels":{"app.kubernetes.io/name":"podinfo","app":"web"}},
             "spec":{"analysis":{"interval":"1m","stepWeights":[10,20,30],"maxWeight":50},
                     "items":[{"c":"first"},{"c":"second"},{"d":1}]},
             "status":{"phase":"Progressing","canaryWeight":20,"failedChecks":0,"nothing":null,
                       "conditions":[{"type":"Promoted","status":"True"},{"type":"Ready","status":"False"}]}}
            """
        return (try? JSONValue(parsing: text)) ?? .null
    }()

    @Test(
        "selects what client-go's jsonpath selects",
        arguments: [
            (".status.phase", ["Progressing"]),
            ("{.status.phase}", ["Progressing"]),
            ("$.status.canaryWeight", [20]),
            (".spec.analysis.stepWeights", [[10, 20, 30]]),
            (".spec.analysis.stepWeights[1]", [20]),
            (".spec.analysis.stepWeights[-1]", [30]),
            (".spec.analysis.stepWeights[0:2]", [10, 20]),
            (".spec.analysis.stepWeights[::2]", [10, 30]),
            (".spec.analysis.stepWeights[*]", [10, 20, 30]),
            (".metadata.labels['app.kubernetes.io/name']", ["podinfo"]),
            (".metadata.labels[\"app\"]", ["web"]),
            (".metadata.labels.app\\.kubernetes\\.io/name", ["podinfo"]),
            (".spec.items[0].c", ["first"]),
            (".spec.items[*].c", ["first", "second"]),
            (".status.conditions[?(@.type==\"Promoted\")].status", ["True"]),
            (".status.conditions[?(@.type!='Promoted')].type", ["Ready"]),
            (".spec.items[?(@.d)].d", [1]),
            (".status.nothing", [nil]),
            (".status.missing", []),
            (".status.missing.deeper", []),
            (".spec.analysis.stepWeights[7]", []),
            (".status.phase[0]", []),
            (".spec.items.c", []),
        ] as [(String, [JSONValue])]
    )
    func evaluates(expression: String, expected: [JSONValue]) throws {
        #expect(try JSONPathExpression(expression).evaluate(Self.canary) == expected)
    }

    @Test("descends recursively with ..")
    func recursive() throws {
        let values = try JSONPathExpression("..c").evaluate(Self.canary)
        #expect(values == ["first", "second"])
    }

    @Test("refuses expressions it cannot read", arguments: [".a[", ".a[x]", "status.phase", ".a[?(@.x=~1)]", ".a."])
    func refuses(expression: String) {
        #expect(throws: SelectorError.self) { try JSONPathExpression(expression) }
    }
}
