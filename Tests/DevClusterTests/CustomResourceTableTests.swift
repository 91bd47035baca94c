import DevCluster
import Foundation
import JSONValue
import Testing

/// 2026-01-01T00:00:00Z.
let created = Date(timeIntervalSince1970: 1_767_225_600)
/// Five minutes later.
let now = created.addingTimeInterval(300)

func tableJSON(_ text: String) -> JSONValue {
    (try? JSONValue(parsing: text)) ?? .null
}

@Suite("Custom resource tables")
struct CustomResourceTableTests {
    /// The `v1beta1` entry of Flagger's canary CRD (`manifests/crds/canary.yaml`).
    static let canaryVersion = tableJSON(
        """
        {"name":"v1beta1","served":true,"storage":true,"additionalPrinterColumns":[
          {"name":"Status","type":"string","jsonPath":".status.phase"},
          {"name":"Weight","type":"string","jsonPath":".status.canaryWeight"},
          {"name":"Suspended","type":"boolean","jsonPath":".spec.suspend","priority":1},
          {"name":"FailedChecks","type":"string","jsonPath":".status.failedChecks","priority":1},
          {"name":"Interval","type":"string","jsonPath":".spec.analysis.interval","priority":1},
          {"name":"Mirror","type":"boolean","jsonPath":".spec.analysis.mirror","priority":1},
          {"name":"StepWeight","type":"string","jsonPath":".spec.analysis.stepWeight","priority":1},
          {"name":"StepWeights","type":"string","jsonPath":".spec.analysis.stepWeights","priority":1},
          {"name":"MaxWeight","type":"string","jsonPath":".spec.analysis.maxWeight","priority":1},
          {"name":"LastTransitionTime","type":"string","jsonPath":".status.lastTransitionTime"}]}
        """
    )

    static let canary = tableJSON(
        """
        {"apiVersion":"flagger.app/v1beta1","kind":"Canary",
         "metadata":{"name":"podinfo","namespace":"prod","uid":"c-1","resourceVersion":"119",
                     "creationTimestamp":"2026-01-01T00:00:00Z","labels":{"app":"podinfo"}},
         "spec":{"analysis":{"interval":"1m","stepWeight":20,"stepWeights":[10,20,30],"maxWeight":50}},
         "status":{"phase":"Progressing","canaryWeight":20,"failedChecks":0,
                   "lastTransitionTime":"2026-01-01T00:04:00Z"}}
        """
    )

    @Test("reads Flagger's printer columns with their types and priorities")
    func canaryColumns() {
        let printer = TableConvertor.printerColumns(fromCRDVersion: Self.canaryVersion)
        #expect(printer.count == 10)
        #expect(printer[1] == PrinterColumn(name: "Weight", type: "string", jsonPath: ".status.canaryWeight"))
        #expect(printer[2].priority == 1)
        let columns = TableConvertor.columns(for: printer)
        #expect(columns.map(\.name) == ["Name"] + printer.map(\.name))
        #expect(columns[0].type == "string" && columns[0].format == "name" && columns[0].priority == 0)
        #expect(columns[0].description.hasPrefix("Name must be unique within a namespace."))
        #expect(columns[1].description == "Custom resource definition column (in JSONPath format): .status.phase")
        #expect(columns.map(\.priority) == [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0])
        #expect(columns[3].type == "boolean")
    }

