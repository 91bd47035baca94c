import Foundation
import Prometheus
import ServerGuards
import Synchronization

/// The admission gate's Prometheus metrics, registered in a registry the caller owns.
public final class WebhookMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let inFlight: Gauge
    let certificateExpiry: Gauge
    let certificateReloads: Counter
    let guardCounters: [ServerGuardEvent: Counter]
    private let requestCounters = Mutex<[String: Counter]>([:])
    private let histograms = Mutex<[String: ValueHistogram]>([:])

    static let latencyBuckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        inFlight = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "fledge",
                subsystem: "admission",
                metricName: "requests_in_flight",
                unitName: "",
                helpText: "Admission requests being handled now."
            )
        )
        certificateExpiry = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "fledge",
                subsystem: "certificate",
                metricName: "expiry_timestamp",
                unitName: "seconds",
                helpText: "When the serving certificate expires, as a Unix timestamp."
            )
        )
        certificateReloads = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "fledge",
                subsystem: "certificate",
                metricName: "reloads_total",
                unitName: "",
                helpText: "Serving certificates loaded after a change on disk."
            )
        )
        var guardCounters: [ServerGuardEvent: Counter] = [:]
        for event in ServerGuardEvent.allCases {
            guardCounters[event] = registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "fledge",
                    subsystem: "server",
                    metricName: "connections_closed_by_guard_total",
                    unitName: "",
                    helpText: "Connections closed by a server guard: over the connection limit, or too slow to send a "
                        + "request head or body."
                ),
                labels: [("reason", event.rawValue)]
            )
        }
        self.guardCounters = guardCounters
    }

    func guardClosed(_ event: ServerGuardEvent) {
        guardCounters[event]?.increment()
    }

    func recordRequest(webhook: String, code: Int, verdict: String, seconds: Double) {
        let key = "\(webhook)|\(code)|\(verdict)"
        let counter = requestCounters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "fledge",
                    subsystem: "admission",
                    metricName: "requests_total",
                    unitName: "",
                    helpText: "Admission requests answered, by webhook, HTTP status and verdict."
                ),
                labels: [("webhook", webhook), ("code", String(code)), ("verdict", verdict)]
            )
            counters[key] = counter
            return counter
        }
        counter.increment()
        let histogram = histograms.withLock { histograms in
            if let histogram = histograms[webhook] { return histogram }
            let histogram = registry.makeValueHistogram(
                descriptor: MetricNameDescriptor(
                    namespace: "fledge",
                    subsystem: "admission",
                    metricName: "duration",
                    unitName: "seconds",
                    helpText: "Time to answer an admission request."
                ),
                labels: [("webhook", webhook)],
                buckets: Self.latencyBuckets
            )
            histograms[webhook] = histogram
            return histogram
        }
        histogram.record(seconds)
    }

    func setCertificateExpiry(_ date: Date?) {
        certificateExpiry.set(date?.timeIntervalSince1970 ?? 0)
    }

    /// The metrics in Prometheus text exposition format.
    public func exposition() -> [UInt8] { registry.emitToBuffer() }
}
