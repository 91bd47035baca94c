import CanaryModel
import JSONValue
import KubeModels
import Testing

/// An error the validator must report: its kind, its field, and a fragment of its rendered message.
struct Expected: Sendable, CustomStringConvertible {
    var kind: FieldError.Kind
    var field: String
    var fragment: String

    func matches(_ error: FieldError) -> Bool {
        error.kind == kind && error.field == field && error.description.contains(fragment)
    }

    var description: String { "\(kind.rawValue) at \(field) saying \"\(fragment)\"" }

    static func required(_ field: String, _ fragment: String = "Required value") -> Expected {
        Expected(kind: .required, field: field, fragment: fragment)
    }

    static func invalid(_ field: String, _ fragment: String) -> Expected {
        Expected(kind: .invalid, field: field, fragment: fragment)
    }

    static func typeInvalid(_ field: String, _ fragment: String) -> Expected {
        Expected(kind: .typeInvalid, field: field, fragment: fragment)
    }

    static func notSupported(_ field: String, _ fragment: String) -> Expected {
        Expected(kind: .notSupported, field: field, fragment: fragment)
    }

    static func forbidden(_ field: String, _ fragment: String) -> Expected {
        Expected(kind: .forbidden, field: field, fragment: fragment)
    }

    static func duplicate(_ field: String, _ fragment: String) -> Expected {
        Expected(kind: .duplicate, field: field, fragment: fragment)
    }
}

/// One row of a rule's table: edits to the defaulted seed Canary and the errors they must cause (none: valid).
struct RuleCase: Sendable, CustomTestStringConvertible {
    var label: String
    var edits: [Edit]
    var expected: [Expected]

    var testDescription: String { label }

    static func valid(_ label: String, _ edits: [Edit]) -> RuleCase {
        RuleCase(label: label, edits: edits, expected: [])
    }

    static func invalid(_ label: String, _ edits: [Edit], _ expected: Expected...) -> RuleCase {
        RuleCase(label: label, edits: edits, expected: expected)
    }
}

/// Edits that several tables share.
enum Edits {
    /// Blue/green: iterations instead of weights.
    static let blueGreen: [Edit] = [
        .remove("/spec/analysis/stepWeight"), .remove("/spec/analysis/maxWeight"),
        .set("/spec/analysis/iterations", 10),
    ]

    /// Explicit weight steps instead of stepWeight (and no maxWeight).
    static func stepWeights(_ steps: JSONValue) -> [Edit] {
        [
            .remove("/spec/analysis/stepWeight"), .remove("/spec/analysis/maxWeight"),
            .set("/spec/analysis/stepWeights", steps),
        ]
    }

    /// A Gateway API provider with the mesh parent reference Linkerd needs.
    static func gatewayAPI(_ provider: String = "gatewayapi:v1") -> [Edit] {
        [
            .set("/spec/provider", .string(provider)),
            .set("/spec/service/gatewayRefs", [["name": "podinfo", "kind": "Service", "group": "core", "port": 9898]]),
        ]
    }

    static func provider(_ name: String) -> [Edit] { [.set("/spec/provider", .string(name))] }

    /// A/B testing on a header.
    static let match: [Edit] = [.set("/spec/analysis/match", [["headers": ["x-canary": ["exact": "insider"]]]])]

    /// Appends a metric (it becomes metrics[2]).
    static func metric(_ metric: JSONValue) -> [Edit] { [.set("/spec/analysis/metrics/-", metric)] }

    /// One alert (alerts[0]) with the given severity.
    static func alert(severity: JSONValue) -> [Edit] {
        [
            .set(
                "/spec/analysis/alerts",
                [["name": "on-call", "severity": severity, "providerRef": ["name": "slack", "namespace": "flagger"]]]
            )
        ]
    }

    static func targetName(_ name: String) -> [Edit] { [.set("/spec/targetRef/name", .string(name))] }

    static func serviceName(_ name: String) -> [Edit] { [.set("/spec/service/name", .string(name))] }
}

/// Names around the 63-character limit: `<name>-primary` adds 8.
enum Names {
    static let fits = String(repeating: "a", count: 55)
    static let tooLong = String(repeating: "a", count: 56)
}

/// Validates the defaulted seed Canary with the edits applied.
func validate(_ edits: [Edit], oldObject: JSONValue? = nil) throws -> ValidationReport {
    CanaryValidator().validate(try Fixture.defaultedSeed.applying(edits), oldObject: oldObject)
}

/// Checks a table row: a valid row yields no error; an invalid row yields its expected errors and nothing else.
func check(_ rule: RuleCase) throws {
    let report = try validate(rule.edits)
    let got = report.errors.isEmpty ? "no errors" : report.errors.aggregateDescription
    if rule.expected.isEmpty {
        #expect(report.errors.isEmpty, "\(rule.label) must be valid, got \(got)")
        return
    }
    for expected in rule.expected {
        #expect(report.errors.contains(where: expected.matches), "\(rule.label): expected \(expected), got \(got)")
    }
    for error in report.errors {
        #expect(rule.expected.contains { $0.matches(error) }, "\(rule.label): unexpected error \(error)")
    }
}

@Suite("Validation rules")
struct ValidationRuleTests {
    // MARK: the seed

    @Test(
        "the seed Canary is valid, as written and as defaulted",
        arguments: [
            Sample("as written", Fixture.seed), Sample("defaulted", Fixture.defaultedSeed),
        ]
    )
    func seedIsValid(sample: Sample) {
        let (form, canary) = (sample.name, sample.json)
        let report = CanaryValidator().validate(canary)
        #expect(report.errors.isEmpty, "the \(form) seed is refused: \(report.errors.aggregateDescription)")
        #expect(report.warnings.isEmpty, "the \(form) seed gets warnings: \(report.warnings)")
    }

    @Test("the embedded seed is the tutorial Canary of manifests/examples/canary.yaml")
    func seedMatchesExample() throws {
        #expect(try Fixture.yaml("manifests/examples/canary.yaml") == Fixture.seed)
    }

    // MARK: structure

    @Test(
        "required members",
        arguments: [
            RuleCase.valid("everything present", []),
            .invalid("no spec", [.remove("/spec")], .required("spec")),
            .invalid("no targetRef", [.remove("/spec/targetRef")], .required("spec.targetRef")),
            .invalid("no targetRef.name", [.remove("/spec/targetRef/name")], .required("spec.targetRef.name")),
            .invalid(
                "empty targetRef.name",
                [.set("/spec/targetRef/name", "")],
                .required("spec.targetRef.name", "name of the Deployment to release")
            ),
            .invalid(
                "no targetRef.apiVersion",
                [.remove("/spec/targetRef/apiVersion")],
                .required("spec.targetRef.apiVersion")
            ),
            .invalid("no analysis", [.remove("/spec/analysis")], .required("spec.analysis")),
            .invalid("no service", [.remove("/spec/service")], .required("spec.service", "add service.port")),
            .invalid("no service.port", [.remove("/spec/service/port")], .required("spec.service.port")),
            .invalid(
                "metric without name",
                [.remove("/spec/analysis/metrics/0/name")],
                .required("spec.analysis.metrics[0].name")
            ),
            .invalid(
                "webhook without url",
                [.remove("/spec/analysis/webhooks/0/url")],
                .required("spec.analysis.webhooks[0].url")
            ),
        ]
    )
    func requiredMembers(_ rule: RuleCase) throws { try check(rule) }