    @Test("prints a canary as the real apiserver does: strings for string columns, null when missing")
    func canaryCells() {
        let printer = TableConvertor.printerColumns(fromCRDVersion: Self.canaryVersion)
        let cells = TableConvertor.customCells(printer, object: Self.canary, now: now)
        #expect(
            cells == [
                "podinfo", "Progressing", "20", nil, "0", "1m", nil, "20", "[10,20,30]", "50", "2026-01-01T00:04:00Z",
            ]
        )
        var suspended = Self.canary
        suspended["spec"]?["suspend"] = true
        #expect(TableConvertor.customCells(printer, object: suspended, now: now)[3] == true)
    }

    @Test("uses a description the CRD gives and the Age default when it gives no columns")
    func defaults() {
        let described = TableConvertor.columns(for: [
            PrinterColumn(name: "Phase", type: "string", description: "The phase.", jsonPath: ".status.phase")
        ])
        #expect(described[1].description == "The phase.")
        let printer = TableConvertor.printerColumns(fromCRDVersion: ["name": "v1", "additionalPrinterColumns": []])
        #expect(
            printer == [
                PrinterColumn(
                    name: "Age",
                    type: "date",
                    description: printer[0].description,
                    jsonPath: ".metadata.creationTimestamp"
                )
            ]
        )
        #expect(printer[0].description.hasPrefix("CreationTimestamp is a timestamp"))
        #expect(TableConvertor.columns(for: printer).map(\.name) == ["Name", "Age"])
        #expect(TableConvertor.customCells(printer, object: Self.canary, now: now) == ["podinfo", "5m"])
    }

    static let typed = tableJSON(
        """
        {"metadata":{"name":"t"},
         "spec":{"n":3,"f":2.5,"flag":true,"s":"20","when":"yesterday","empty":"","ts":"2026-01-01T00:03:20Z",
                 "list":[{"a":1},{"a":2}]},
         "status":{"x":null,"obj":{"b":1,"a":"<x>"}}}
        """
    )

    @Test(
        "converts cells by column type like the apiextensions tableconvertor",
        arguments: [
            ("integer", ".spec.n", 3),
            ("integer", ".spec.f", 2),
            ("integer", ".spec.s", nil),
            ("number", ".spec.n", 3.0),
            ("number", ".spec.f", 2.5),
            ("number", ".spec.flag", nil),
            ("boolean", ".spec.flag", true),
            ("boolean", ".spec.s", nil),
            ("date", ".spec.ts", "100s"),
            ("date", ".spec.when", "<invalid>"),
            ("date", ".spec.empty", "<unknown>"),
            ("date", ".spec.n", nil),
            ("string", ".spec.f", "2.5"),
            ("string", ".spec.flag", "true"),
            ("string", ".status.x", "<no value>"),
            ("string", ".status.obj", "{\"a\":\"\\u003cx\\u003e\",\"b\":1}"),
            ("string", ".spec.list[*].a", "1"),
            ("string", ".status.missing", nil),
            ("integer", ".status.missing", nil),
            ("string", ".spec[", nil),
        ] as [(String, String, JSONValue)]
    )
    func typedCells(type: String, path: String, expected: JSONValue) {
        let column = PrinterColumn(name: "C", type: type, jsonPath: path)
        let cells = TableConvertor.customCells([column], object: Self.typed, now: now)
        #expect(cells == ["t", expected])
        #expect(cells.last?.typeName == expected.typeName)
    }

    @Test(
        "prints fractional numbers in string columns as Go's %v does",
        arguments: [
            (0.5, "0.5"), (2.0, "2"), (1.5e6, "1.5e+06"), (123_456.0, "123456"), (1_234_567.0, "1.234567e+06"),
            (0.0001, "0.0001"), (0.00001, "1e-05"), (-0.25, "-0.25"),
        ]
    )
    func floats(value: Double, printed: String) {
        let object: JSONValue = ["metadata": ["name": "f"], "v": .double(value), "l": [.double(value)]]
        let cells = TableConvertor.customCells(
            [
                PrinterColumn(name: "V", type: "string", jsonPath: ".v"),
                PrinterColumn(name: "L", type: "string", jsonPath: ".l"),
            ],
            object: object,
            now: now
        )
        #expect(cells[1] == .string(printed))
        #expect(cells[2].stringValue?.hasPrefix("[") == true)
    }

    @Test("writes list values in string columns as encoding/json does")
    func jsonFloats() {
        let object: JSONValue = ["metadata": ["name": "f"], "l": [.double(1e21), .double(1e-7), .double(0.5), "&"]]
        let cells = TableConvertor.customCells(
            [PrinterColumn(name: "L", type: "string", jsonPath: ".l")],
            object: object,
            now: now
        )
        #expect(cells[1] == "[1e+21,1e-7,0.5,\"\\u0026\"]")
    }
}
