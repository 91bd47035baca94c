import Prometheus

/// The load tester's Prometheus metrics, in a registry the caller owns.
final class LoadTesterMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let running: Gauge

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        running = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "fledge",
                subsystem: "loadtester",
                metricName: "tasks_running",
                unitName: "",
                helpText: "Tasks running now."
            )
        )
        for type in TaskType.allCases {
            _ = counter("tasks_total", type: type)
            _ = counter("tasks_failed_total", type: type)
        }
        _ = counter("tasks_skipped_total", type: .cmd)
        for type in TaskType.allCases {
            _ = counter("tasks_throttled_total", type: type)
        }
    }

    private static let help = [
        "tasks_total": "Tasks started, by type.",
        "tasks_failed_total": "Tasks that failed or timed out, by type.",
        "tasks_skipped_total": "Background commands not started because the same one was running for the canary.",
        "tasks_throttled_total": "Tasks refused with 429 because the most tasks allowed at once were running, by type.",
    ]

    private func counter(_ name: String, type: TaskType) -> Counter {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "fledge",
                subsystem: "loadtester",
                metricName: name,
                unitName: "",
                helpText: Self.help[name] ?? ""
            ),
            labels: [("type", type.rawValue)]
        )
    }

    func started(_ type: TaskType) { counter("tasks_total", type: type).increment() }
    func failed(_ type: TaskType) { counter("tasks_failed_total", type: type).increment() }
    func skipped(_ type: TaskType) { counter("tasks_skipped_total", type: type).increment() }
    func throttled(_ type: TaskType) { counter("tasks_throttled_total", type: type).increment() }

    /// The metrics in Prometheus text exposition format.
    func exposition() -> String { registry.emitToString() }
}