    @Test(
        "targetRef.kind is Deployment or DaemonSet",
        arguments: [
            RuleCase.valid("Deployment", []),
            .valid("DaemonSet", [.set("/spec/targetRef/kind", "DaemonSet")]),
            .invalid(
                "StatefulSet",
                [.set("/spec/targetRef/kind", "StatefulSet")],
                .notSupported(
                    "spec.targetRef.kind",
                    #"Unsupported value: "StatefulSet": supported values: "Deployment", "DaemonSet""#
                )
            ),
            .invalid(
                "Service",
                [.set("/spec/targetRef/kind", "Service")],
                .notSupported("spec.targetRef.kind", #""Service""#)
            ),
            .invalid(
                "lower-case deployment",
                [.set("/spec/targetRef/kind", "deployment")],
                .notSupported("spec.targetRef.kind", #""deployment""#)
            ),
        ]
    )
    func targetKind(_ rule: RuleCase) throws { try check(rule) }

    @Test(
        "targetRef.apiVersion of a Deployment or DaemonSet is apps/v1",
        arguments: [
            RuleCase.valid("apps/v1", []),
            .invalid(
                "apps/v1beta1",
                [.set("/spec/targetRef/apiVersion", "apps/v1beta1")],
                .notSupported(
                    "spec.targetRef.apiVersion",
                    #"Unsupported value: "apps/v1beta1": supported values: "apps/v1""#
                )
            ),
            .invalid(
                "extensions/v1beta1 DaemonSet",
                [.set("/spec/targetRef/kind", "DaemonSet"), .set("/spec/targetRef/apiVersion", "extensions/v1beta1")],
                .notSupported("spec.targetRef.apiVersion", #""extensions/v1beta1""#)
            ),
        ]
    )
    func targetAPIVersion(_ rule: RuleCase) throws { try check(rule) }

    @Test(
        "members have their schema types",
        arguments: [
            RuleCase.valid("stepWeight 5.0 is an integer", [.set("/spec/analysis/stepWeight", 5.0)]),
            .invalid(
                "stepWeight \"five\"",
                [.set("/spec/analysis/stepWeight", "five")],
                .typeInvalid("spec.analysis.stepWeight", #"Invalid value: "five": must be of type integer"#)
            ),
            .invalid(
                "stepWeight 5.5",
                [.set("/spec/analysis/stepWeight", 5.5)],
                .typeInvalid("spec.analysis.stepWeight", "Invalid value: 5.5: must be of type integer")
            ),
            .invalid(
                "threshold true",
                [.set("/spec/analysis/threshold", true)],
                .typeInvalid("spec.analysis.threshold", "Invalid value: true: must be of type integer")
            ),
            .invalid(
                "service.port \"9898\"",
                [.set("/spec/service/port", "9898")],
                .typeInvalid("spec.service.port", "must be of type integer")
            ),
            .invalid(
                "mirror \"yes\"",
                [.set("/spec/analysis/mirror", "yes")],
                .typeInvalid("spec.analysis.mirror", "must be of type boolean")
            ),
            .invalid(
                "metrics \"all\"",
                [.set("/spec/analysis/metrics", "all")],
                .typeInvalid("spec.analysis.metrics", "must be of type array")
            ),
            .invalid(
                "analysis as a list",
                [.set("/spec/analysis", [])],
                .typeInvalid("spec.analysis", #"Invalid value: "array": must be of type object"#)
            ),
            .invalid(
                "thresholdRange.min \"99\"",
                [.set("/spec/analysis/metrics/0/thresholdRange/min", "99")],
                .typeInvalid("spec.analysis.metrics[0].thresholdRange.min", "must be of type number")
            ),
            .invalid(
                "targetPort true",
                [.set("/spec/service/targetPort", true)],
                .typeInvalid("spec.service.targetPort", "must be an integer or a string")
            ),
        ]
    )
    func types(_ rule: RuleCase) throws { try check(rule) }

    // MARK: analysis shape and weights

    @Test(
        "exactly one of stepWeight, stepWeights and iterations",
        arguments: [
            RuleCase.valid("stepWeight", []),
            .valid("stepWeights", Edits.stepWeights([5, 10, 20])),
            .valid("iterations", Edits.blueGreen),
            .invalid(
                "none",
                [.remove("/spec/analysis/stepWeight")],
                .required("spec.analysis", "set one of stepWeight (with maxWeight), stepWeights or iterations")
            ),
            .invalid(
                "stepWeight and iterations",
                [.set("/spec/analysis/iterations", 10)],
                .forbidden("spec.analysis.iterations", "Forbidden: may not be set together with stepWeight")
            ),
            .invalid(
                "stepWeight and stepWeights",
                [.set("/spec/analysis/stepWeights", [10, 20])],
                .forbidden("spec.analysis.stepWeights", "may not be set together with stepWeight")
            ),
            .invalid(
                "stepWeights and iterations",
                Edits.stepWeights([10, 20]) + [.set("/spec/analysis/iterations", 10)],
                .forbidden("spec.analysis.iterations", "may not be set together with stepWeights")
            ),
            .invalid(
                "all three",
                [.set("/spec/analysis/stepWeights", [10, 20]), .set("/spec/analysis/iterations", 10)],
                .forbidden("spec.analysis.stepWeights", "may not be set together with stepWeight"),
                .forbidden("spec.analysis.iterations", "may not be set together with stepWeight")
            ),
        ]
    )
    func analysisShape(_ rule: RuleCase) throws { try check(rule) }

    @Test(
        "weights are between 1 and 100",
        arguments: [
            RuleCase.valid("stepWeight 1", [.set("/spec/analysis/stepWeight", 1)]),
            .valid("stepWeight 100", [.set("/spec/analysis/stepWeight", 100)]),
            .valid("maxWeight 50", [.set("/spec/analysis/maxWeight", 50)]),
            .valid("stepWeightPromotion 100", [.set("/spec/analysis/stepWeightPromotion", 100)]),
            .valid(
                "ready thresholds 50",
                [
                    .set("/spec/analysis/primaryReadyThreshold", 50), .set("/spec/analysis/canaryReadyThreshold", 1),
                ]
            ),
            .invalid(
                "stepWeight 0",
                [.set("/spec/analysis/stepWeight", 0)],
                .invalid("spec.analysis.stepWeight", "Invalid value: 0: must be between 1 and 100")
            ),
            .invalid(
                "stepWeight 150",
                [.set("/spec/analysis/stepWeight", 150)],
                .invalid("spec.analysis.stepWeight", "Invalid value: 150: must be between 1 and 100")
            ),
            .invalid(
                "stepWeight -5",
                [.set("/spec/analysis/stepWeight", -5)],
                .invalid("spec.analysis.stepWeight", "Invalid value: -5: must be between 1 and 100")
            ),
            .invalid(
                "maxWeight 101",
                [.set("/spec/analysis/maxWeight", 101)],
                .invalid("spec.analysis.maxWeight", "Invalid value: 101: must be between 1 and 100")
            ),
            .invalid(
                "maxWeight 0",
                [.set("/spec/analysis/maxWeight", 0)],
                .invalid("spec.analysis.maxWeight", "Invalid value: 0: must be between 1 and 100")
            ),
            .invalid(
                "stepWeightPromotion 0",
                [.set("/spec/analysis/stepWeightPromotion", 0)],
                .invalid("spec.analysis.stepWeightPromotion", "Invalid value: 0: must be between 1 and 100")
            ),
            .invalid(
                "stepWeightPromotion 101",
                [.set("/spec/analysis/stepWeightPromotion", 101)],
                .invalid("spec.analysis.stepWeightPromotion", "Invalid value: 101: must be between 1 and 100")
            ),
            .invalid(
                "primaryReadyThreshold 0",
                [.set("/spec/analysis/primaryReadyThreshold", 0)],
                .invalid("spec.analysis.primaryReadyThreshold", "must be between 1 and 100 (percent of replicas")
            ),
            .invalid(
                "canaryReadyThreshold 101",
                [.set("/spec/analysis/canaryReadyThreshold", 101)],
                .invalid("spec.analysis.canaryReadyThreshold", "Invalid value: 101: must be between 1 and 100")
            ),
        ]
    )
    func weightRange(_ rule: RuleCase) throws { try check(rule) }

    @Test(
        "stepWeight is at most maxWeight",
        arguments: [
            RuleCase.valid("50 of 50", [.set("/spec/analysis/maxWeight", 50), .set("/spec/analysis/stepWeight", 50)]),
            .invalid(
                "60 of 50",
                [.set("/spec/analysis/maxWeight", 50), .set("/spec/analysis/stepWeight", 60)],
                .invalid("spec.analysis.stepWeight", "Invalid value: 60: must be less than or equal to maxWeight (50)")
            ),
            .invalid(
                "150 of 50 is out of range, not above maxWeight",
                [.set("/spec/analysis/maxWeight", 50), .set("/spec/analysis/stepWeight", 150)],
                .invalid("spec.analysis.stepWeight", "Invalid value: 150: must be between 1 and 100")
            ),
        ]
    )
    func stepWeightBelowMaxWeight(_ rule: RuleCase) throws { try check(rule) }

    @Test(
        "stepWeights strictly increase, within 1-100 and maxWeight",
        arguments: [
            RuleCase.valid("1, 10, 50, 100", Edits.stepWeights([1, 10, 50, 100])),
            .valid("up to maxWeight 20", Edits.stepWeights([5, 10, 20]) + [.set("/spec/analysis/maxWeight", 20)]),
            .invalid(
                "10, 10, 20",
                Edits.stepWeights([10, 10, 20]),
                .invalid(
                    "spec.analysis.stepWeights[1]",
                    "Invalid value: 10: must be greater than the previous step (10)"
                )
            ),
            .invalid(
                "10, 50, 20",
                Edits.stepWeights([10, 50, 20]),
                .invalid(
                    "spec.analysis.stepWeights[2]",
                    "Invalid value: 20: must be greater than the previous step (50)"
                )
            ),
            .invalid(
                "10, 120",
                Edits.stepWeights([10, 120]),
                .invalid("spec.analysis.stepWeights[1]", "Invalid value: 120: must be between 1 and 100")
            ),
            .invalid(
                "0, 10",
                Edits.stepWeights([0, 10]),
                .invalid("spec.analysis.stepWeights[0]", "Invalid value: 0: must be between 1 and 100")
            ),
            .invalid(
                "10, 60 above maxWeight 50",
                Edits.stepWeights([10, 60]) + [.set("/spec/analysis/maxWeight", 50)],
                .invalid(
                    "spec.analysis.stepWeights[1]",
                    "Invalid value: 60: must be less than or equal to maxWeight (50)"
                )
            ),
            .invalid(
                "empty",
                Edits.stepWeights([]),
                .required("spec.analysis.stepWeights", "list the canary weights in order")
            ),
        ]
    )
    func stepWeights(_ rule: RuleCase) throws { try check(rule) }

    @Test(
        "iterations is at least 1",
        arguments: [
            RuleCase.valid("10", Edits.blueGreen),
            .valid("1", Edits.blueGreen + [.set("/spec/analysis/iterations", 1)]),
            .invalid(
                "0",
                Edits.blueGreen + [.set("/spec/analysis/iterations", 0)],
                .invalid("spec.analysis.iterations", "Invalid value: 0: must be at least 1")
            ),
            .invalid(
                "-1",
                Edits.blueGreen + [.set("/spec/analysis/iterations", -1)],
                .invalid("spec.analysis.iterations", "Invalid value: -1: must be at least 1")
            ),
        ]
    )
    func iterations(_ rule: RuleCase) throws { try check(rule) }

    // MARK: durations and counts

    @Test(
        "analysis.interval is a Go duration of at least 10s",
        arguments: [
            RuleCase.valid("10s", [.set("/spec/analysis/interval", "10s")]),
            .valid("1m", [.set("/spec/analysis/interval", "1m")]),
            .valid("1m30s", [.set("/spec/analysis/interval", "1m30s")]),
            .valid("90s", [.set("/spec/analysis/interval", "90s")]),
            .invalid(
                "5s",
                [.set("/spec/analysis/interval", "5s")],
                .invalid("spec.analysis.interval", #"Invalid value: "5s": must be at least 10s"#)
            ),
            .invalid(
                "9s",
                [.set("/spec/analysis/interval", "9s")],
                .invalid("spec.analysis.interval", #"Invalid value: "9s": must be at least 10s"#)
            ),
            .invalid(
                "5x",
                [.set("/spec/analysis/interval", "5x")],
                .invalid(
                    "spec.analysis.interval",
                    #"Invalid value: "5x": must be a Go duration such as 30s, 1m or 1m30s"#
                )
            ),
            .invalid(
                "empty",
                [.set("/spec/analysis/interval", "")],
                .invalid("spec.analysis.interval", "must be a Go duration")
            ),
            .invalid(
                "0s",
                [.set("/spec/analysis/interval", "0s")],
                .invalid("spec.analysis.interval", "must be longer than 0s")
            ),
            .invalid(
                "1h is outside Flagger's CRD pattern",
                [.set("/spec/analysis/interval", "1h")],
                .invalid("spec.analysis.interval", "pattern '^[0-9]+(m|s)'")
            ),
        ]
    )
    func interval(_ rule: RuleCase) throws { try check(rule) }

    @Test(
        "threshold and progressDeadlineSeconds are at least 1",
        arguments: [
            RuleCase.valid("threshold 1", [.set("/spec/analysis/threshold", 1)]),
            .valid("progressDeadlineSeconds 1", [.set("/spec/progressDeadlineSeconds", 1)]),
            .invalid(
                "threshold 0",
                [.set("/spec/analysis/threshold", 0)],
                .invalid("spec.analysis.threshold", "Invalid value: 0: must be at least 1 (the number of failed checks")
            ),
            .invalid(
                "threshold -3",
                [.set("/spec/analysis/threshold", -3)],
                .invalid("spec.analysis.threshold", "Invalid value: -3: must be at least 1")
            ),
            .invalid(
                "progressDeadlineSeconds 0",
                [.set("/spec/progressDeadlineSeconds", 0)],
                .invalid("spec.progressDeadlineSeconds", "Invalid value: 0: must be at least 1")
            ),
            .invalid(
                "progressDeadlineSeconds -60",
                [.set("/spec/progressDeadlineSeconds", -60)],
                .invalid("spec.progressDeadlineSeconds", "Invalid value: -60: must be at least 1")
            ),
        ]
    )
    func counts(_ rule: RuleCase) throws { try check(rule) }

    // MARK: service

    @Test(
        "service.port is between 1 and 65535",
        arguments: [
            RuleCase.valid("1", [.set("/spec/service/port", 1)]),
            .valid("65535", [.set("/spec/service/port", 65535)]),
            .invalid(
                "0",
                [.set("/spec/service/port", 0)],
                .invalid("spec.service.port", "Invalid value: 0: must be between 1 and 65535")
            ),
            .invalid(
                "65536",
                [.set("/spec/service/port", 65536)],
                .invalid("spec.service.port", "Invalid value: 65536: must be between 1 and 65535")
            ),
        ]
    )
    func servicePort(_ rule: RuleCase) throws { try check(rule) }

    @Test(
        "service.targetPort is a port number or a port name",
        arguments: [
            RuleCase.valid("8080", [.set("/spec/service/targetPort", 8080)]),
            .valid("http", [.set("/spec/service/targetPort", "http")]),
            .valid("metrics-9", [.set("/spec/service/targetPort", "metrics-9")]),
            .invalid(
                "0",
                [.set("/spec/service/targetPort", 0)],
                .invalid("spec.service.targetPort", "Invalid value: 0: must be between 1 and 65535")
            ),
            .invalid(
                "70000",
                [.set("/spec/service/targetPort", 70000)],
                .invalid("spec.service.targetPort", "Invalid value: 70000: must be between 1 and 65535")
            ),
            .invalid(
                "HTTP",
                [.set("/spec/service/targetPort", "HTTP")],
                .invalid("spec.service.targetPort", "must be a port number or a container port name")
            ),
            .invalid(
                "http--web",
                [.set("/spec/service/targetPort", "http--web")],
                .invalid("spec.service.targetPort", #"Invalid value: "http--web""#)
            ),
            .invalid(
                "16 characters",
                [.set("/spec/service/targetPort", "port-name-abcdef")],
                .invalid("spec.service.targetPort", "at most 15 lower-case letters")
            ),
            .invalid(
                "\"8080\" has no letter",
                [.set("/spec/service/targetPort", "8080")],
                .invalid("spec.service.targetPort", #"Invalid value: "8080""#)
            ),
            .invalid(
                "-http",
                [.set("/spec/service/targetPort", "-http")],
                .invalid("spec.service.targetPort", #"Invalid value: "-http""#)
            ),
        ]
    )
    func targetPort(_ rule: RuleCase) throws { try check(rule) }

    @Test(
        "service.portName is a DNS-1123 label",
        arguments: [
            RuleCase.valid("http", []),
            .valid("grpc", [.set("/spec/service/portName", "grpc")]),
            .valid("http-metrics", [.set("/spec/service/portName", "http-metrics")]),
            .invalid(
                "HTTP",
                [.set("/spec/service/portName", "HTTP")],
                .invalid(
                    "spec.service.portName",
                    #"Invalid value: "HTTP": must be a DNS-1123 label such as http or grpc"#
                )
            ),
            .invalid(
                "http_web",
                [.set("/spec/service/portName", "http_web")],
                .invalid("spec.service.portName", "must be a DNS-1123 label")
            ),
        ]
    )
    func portName(_ rule: RuleCase) throws { try check(rule) }

    // MARK: metrics

    @Test(
        "thresholdRange.min is at most thresholdRange.max",
        arguments: [
            RuleCase.valid("1 to 5", [.set("/spec/analysis/metrics/0/thresholdRange", ["min": 1, "max": 5])]),
            .valid("5 to 5", [.set("/spec/analysis/metrics/0/thresholdRange", ["min": 5, "max": 5])]),
            .invalid(
                "99 to 50",
                [.set("/spec/analysis/metrics/0/thresholdRange", ["min": 99, "max": 50])],
                .invalid(
                    "spec.analysis.metrics[0].thresholdRange.min",
                    "Invalid value: 99: must be less than or equal to thresholdRange.max (50)"
                )
            ),
            .invalid(
                "0.5 to 0.25",
                [.set("/spec/analysis/metrics/1/thresholdRange", ["min": 0.5, "max": 0.25])],
                .invalid(
                    "spec.analysis.metrics[1].thresholdRange.min",
                    "Invalid value: 0.5: must be less than or equal to thresholdRange.max (0.25)"
                )
            ),
        ]
    )
    func thresholdRange(_ rule: RuleCase) throws { try check(rule) }

    @Test(
        "a metric is built in, or has a templateRef or a query, not both",
        arguments: [
            RuleCase.valid("built-in request-duration", []),
            .valid(
                "templateRef",
                Edits.metric([
                    "name": "error-rate", "templateRef": ["name": "error-rate", "namespace": "flagger"],
                    "thresholdRange": ["max": 1],
                ])
            ),
            .valid(
                "inline query",
                Edits.metric(["name": "error-rate", "query": "sum(rate(errors[1m]))", "thresholdRange": ["max": 1]])
            ),
            .invalid(
                "neither",
                Edits.metric(["name": "error-rate", "thresholdRange": ["max": 1]]),
                .required("spec.analysis.metrics[2].templateRef", #"metric "error-rate" is not built in"#)
            ),
            .invalid(
                "both",
                Edits.metric([
                    "name": "error-rate", "query": "sum(rate(errors[1m]))", "templateRef": ["name": "error-rate"],
                    "thresholdRange": ["max": 1],
                ]),
                .forbidden("spec.analysis.metrics[2].query", "set either query or templateRef, not both")
            ),
            .invalid(
                "blank query",
                Edits.metric(["name": "error-rate", "query": "  ", "thresholdRange": ["max": 1]]),
                .invalid("spec.analysis.metrics[2].query", "must not be empty")
            ),
            .invalid(
                "templateRef without a name",
                Edits.metric(["name": "error-rate", "templateRef": ["name": ""], "thresholdRange": ["max": 1]]),
                .required("spec.analysis.metrics[2].templateRef.name")
            ),
            .invalid(
                "empty name",
                [.set("/spec/analysis/metrics/0/name", "")],
                .required("spec.analysis.metrics[0].name")
            ),
            .invalid(
                "interval 1x",
                [.set("/spec/analysis/metrics/0/interval", "1x")],
                .invalid("spec.analysis.metrics[0].interval", #"Invalid value: "1x": must be a Go duration"#)
            ),
        ]
    )
    func metricSource(_ rule: RuleCase) throws { try check(rule) }

    @Test(
        "metric, webhook and alert names are unique",
        arguments: [
            RuleCase.valid("distinct", Edits.alert(severity: "info")),
            .invalid(
                "two request-success-rate metrics",
                [.set("/spec/analysis/metrics/1/name", "request-success-rate")],
                .duplicate("spec.analysis.metrics[1].name", #"Duplicate value: "request-success-rate""#)
            ),
            .invalid(
                "two acceptance-test webhooks",
                [.set("/spec/analysis/webhooks/1/name", "acceptance-test")],
                .duplicate("spec.analysis.webhooks[1].name", #"Duplicate value: "acceptance-test""#)
            ),
            .invalid(
                "two on-call alerts",
                [
                    .set(
                        "/spec/analysis/alerts",
                        [
                            ["name": "on-call", "providerRef": ["name": "a"]],
                            ["name": "on-call", "providerRef": ["name": "b"]],
                        ]
                    )
                ],
                .duplicate("spec.analysis.alerts[1].name", #"Duplicate value: "on-call""#)
            ),
        ]
    )
    func uniqueNames(_ rule: RuleCase) throws { try check(rule) }

    // MARK: webhooks and alerts

    @Test(
        "a webhook URL is an absolute http or https URL",
        arguments: [
            RuleCase.valid(
                "http://flagger-loadtester.prod/",
                [.set("/spec/analysis/webhooks/0/url", "http://flagger-loadtester.prod/")]
            ),
            .valid("https://x:8443/a", [.set("/spec/analysis/webhooks/0/url", "https://x:8443/a")]),
            .valid(
                "with port, path and query",
                [.set("/spec/analysis/webhooks/0/url", "http://flagger-loadtester.prod:80/gate/approve?x=1")]
            ),
            .valid("an IPv6 host", [.set("/spec/analysis/webhooks/0/url", "http://[::1]:8080/")]),
            .invalid(
                "flagger-loadtester.prod/",
                [.set("/spec/analysis/webhooks/0/url", "flagger-loadtester.prod/")],
                .invalid(
                    "spec.analysis.webhooks[0].url",
                    #"Invalid value: "flagger-loadtester.prod/": must be an absolute http or https URL"#
                )
            ),
            .invalid(
                "ftp://x/",
                [.set("/spec/analysis/webhooks/0/url", "ftp://x/")],
                .invalid(
                    "spec.analysis.webhooks[0].url",
                    #"Invalid value: "ftp://x/": scheme ftp is not allowed; use http or https"#
                )
            ),
            .invalid(
                "http:///x",
                [.set("/spec/analysis/webhooks/0/url", "http:///x")],
                .invalid("spec.analysis.webhooks[0].url", #"Invalid value: "http:///x""#)
            ),
            .invalid(
                "port 99999",
                [.set("/spec/analysis/webhooks/1/url", "http://x:99999/")],
                .invalid("spec.analysis.webhooks[1].url", #"Invalid value: "http://x:99999/""#)
            ),
            .invalid(
                "port 99999 on an IPv6 host",
                [.set("/spec/analysis/webhooks/0/url", "http://[::1]:99999/")],
                .invalid("spec.analysis.webhooks[0].url", #"Invalid value: "http://[::1]:99999/""#)
            ),
            .invalid(
                "user but no host",
                [.set("/spec/analysis/webhooks/0/url", "http://user@/x")],
                .invalid("spec.analysis.webhooks[0].url", #"Invalid value: "http://user@/x""#)
            ),
            .invalid(
                "space in host",
                [.set("/spec/analysis/webhooks/0/url", "http://load tester/")],
                .invalid("spec.analysis.webhooks[0].url", "may contain no spaces, control or non-ASCII characters")
            ),
            .invalid(
                "empty",
                [.set("/spec/analysis/webhooks/0/url", "")],
                .required("spec.analysis.webhooks[0].url", "e.g. http://flagger-loadtester.test/")
            ),
        ]
    )
    func webhookURL(_ rule: RuleCase) throws { try check(rule) }

    @Test(
        "a webhook type is one Flagger calls",
        arguments: [
            "", "confirm-rollout", "pre-rollout", "rollout", "confirm-promotion", "post-rollout", "event", "rollback",
            "confirm-traffic-increase",
        ]
    )
    func webhookTypeAccepted(type: String) throws {
        try check(.valid(type, [.set("/spec/analysis/webhooks/0/type", .string(type))]))
    }

    @Test("other webhook types are refused with the list of types", arguments: ["pre_rollout", "Rollout", "canary"])
    func webhookTypeRefused(type: String) throws {
        try check(
            .invalid(
                type,
                [.set("/spec/analysis/webhooks/0/type", .string(type))],
                .notSupported(
                    "spec.analysis.webhooks[0].type",
                    #"Unsupported value: "\#(type)": supported values: "", "confirm-rollout", "pre-rollout", "rollout""#
                )
            )
        )
    }

    @Test(
        "a webhook timeout is a positive Go duration; retries are not negative",
        arguments: [
            RuleCase.valid("30s", [.set("/spec/analysis/webhooks/0/timeout", "30s")]),
            .valid("1m", [.set("/spec/analysis/webhooks/0/timeout", "1m")]),
            .valid("1m30s", [.set("/spec/analysis/webhooks/0/timeout", "1m30s")]),
            .valid("retries 3", [.set("/spec/analysis/webhooks/0/retries", 3)]),
            .invalid(
                "30x",
                [.set("/spec/analysis/webhooks/0/timeout", "30x")],
                .invalid("spec.analysis.webhooks[0].timeout", #"Invalid value: "30x": must be a Go duration"#)
            ),
            .invalid(
                "0s",
                [.set("/spec/analysis/webhooks/1/timeout", "0s")],
                .invalid("spec.analysis.webhooks[1].timeout", "must be longer than 0s")
            ),
            .invalid(
                "retries -1",
                [.set("/spec/analysis/webhooks/0/retries", -1)],
                .invalid("spec.analysis.webhooks[0].retries", "Invalid value: -1: must be between 0 and 10")
            ),
        ]
    )
    func webhookTimeout(_ rule: RuleCase) throws { try check(rule) }

    @Test(
        "an alert has a known severity and a provider",
        arguments: [
            RuleCase.valid("info", Edits.alert(severity: "info")),
            .valid("warn", Edits.alert(severity: "warn")),
            .valid("error", Edits.alert(severity: "error")),
            .valid("empty", Edits.alert(severity: "")),
            .invalid(
                "critical",
                Edits.alert(severity: "critical"),
                .notSupported(
                    "spec.analysis.alerts[0].severity",
                    #"Unsupported value: "critical": supported values: "", "info", "warn", "error""#
                )
            ),
            .invalid(
                "no provider name",
                Edits.alert(severity: "info") + [.set("/spec/analysis/alerts/0/providerRef/name", "")],
                .required("spec.analysis.alerts[0].providerRef.name", "an AlertProvider name")
            ),
            .invalid(
                "no providerRef",
                Edits.alert(severity: "info") + [.remove("/spec/analysis/alerts/0/providerRef")],
                .required("spec.analysis.alerts[0].providerRef")
            ),
        ]
    )
    func alerts(_ rule: RuleCase) throws { try check(rule) }

    // MARK: providers

    @Test(
        "unsupported providers are refused, listing the supported ones",
        arguments: [
            "istio", "contour", "nginx", "appmesh", "traefik", "foo",
        ]
    )
    func unsupportedProvider(name: String) throws {
        try check(
            .invalid(
                name,
                Edits.provider(name),
                .notSupported(
                    "spec.provider",
                    #"Unsupported value: "\#(name)": supported values: "linkerd", "smi:v1alpha1", "smi:v1alpha2", "#
                        + #""smi:v1alpha3", "gatewayapi:v1", "gatewayapi:v1beta1", "kubernetes""#
                )
            )
        )
    }

    @Test("istio is refused with the supported providers and a note that Fledge does not drive it")
    func istioMessage() throws {
        let report = try validate(Edits.provider("istio"))
        #expect(
            report.errors.map(\.description) == [
                #"spec.provider: Unsupported value: "istio": supported values: "linkerd", "smi:v1alpha1", "#
                    + #""smi:v1alpha2", "smi:v1alpha3", "gatewayapi:v1", "gatewayapi:v1beta1", "kubernetes" "#
                    + "(Fledge drives Linkerd through SMI or Gateway API; istio is not driven)"
            ]
        )
    }

    @Test("each supported provider is accepted", arguments: Provider.allCases)
    func supportedProvider(_ provider: Provider) throws {
        let edits: [Edit]
        switch provider {
        case .gatewayAPIV1, .gatewayAPIV1beta1: edits = Edits.gatewayAPI(provider.rawValue)
        case .kubernetes: edits = Edits.provider("kubernetes") + Edits.blueGreen
        default: edits = Edits.provider(provider.rawValue)
        }
        try check(.valid(provider.rawValue, edits))
    }

    @Test(
        "Gateway API providers need service.gatewayRefs",
        arguments: [
            RuleCase.valid("gatewayapi:v1 with gatewayRefs", Edits.gatewayAPI("gatewayapi:v1")),
            .invalid(
                "gatewayapi:v1 without",
                Edits.provider("gatewayapi:v1"),
                .required(
                    "spec.service.gatewayRefs",
                    "add service.gatewayRefs, for the mesh [{name: podinfo, kind: Service, group: core, port: 9898}]"
                )
            ),
            .invalid(
                "gatewayapi:v1beta1 without",
                Edits.provider("gatewayapi:v1beta1"),
                .required("spec.service.gatewayRefs", "provider gatewayapi:v1beta1 attaches an HTTPRoute to a parent")
            ),
            .invalid(
                "empty gatewayRefs",
                Edits.gatewayAPI() + [.set("/spec/service/gatewayRefs", [])],
                .required("spec.service.gatewayRefs", "add service.gatewayRefs")
            ),
            .invalid(
                "gatewayRef port 0",
                Edits.gatewayAPI() + [.set("/spec/service/gatewayRefs/0/port", 0)],
                .invalid("spec.service.gatewayRefs[0].port", "must be greater than or equal to 1")
            ),
        ]
    )
    func gatewayRefs(_ rule: RuleCase) throws { try check(rule) }

    @Test(
        "mirroring needs a Gateway API provider",
        arguments: [
            RuleCase.valid("gatewayapi:v1", Edits.gatewayAPI() + [.set("/spec/analysis/mirror", true)]),
            .valid(
                "gatewayapi:v1beta1",
                Edits.gatewayAPI("gatewayapi:v1beta1") + [.set("/spec/analysis/mirror", true)]
            ),
            .valid("mirror false on linkerd", [.set("/spec/analysis/mirror", false)]),
            .invalid(
                "linkerd",
                [.set("/spec/analysis/mirror", true)],
                .forbidden(
                    "spec.analysis.mirror",
                    "traffic mirroring needs a provider that can mirror (gatewayapi:v1, gatewayapi:v1beta1); "
                        + "linkerd cannot"
                )
            ),
            .invalid(
                "smi:v1alpha3",
                Edits.provider("smi:v1alpha3") + [.set("/spec/analysis/mirror", true)],
                .forbidden("spec.analysis.mirror", "smi:v1alpha3 cannot")
            ),
            .invalid(
                "mirrorWeight 101",
                Edits.gatewayAPI() + [.set("/spec/analysis/mirror", true), .set("/spec/analysis/mirrorWeight", 101)],
                .invalid("spec.analysis.mirrorWeight", "Invalid value: 101: must be between 0 and 100")
            ),
        ]
    )
    func mirror(_ rule: RuleCase) throws { try check(rule) }

    @Test(
        "A/B match needs a Gateway API provider and iterations",
        arguments: [
            RuleCase.valid("gatewayapi:v1 with iterations", Edits.gatewayAPI() + Edits.blueGreen + Edits.match),
            .valid("an empty match on linkerd", [.set("/spec/analysis/match", [])]),
            .invalid(
                "linkerd with iterations",
                Edits.blueGreen + Edits.match,
                .forbidden("spec.analysis.match", "A/B testing by headers or cookies needs a provider that can route")
            ),
            .invalid(
                "gatewayapi:v1 with stepWeight",
                Edits.gatewayAPI() + Edits.match,
                .required("spec.analysis.iterations", "A/B testing (match) runs a number of iterations")
            ),
            .invalid(
                "linkerd with stepWeight",
                Edits.match,
                .forbidden("spec.analysis.match", "linkerd cannot"),
                .required("spec.analysis.iterations", "set iterations")
            ),
            .invalid(
                "two matchers for one header",
                Edits.gatewayAPI() + Edits.blueGreen
                    + [.set("/spec/analysis/match", [["headers": ["x-canary": ["exact": "a", "prefix": "b"]]]])],
                .forbidden("spec.analysis.match[0].headers[x-canary]", "may have at most 1 of")
            ),
            .invalid(
                "a header prefix, which Gateway API cannot match",
                Edits.gatewayAPI() + Edits.blueGreen
                    + [.set("/spec/analysis/match", [["headers": ["x-canary": ["prefix": "in"]]]])],
                .invalid(
                    "spec.analysis.match[0].headers[x-canary]",
                    "exactly or by regex, not by prefix; use exact or regex (a prefix p is the regex ^p.*)"
                )
            ),
            .invalid(
                "an A/B match on source labels, which Gateway API cannot express",
                Edits.gatewayAPI() + Edits.blueGreen
                    + [.set("/spec/analysis/match", [["sourceLabels": ["app": "frontend"]]])],
                .invalid(
                    "spec.analysis.match[0].sourceLabels",
                    "Gateway API cannot match requests on sourceLabels; match on uri, method, headers or queryParams"
                )
            ),
            .invalid(
                "an A/B selection by path, which would be dropped when merged with the service's matches",
                Edits.gatewayAPI() + Edits.blueGreen
                    + [
                        .set(
                            "/spec/analysis/match",
                            [["headers": ["x-canary": ["exact": "a"]], "uri": ["prefix": "/beta"]]]
                        )
                    ],
                .invalid("spec.analysis.match[0].uri", "put the path in spec.service.match")
            ),
            .invalid(
                "withoutHeaders beside a header that can be matched",
                Edits.gatewayAPI() + Edits.blueGreen
                    + [
                        .set(
                            "/spec/analysis/match",
                            [["headers": ["x-canary": ["exact": "a"]], "withoutHeaders": ["x-b": ["exact": "1"]]]]
                        )
                    ],
                .invalid("spec.analysis.match[0].withoutHeaders", "Gateway API cannot match requests on withoutHeaders")
            ),
            .invalid(
                "a service match on a method prefix",
                Edits.gatewayAPI() + [.set("/spec/service/match", [["method": ["prefix": "G"]]])],
                .invalid("spec.service.match[0].method", "Gateway API matches a method exactly; use exact")
            ),
            .valid(
                "a service match on a path prefix and a query parameter regex",
                Edits.gatewayAPI()
                    + [
                        .set(
                            "/spec/service/match",
                            [["uri": ["prefix": "/api"], "queryParams": ["v": ["regex": "2.*"]]]]
                        )
                    ]
            ),
        ]
    )
    func match(_ rule: RuleCase) throws { try check(rule) }

    @Test(
        "the kubernetes provider needs iterations",
        arguments: [
            RuleCase.valid("iterations", Edits.provider("kubernetes") + Edits.blueGreen),
            .invalid(
                "stepWeight",
                Edits.provider("kubernetes"),
                .forbidden(
                    "spec.analysis.stepWeight",
                    "provider kubernetes cannot shift traffic by weight; use iterations (blue/green)"
                )
            ),
            .invalid(
                "stepWeights",
                Edits.provider("kubernetes") + Edits.stepWeights([10, 20]),
                .forbidden("spec.analysis.stepWeights", "provider kubernetes cannot shift traffic by weight")
            ),
        ]
    )
    func kubernetesProvider(_ rule: RuleCase) throws { try check(rule) }

    // MARK: names

    @Test(
        "derived names fit in 63 characters",
        arguments: [
            RuleCase.valid("a 55-character target", Edits.targetName(Names.fits)),
            .valid("a 55-character service name", Edits.serviceName(Names.fits)),
            .invalid(
                "a 56-character target",
                Edits.targetName(Names.tooLong),
                .invalid("spec.targetRef.name", "would be 64 characters; at most 63 are allowed, so shorten this to 55")
            ),
            .invalid(
                "a 56-character target with a short service name",
                Edits.targetName(Names.tooLong) + Edits.serviceName("podinfo"),
                .invalid("spec.targetRef.name", "the primary Deployment name")
            ),
            .invalid(
                "a 56-character service name",
                Edits.serviceName(Names.tooLong),
                .invalid("spec.service.name", "the primary Service name")
            ),
        ]
    )
    func derivedNames(_ rule: RuleCase) throws { try check(rule) }

    @Test("a 56-character target names a primary Deployment 64 characters long")
    func derivedNameMessage() throws {
        let report = try validate(Edits.targetName(Names.tooLong))
        let expected =
            #"spec.targetRef.name: Invalid value: "\#(Names.tooLong)": the primary Deployment name "#
            + #""\#(Names.tooLong)-primary" would be 64 characters; at most 63 are allowed, "#
            + "so shorten this to 55 characters"
        #expect(report.errors.map(\.description).contains(expected), "got \(report.errors.aggregateDescription)")
    }

    @Test(
        "names follow the DNS rules of the objects made from them",
        arguments: [
            RuleCase.valid("podinfo-v2", Edits.targetName("podinfo-v2")),
            .valid("1podinfo with a service name", Edits.targetName("1podinfo") + Edits.serviceName("podinfo")),
            .invalid(
                "1podinfo as the Service name",
                Edits.targetName("1podinfo"),
                .invalid(
                    "spec.targetRef.name",
                    "is used as the Service name, which must be a DNS-1035 label (starting with a letter)"
                )
            ),
            .invalid(
                "podinfo.v2 as the Service name",
                Edits.targetName("podinfo.v2"),
                .invalid("spec.targetRef.name", "set service.name to a valid Service name")
            ),
            .invalid(
                "Podinfo",
                Edits.targetName("Podinfo") + Edits.serviceName("podinfo"),
                .invalid("spec.targetRef.name", #"Invalid value: "Podinfo": must be a DNS-1123 name"#)
            ),
            .invalid(
                "service name 1svc",
                Edits.serviceName("1svc"),
                .invalid("spec.service.name", #"Invalid value: "1svc": must be a DNS-1035 label"#)
            ),
            .invalid(
                "service name svc-",
                Edits.serviceName("svc-"),
                .invalid("spec.service.name", "must be a DNS-1035 label")
            ),
        ]
    )
    func dnsNames(_ rule: RuleCase) throws { try check(rule) }

    // MARK: updates

    struct ReleaseChange: Sendable, CustomTestStringConvertible {
        var label: String
        var edits: [Edit]
        /// The field reported as Forbidden while a release runs; `nil` for changes allowed at any time.
        var frozenField: String?

        var testDescription: String { label }
    }

    static let releaseChanges = [
        ReleaseChange(label: "targetRef.name", edits: Edits.targetName("podinfo-v2"), frozenField: "spec.targetRef"),
        ReleaseChange(
            label: "targetRef.kind",
            edits: [.set("/spec/targetRef/kind", "DaemonSet")],
            frozenField: "spec.targetRef"
        ),
        ReleaseChange(
            label: "service.name",
            edits: Edits.serviceName("podinfo-apex"),
            frozenField: "spec.service.name"
        ),
        ReleaseChange(label: "provider", edits: Edits.provider("smi:v1alpha2"), frozenField: "spec.provider"),
        ReleaseChange(label: "stepWeight", edits: [.set("/spec/analysis/stepWeight", 10)], frozenField: nil),
        ReleaseChange(label: "nothing", edits: [], frozenField: nil),
    ]

    @Test(
        "targetRef, service.name and provider are frozen while a release is in progress",
        arguments:
            CanaryPhase.allCases,
        releaseChanges
    )
    func immutableDuringRelease(phase: CanaryPhase, change: ReleaseChange) throws {
        let releasing: Set<CanaryPhase> = [.progressing, .waitingPromotion, .promoting, .finalising]
        let old = try Fixture.defaultedSeed.applying([.set("/status", ["phase": .string(phase.rawValue)])])
        let report = try validate(change.edits, oldObject: old)
        if releasing.contains(phase), let field = change.frozenField {
            #expect(
                report.errors.map(\.description) == [
                    "\(field): Forbidden: may not change while a release is \(phase.rawValue); "
                        + "wait for it to finish or abort it first"
                ]
            )
        } else {
            #expect(report.errors.isEmpty, "got \(report.errors.aggregateDescription)")
        }
    }

    @Test("the same changes are free when the Canary is created")
    func changesOnCreate() throws {
        for change in Self.releaseChanges {
            #expect(try validate(change.edits).errors.isEmpty, "\(change.label)")
        }
    }

    // MARK: warnings

    struct WarningCase: Sendable, CustomTestStringConvertible {
        var label: String
        var edits: [Edit]
        var warnings: [String]

        var testDescription: String { label }
    }

    @Test(
        "deprecated and ineffective fields are warnings, not errors",
        arguments: [
            WarningCase(
                label: "threshold on request-success-rate",
                edits: [.set("/spec/analysis/metrics/0/threshold", 99)],
                warnings: ["spec.analysis.metrics[0].threshold is deprecated: use thresholdRange: {min: 99}"]
            ),
            WarningCase(
                label: "threshold instead of thresholdRange on request-duration",
                edits: [
                    .remove("/spec/analysis/metrics/1/thresholdRange"), .set("/spec/analysis/metrics/1/threshold", 500),
                ],
                warnings: ["spec.analysis.metrics[1].threshold is deprecated: use thresholdRange: {max: 500}"]
            ),
            WarningCase(
                label: "no thresholdRange",
                edits: [.remove("/spec/analysis/metrics/0/thresholdRange")],
                warnings: [
                    "spec.analysis.metrics[0] (request-success-rate) has no thresholdRange, so it can never fail"
                ]
            ),
            WarningCase(
                label: "mirrorWeight without mirror",
                edits: [.set("/spec/analysis/mirrorWeight", 50)],
                warnings: ["spec.analysis.mirrorWeight has no effect without spec.analysis.mirror: true"]
            ),
            WarningCase(
                label: "mirror with weight steps",
                edits: Edits.gatewayAPI() + [.set("/spec/analysis/mirror", true)],
                warnings: [
                    "spec.analysis.mirror mirrors traffic only in blue/green releases (iterations); "
                        + "with weight steps it has no effect"
                ]
            ),
            WarningCase(
                label: "a DaemonSet target",
                edits: [.set("/spec/targetRef/kind", "DaemonSet")],
                warnings: [
                    "spec.targetRef.kind: Fledge does not release DaemonSets yet; "
                        + "this Canary will wait with a warning event until its target is a Deployment"
                ]
            ),
            WarningCase(
                label: "sessionAffinity",
                edits: Edits.gatewayAPI() + [.set("/spec/analysis/sessionAffinity", ["cookieName": "flagger-cookie"])],
                warnings: [
                    "spec.analysis.sessionAffinity is not supported by Fledge: requests are split by weight only"
                ]
            ),
        ]
    )
    func warnings(_ warning: WarningCase) throws {
        let report = try validate(warning.edits)
        #expect(report.errors.isEmpty, "got \(report.errors.aggregateDescription)")
        #expect(report.warnings == warning.warnings)
    }

    static let notRead =
        "spec.canaryAnalysis is not read (not in flagger.app/v1beta1; the API server drops it): "
        + "rename it to spec.analysis"

    @Test("spec.canaryAnalysis is reported as not read, in words that agree with the unknown-field warning")
    func canaryAnalysisDeprecated() throws {
        let analysis = try #require(Fixture.defaultedSeed["spec", "analysis"])
        let renamed = try validate([.remove("/spec/analysis"), .set("/spec/canaryAnalysis", analysis)])
        #expect(renamed.warnings.contains(Self.notRead))
        // Flagger's CRD requires spec.analysis too, and prunes canaryAnalysis.
        #expect(renamed.errors.map(\.description) == ["spec.analysis: Required value"])

        let both = try validate([.set("/spec/canaryAnalysis", analysis)])
        #expect(both.warnings.contains(Self.notRead))
        #expect(
            both.errors.map(\.description) == [
                "spec.canaryAnalysis: Forbidden: may not be set together with spec.analysis; keep spec.analysis"
            ]
        )
    }

    @Test(
        "unknown fields are warnings, not errors",
        arguments: [
            WarningCase(
                label: "top level",
                edits: [.set("/extra", 1)],
                warnings: [#"unknown field "extra" is ignored"#]
            ),
            WarningCase(
                label: "spec",
                edits: [.set("/spec/extra", 1)],
                warnings: [#"unknown field "spec.extra" is ignored"#]
            ),
            WarningCase(
                label: "analysis typo",
                edits: [.set("/spec/analysis/stepWieght", 10)],
                warnings: [#"unknown field "spec.analysis.stepWieght" is ignored"#]
            ),
            WarningCase(
                label: "metric",
                edits: [.set("/spec/analysis/metrics/0/thresholdrange", ["min": 1])],
                warnings: [#"unknown field "spec.analysis.metrics[0].thresholdrange" is ignored"#]
            ),
            WarningCase(
                label: "webhook",
                edits: [.set("/spec/analysis/webhooks/1/retry", 3)],
                warnings: [#"unknown field "spec.analysis.webhooks[1].retry" is ignored"#]
            ),
            WarningCase(
                label: "status",
                edits: [.set("/status", ["phase": "Succeeded", "extra": true])],
                warnings: [#"unknown field "status.extra" is ignored"#]
            ),
            WarningCase(label: "metadata is the API server's", edits: [.set("/metadata/extra", 1)], warnings: []),
        ]
    )
    func unknownFields(_ warning: WarningCase) throws {
        let report = try validate(warning.edits)
        #expect(report.errors.isEmpty, "got \(report.errors.aggregateDescription)")
        #expect(report.warnings == warning.warnings)
    }

    // MARK: reporting

    @Test("several errors come back together, each at its own field")
    func severalErrors() throws {
        let report = try validate([
            .set("/spec/analysis/interval", "5x"),
            .set("/spec/analysis/stepWeight", 150),
            .set("/spec/analysis/metrics/-", ["name": "error-rate", "thresholdRange": ["max": 1]]),
            .set("/spec/analysis/webhooks/0/type", "pre_rollout"),
        ])
        #expect(report.errors.count == 4, "got \(report.errors.aggregateDescription)")
        #expect(
            Set(report.errors.map(\.field)) == [
                "spec.analysis.interval", "spec.analysis.stepWeight", "spec.analysis.metrics[2].templateRef",
                "spec.analysis.webhooks[0].type",
            ]
        )
        #expect(Set(report.errors.map(\.kind)) == [.invalid, .required, .notSupported])
    }

    @Test("the invalid example manifest is refused with its four mistakes")
    func invalidExample() throws {
        let example = try Fixture.yaml("manifests/examples/invalid-canary.yaml")
        let report = CanaryValidator().validate(CanaryDefaulter().defaulted(example))
        #expect(
            Set(report.errors.map(\.field)) == [
                "spec.analysis.interval", "spec.analysis.stepWeight", "spec.analysis.metrics[0].templateRef",
                "spec.analysis.webhooks[0].type",
            ]
        )
        #expect(report.errors.count == 4, "got \(report.errors.aggregateDescription)")
    }

    struct RenderCase: Sendable, CustomTestStringConvertible {
        var edits: [Edit]
        var message: String

        var testDescription: String { message }
    }

    @Test(
        "messages render in Kubernetes format",
        arguments: [
            RenderCase(
                edits: [.set("/spec/analysis/stepWeight", 150)],
                message: "spec.analysis.stepWeight: Invalid value: 150: must be between 1 and 100"
            ),
            RenderCase(
                edits: [.set("/spec/analysis/interval", "5x")],
                message: #"spec.analysis.interval: Invalid value: "5x": must be a Go duration such as 30s, 1m or 1m30s"#
            ),
            RenderCase(
                edits: [.set("/spec/analysis/stepWeight", "five")],
                message: #"spec.analysis.stepWeight: Invalid value: "five": must be of type integer"#
            ),
            RenderCase(edits: [.remove("/spec/targetRef/name")], message: "spec.targetRef.name: Required value"),
            RenderCase(
                edits: [.set("/spec/analysis/metrics/1/name", "request-success-rate")],
                message: #"spec.analysis.metrics[1].name: Duplicate value: "request-success-rate""#
            ),
            RenderCase(
                edits: [.set("/spec/analysis/iterations", 10)],
                message: "spec.analysis.iterations: Forbidden: may not be set together with stepWeight; "
                    + "keep one of stepWeight, stepWeights or iterations"
            ),
            RenderCase(
                edits: [.set("/spec/analysis/webhooks/0/type", "pre_rollout")],
                message: #"spec.analysis.webhooks[0].type: Unsupported value: "pre_rollout": supported values: "", "#
                    + #""confirm-rollout", "pre-rollout", "rollout", "confirm-promotion", "post-rollout", "event", "#
                    + #""rollback", "confirm-traffic-increase""#
            ),
            RenderCase(
                edits: [.set("/spec/analysis/metrics/0/thresholdRange", ["min": 99.5, "max": 50])],
                message: "spec.analysis.metrics[0].thresholdRange.min: Invalid value: 99.5: "
                    + "must be less than or equal to thresholdRange.max (50)"
            ),
        ]
    )
    func kubernetesFormat(_ render: RenderCase) throws {
        let report = try validate(render.edits)
        #expect(report.errors.map(\.description) == [render.message])
    }

    @Test("several messages aggregate as Kubernetes does: [a, b]")
    func aggregate() throws {
        let report = try validate([.set("/spec/service/port", 0), .set("/spec/analysis/threshold", 0)])
        let port = "spec.service.port: Invalid value: 0: must be between 1 and 65535"
        let threshold =
            "spec.analysis.threshold: Invalid value: 0: must be at least 1 "
            + "(the number of failed checks that triggers a rollback)"
        #expect(Set(report.errors.map(\.description)) == [port, threshold])
        #expect(
            report.errors.aggregateDescription == "[" + report.errors.map(\.description).joined(separator: ", ") + "]"
        )
        #expect([FieldError.required("spec.service")].aggregateDescription == "spec.service: Required value")
    }
}
