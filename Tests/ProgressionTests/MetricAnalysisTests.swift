import CanaryModel
import Testing

@testable import Progression

/// One row of the verdict table.
struct VerdictCase: Sendable, CustomTestStringConvertible {
    var metric: CanaryMetric
    var value: Double
    var expected: MetricVerdict

    var testDescription: String { "\(metric.name) = \(value)" }

    static func metric(
        _ name: String,
        min: Double? = nil,
        max: Double? = nil,
        threshold: Double? = nil,
        query: String? = nil
    ) -> CanaryMetric {
        var metric = CanaryMetric(name: name)
        if min != nil || max != nil { metric.thresholdRange = ThresholdRange(min: min, max: max) }
        metric.threshold = threshold
        metric.query = query
        return metric
    }
}

@Suite("Metric verdicts and Flagger's messages")
struct MetricAnalysisTests {
    static let cases: [VerdictCase] = [
        VerdictCase(
            metric: VerdictCase.metric("request-success-rate", min: 99),
            value: 69.1666,
            expected: .fail("Halt podinfo.prod advancement success rate 69.17% < 99%")
        ),
        VerdictCase(metric: VerdictCase.metric("request-success-rate", min: 99), value: 99.5, expected: .pass(99.5)),
        VerdictCase(
            metric: VerdictCase.metric("request-success-rate", max: 99.9),
            value: 100,
            expected: .fail("Halt podinfo.prod advancement success rate 100.00% > 99.9%")
        ),
        VerdictCase(
            metric: VerdictCase.metric("request-success-rate", threshold: 99),
            value: 98.456,
            expected: .fail("Halt podinfo.prod advancement success rate 98.46% < 99%")
        ),
        VerdictCase(metric: VerdictCase.metric("request-success-rate"), value: 1, expected: .pass(1)),
        VerdictCase(
            metric: VerdictCase.metric("request-duration", max: 500),
            value: 1200,
            expected: .fail("Halt podinfo.prod advancement request duration 1.2s > 500ms")
        ),
        VerdictCase(
            metric: VerdictCase.metric("request-duration", max: 1200.5),
            value: 1200.9,
            expected: .pass(1200.9)
        ),
        VerdictCase(
            metric: VerdictCase.metric("request-duration", min: 50, max: 500),
            value: 30.7,
            expected: .fail("Halt podinfo.prod advancement request duration 30ms < 50ms")
        ),
        VerdictCase(
            metric: VerdictCase.metric("request-duration", threshold: 500_000),
            value: 600_000,
            expected: .fail("Halt podinfo.prod advancement request duration 10m0s > 8m20s")
        ),
        VerdictCase(metric: VerdictCase.metric("request-duration", max: 500_000), value: 499, expected: .pass(499)),
        VerdictCase(
            metric: VerdictCase.metric("error-rate", max: 1, query: "sum(errors)"),
            value: 2.5,
            expected: .fail("Halt podinfo.prod advancement error-rate 2.50 > 1")
        ),
        VerdictCase(
            metric: VerdictCase.metric("error-rate", min: 0.5, query: "sum(errors)"),
            value: 0.25,
            expected: .fail("Halt podinfo.prod advancement error-rate 0.25 < 0.5")
        ),
        VerdictCase(
            metric: VerdictCase.metric("throughput", threshold: 1_000_000, query: "sum(rps)"),
            value: 2_000_000,
            expected: .fail("Halt podinfo.prod advancement throughput 2000000.00 > 1e+06")
        ),
        VerdictCase(metric: VerdictCase.metric("throughput", query: "sum(rps)"), value: 5, expected: .pass(5)),
    ]

    @Test("checks ranges with Flagger's wording", arguments: cases)
    func verdicts(row: VerdictCase) {
        #expect(MetricAnalysis.evaluate(metric: row.metric, value: row.value, canary: "podinfo.prod") == row.expected)
    }

    @Test(
        "formats floats as Go's %v does",
        arguments: [
            (99.0, "99"), (99.5, "99.5"), (500_000, "500000"), (1_000_000, "1e+06"), (1_234_567, "1.234567e+06"),
            (0.0001, "0.0001"), (0.00001, "1e-05"), (0.1, "0.1"), (-2.5, "-2.5"), (1e21, "1e+21"), (123_456, "123456"),
            (0, "0"),
        ]
    )
    func goFloat(value: Double, text: String) {
        #expect(GoFormat.value(value) == text)
    }

    @Test("no values and failed queries read as Flagger's events for each metric source")
    func failureMessages() {
        let successRate = VerdictCase.metric("request-success-rate", min: 99)
        #expect(
            MetricAnalysis.failureMessage(
                for: .noValuesFound,
                metric: successRate,
                target: "podinfo",
                namespace: "prod"
            )
                == "Halt advancement no values found for linkerd metric request-success-rate probably podinfo.prod "
                + "is not receiving traffic"
        )
        let serverError = MetricQueryError(.http, "error response: 500 Internal Server Error: boom", statusCode: 500)
        #expect(
            MetricAnalysis.failureMessage(for: serverError, metric: successRate, target: "podinfo", namespace: "prod")
                == "Prometheus query failed: error response: 500 Internal Server Error: boom"
        )
        let inline = VerdictCase.metric("error-rate", max: 1, query: "sum(errors)")
        #expect(
            MetricAnalysis.failureMessage(for: .noValuesFound, metric: inline, target: "podinfo", namespace: "prod")
                == "Halt advancement no values found for metric: error-rate"
        )
        var templated = CanaryMetric(name: "latency")
        templated.templateRef = CrossNamespaceReference(name: "latency-tmpl", namespace: "istio-system")
        #expect(
            MetricAnalysis.failureMessage(for: .noValuesFound, metric: templated, target: "podinfo", namespace: "prod")
                == "Halt advancement no values found for custom metric: latency: no values found"
        )
        let renderError = MetricQueryError(.template, "template variable \"x\" is not defined")
        #expect(
            MetricAnalysis.failureMessage(for: renderError, metric: templated, target: "podinfo", namespace: "prod")
                == "Metric template latency-tmpl.istio-system query render error: template variable \"x\" is not defined"
        )
        #expect(
            MetricAnalysis.failureMessage(for: serverError, metric: templated, target: "podinfo", namespace: "prod")
                == "Metric query failed for latency: error response: 500 Internal Server Error: boom"
        )
    }
}
