import Dashboard
import Testing

@Suite("Flagger's event messages read into release notes")
struct EventParserTests {
    static let cases: [(String, ReleaseNote)] = [
        ("Initialization done! podinfo.prod", .initialized),
        ("New revision detected! Scaling up podinfo.prod", .releaseStarted),
        ("New revision detected! Restarting analysis for podinfo.prod", .releaseRestarted),
        ("Starting canary analysis for podinfo.prod", .analysisStarted),
        ("Advance podinfo.prod canary weight 10", .canaryWeight(10)),
        ("Advance podinfo.prod canary weight 250", .canaryWeight(100)),
        ("Advance podinfo.prod primary weight 60", .primaryWeight(60)),
        ("Advance podinfo.prod canary iteration 2/10", .iteration(done: 2, wanted: 10)),
        (
            "Halt podinfo.prod advancement success rate 87.18% < 99%",
            .metricFailed(
                MetricReading(
                    metric: "request-success-rate",
                    value: 87.18,
                    threshold: 99,
                    comparison: "<",
                    unit: "%",
                    passed: false
                )
            )
        ),
        (
            "Halt podinfo.prod advancement request duration 1.2s > 500ms",
            .metricFailed(
                MetricReading(
                    metric: "request-duration",
                    value: 1200,
                    threshold: 500,
                    comparison: ">",
                    unit: "ms",
                    passed: false
                )
            )
        ),
        (
            "Halt podinfo.prod advancement error-rate 2.50 > 1",
            .metricFailed(
                MetricReading(metric: "error-rate", value: 2.5, threshold: 1, comparison: ">", unit: "", passed: false)
            )
        ),
        (
            "Halt advancement no values found for linkerd metric request-success-rate probably podinfo.prod is not "
                + "receiving traffic",
            .noValues(metric: "request-success-rate")
        ),
        ("Halt advancement no values found for custom metric: errors: no values found", .noValues(metric: "errors")),
        (
            "Halt podinfo.prod advancement pre-rollout check acceptance-test failed 500 Internal Server Error",
            .hookFailed(type: "pre-rollout", name: "acceptance-test", detail: "500 Internal Server Error")
        ),
        (
            "Halt podinfo.prod advancement external check load-test failed timeout",
            .hookFailed(type: "rollout", name: "load-test", detail: "timeout")
        ),
        (
            "Halt podinfo.prod advancement waiting for approval gate",
            .gateWaiting(type: "confirm-rollout", name: "gate")
        ),
        (
            "Halt podinfo.prod advancement waiting for traffic increase approval step-gate",
            .gateWaiting(type: "confirm-traffic-increase", name: "step-gate")
        ),
        (
            "Halt podinfo.prod advancement waiting for promotion approval promo",
            .gateWaiting(type: "confirm-promotion", name: "promo")
        ),
        ("Pre-rollout check acceptance-test passed", .hookPassed(type: "pre-rollout", name: "acceptance-test")),
        ("Confirm-promotion check promo passed", .hookPassed(type: "confirm-promotion", name: "promo")),
        (
            "Post-rollout hook notify failed 503 Service Unavailable",
            .hookFailed(type: "post-rollout", name: "notify", detail: "503 Service Unavailable")
        ),
        ("Copying podinfo.prod template spec to podinfo-primary.prod", .promoting),
        ("Routing all traffic to primary", .routingToPrimary),
        ("Routing all traffic to canary", .routingToCanary),
        ("Promotion completed! Scaling down podinfo.prod", .promoted),
        ("Promotion completed! Canary analysis was skipped for podinfo.prod", .promoted),
        (
            "Rolling back podinfo.prod failed checks threshold reached 5",
            .rollingBack(reason: "failed checks threshold reached 5")
        ),
        ("Rolling back podinfo.prod aborted by fledge abort", .rollingBack(reason: "aborted by fledge abort")),
        ("Canary failed! Scaling down podinfo.prod", .failed),
        (
            "Ignoring fledge.dev/action=promote: no release is in progress (phase Failed)",
            .actionIgnored(action: "promote", reason: "no release is in progress (phase Failed)")
        ),
        (
            "canary deployment podinfo.prod not ready: waiting for rollout to finish: 0 of 1 updated replicas",
            .canaryNotReady("waiting for rollout to finish: 0 of 1 updated replicas")
        ),
        ("Prometheus query failed: 503", .checkError("Prometheus query failed: 503")),
        (
            "Halt podinfo.prod advancement something unexpected",
            .checkError("Halt podinfo.prod advancement something unexpected")
        ),
        ("Something nobody wrote a rule for", .other("Something nobody wrote a rule for")),
        ("Advance podinfo.prod canary weight lots", .other("Advance podinfo.prod canary weight lots")),
    ]

    @Test("each message reads as what it says", arguments: cases)
    func parses(message: String, expected: ReleaseNote) {
        #expect(EventParser.parse(message) == expected)
    }

    @Test("a duration in minutes reads as milliseconds")
    func minutes() {
        guard case .metricFailed(let reading) = EventParser.parse("Halt a.b advancement request duration 1m30s > 1s")
        else {
            Issue.record("not read as a failed metric")
            return
        }
        #expect(reading.value == 90_000)
        #expect(reading.threshold == 1000)
    }
}
