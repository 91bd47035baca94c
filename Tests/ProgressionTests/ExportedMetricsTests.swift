import JSONValue
import Progression
import Prometheus
import Testing

/// The worker's Prometheus metrics keep Flagger's names and labels, so existing dashboards keep working.
@Suite("Exported metrics", .serialized)
struct ExportedMetricsTests {
    @Test("a promoted release leaves flagger_* series with Flagger's names, labels and values")
    func promotedRelease() async throws {
        let registry = PrometheusCollectorRegistry()
        let metrics = ProgressionMetrics(
            factory: PrometheusMetricsFactory(registry: registry),
            version: "9.9.9",
            meshProvider: "linkerd"
        )
        try await withHarness(metrics: metrics) { harness in
            try await harness.installWorkload()
            try await harness.installCanary(["stepWeight": 50, "maxWeight": 50])
            try await harness.initialise()
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            try await harness.tick()
            try await harness.tick()
            var exposition = Self.text(registry)
            #expect(exposition.contains(#"flagger_canary_status{name="podinfo",namespace="default"} 0"#))
            #expect(exposition.contains(#"flagger_canary_weight{workload="podinfo",namespace="default"} 50"#))
            #expect(exposition.contains(#"flagger_canary_weight{workload="podinfo-primary",namespace="default"} 50"#))
            for _ in 0..<4 where try await harness.phase() != "Succeeded" {
                harness.clock.advance(by: .seconds(60))
                try await harness.tick()
            }
            #expect(try await harness.phase() == "Succeeded")
            exposition = Self.text(registry)
            #expect(exposition.contains(#"flagger_info{version="9.9.9",mesh_provider="linkerd"} 1"#))
            #expect(exposition.contains(#"flagger_canary_status{name="podinfo",namespace="default"} 1"#))
            #expect(exposition.contains(#"flagger_canary_successes_total{name="podinfo",namespace="default"} 1"#))
            #expect(exposition.contains(#"flagger_canary_weight{workload="podinfo",namespace="default"} 0"#))
            #expect(exposition.contains("flagger_canary_duration_seconds"))
            #expect(
                exposition.contains(
                    #"flagger_canary_metric_analysis{name="podinfo",namespace="default",metric="request-success-rate"} 100"#
                )
            )
        }
    }

    static func text(_ registry: PrometheusCollectorRegistry) -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
