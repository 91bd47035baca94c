import AsyncHTTPClient
import CanaryModel
import Foundation
import JSONValue
import KubeClient
import KubeModels
import Logging
import Metrics
import Synchronization

/// One event of a release, as the recorder tells an observer.
public struct ReleaseEvent: Sendable, Hashable {
    /// `name.namespace` of the Canary.
    public var canary: String
    /// The event's message, in Flagger's words.
    public var message: String
    /// Whether it is a Warning event.
    public var warning: Bool

    public init(canary: String, message: String, warning: Bool) {
        self.canary = canary
        self.message = message
        self.warning = warning
    }
}

/// Where a release's story goes: Kubernetes Events on the Canary (reason `Synced`), JSON log lines with `msg` and
/// `canary`, the Canary's `event` webhooks, alerts, and Prometheus metrics under Flagger's names.
final class Recorder: Sendable {
    let kube: KubeAccess
    let logger: Logger
    let metrics: ProgressionMetrics
    let webhooks: WebhookCaller
    let alerts: AlertSender
    let clock: any ReleaseClock
    /// Told of every event as it is recorded (a test's log, the demo's view); the recorder keeps none itself.
    let onEvent: (@Sendable (ReleaseEvent) -> Void)?
    /// The last Event recorded for each Canary, with its type and message: the same message again bumps that
    /// Event's count and lastTimestamp instead of creating another (as client-go's recorder aggregates), so a message
    /// repeated every tick reads `(x12 over 2m)` in kubectl, not twelve lines. Only a direct repeat is folded, so
    /// the Events in order, each `count` times, are the log in order.
    let recorded = Mutex<[String: (message: String, name: String, count: Int64, first: String)]>([:])
    static let recordedLimit = 4096

    /// Whether AlertProviders of other namespaces may be used (when they opt in).
    let crossNamespaceRefs: Bool
    /// Which hosts alerts may be sent to.
    let outbound: OutboundPolicy

    init(
        kube: KubeAccess,
        logger: Logger,
        metrics: ProgressionMetrics,
        webhooks: WebhookCaller,
        alerts: AlertSender,
        clock: any ReleaseClock,
        crossNamespaceRefs: Bool = true,
        outbound: OutboundPolicy = .cluster,
        onEvent: (@Sendable (ReleaseEvent) -> Void)? = nil
    ) {
        self.onEvent = onEvent
        self.crossNamespaceRefs = crossNamespaceRefs
        self.outbound = outbound
        self.kube = kube
        self.logger = logger
        self.metrics = metrics
        self.webhooks = webhooks
        self.alerts = alerts
        self.clock = clock
    }

    func info(_ canary: Canary, _ message: String) async { await event(canary, message, warning: false) }
    func warning(_ canary: Canary, _ message: String) async { await event(canary, message, warning: true) }

    func event(_ canary: Canary, _ message: String, warning: Bool) async {
        onEvent?(ReleaseEvent(canary: canary.qualifiedName, message: message, warning: warning))
        if warning {
            logger.warning("\(message)", metadata: ["canary": "\(canary.qualifiedName)"])
        } else {
            logger.info("\(message)", metadata: ["canary": "\(canary.qualifiedName)"])
        }
        let namespace = canary.metadata.namespace ?? "default"
        let now = RFC3339.format(clock.timestamp())
        let key = "\(namespace)/\(canary.metadata.name ?? "")/\(canary.metadata.uid ?? "")"
        let typed = "\(warning ? "Warning" : "Normal") \(message)"
        if let seen = recorded.withLock({ $0[key] }), seen.message == typed {
            do {
                try await kube.patchEvent(
                    namespace,
                    seen.name,
                    ["count": .int(seen.count + 1), "lastTimestamp": .string(now)]
                )
                recorded.withLock { $0[key] = (typed, seen.name, seen.count + 1, seen.first) }
                await callEventHooks(canary, message, warning: warning, namespace: namespace)
                return
            } catch {
                // Gone (Events expire after an hour) or unreadable: record a new one.
                _ = recorded.withLock { $0.removeValue(forKey: key) }
            }
        }
        // As client-go names them: the object's name and the wall-clock time in hex nanoseconds, fixed width, so the
        // names sort in the order the events were recorded.
        let nanos = UInt64(max(Date().timeIntervalSince1970, 0) * 1e9)
        let hex = String(nanos, radix: 16)
        let name = "\(canary.metadata.name ?? "canary").\(String(repeating: "0", count: max(16 - hex.count, 0)))\(hex)"
        var event = Event(
            metadata: ObjectMeta(name: name, namespace: namespace),
            involvedObject: ObjectReference(
                apiVersion: Canary.apiVersion(),
                kind: Canary.kind,
                name: canary.metadata.name ?? "",
                namespace: namespace,
                uid: canary.metadata.uid ?? ""
            )
        )
        event.reason = "Synced"
        event.message = message
        event.type = warning ? "Warning" : "Normal"
        event.source = EventSource(component: "flagger")
        event.reportingComponent = "flagger"
        event.firstTimestamp = now
        event.lastTimestamp = now
        event.count = 1
        do {
            try await kube.createEvent(event)
            recorded.withLock { recorded in
                if recorded.count >= Self.recordedLimit {
                    // Forget the oldest half (by first timestamp): repeats are recent.
                    let keep = recorded.sorted { $0.value.first > $1.value.first }.prefix(Self.recordedLimit / 2)
                    recorded = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
                }
                recorded[key] = (typed, name, 1, now)
            }
        } catch {
            logger.debug("could not record an event", metadata: ["error": "\(error)"])
        }
        await callEventHooks(canary, message, warning: warning, namespace: namespace)
    }

    /// The Canary's `event` webhooks, for every event (repeats included, as Flagger sends them).
    func callEventHooks(_ canary: Canary, _ message: String, warning: Bool, namespace: String) async {
        for hook in canary.spec.effectiveAnalysis?.webhooks ?? [] where hook.webhookType == .event {
            let payload = WebhookCaller.eventPayload(
                name: canary.metadata.name ?? "",
                namespace: namespace,
                phase: canary.status?.phase?.rawValue ?? "",
                checksum: WebhookPayload.checksum(
                    lastAppliedSpec: canary.status?.lastAppliedSpec,
                    trackedConfigs: canary.status?.trackedConfigs
                ),
                hook: hook,
                message: message,
                eventType: warning ? "Warning" : "Normal",
                now: clock.timestamp()
            )
            _ = await webhooks.call(hook, payload: payload)
        }
    }

    /// The facts Flagger attaches to its announcements of a new revision: the target, the failed-checks threshold,
    /// the progress deadline and how traffic is routed.
    static func alertFields(_ canary: Canary) -> [(String, String)] {
        let analysis = canary.spec.effectiveAnalysis
        var fields = [
            (
                "Target",
                "\(canary.spec.targetRef.kind ?? "Deployment")/\(canary.spec.targetRef.name).\(canary.metadata.namespace ?? "default")"
            ),
            ("Failed checks threshold", "\(analysis?.threshold ?? 1)"),
            ("Progress deadline", "\(canary.spec.progressDeadlineSeconds ?? 600)s"),
        ]
        if let step = analysis?.stepWeight, step > 0 {
            fields.append(("Traffic routing", "Weight step: \(step) max: \(analysis?.maxWeight ?? 100)"))
        } else if let steps = analysis?.stepWeights, !steps.isEmpty {
            let list = steps.map(String.init).joined(separator: ",")
            fields.append(("Traffic routing", "Weight steps: \(list) max: \(analysis?.maxWeight ?? 100)"))
        } else if let match = analysis?.match, !match.isEmpty {
            fields.append(("Traffic routing", "A/B Testing"))
        } else if (analysis?.iterations ?? 0) > 0 {
            fields.append(("Traffic routing", "Blue/Green"))
        }
        return fields
    }

    /// Sends `message` to the Canary's alert providers whose severity admits it, with ``alertFields(_:)`` when
    /// `metadata` is set.
    func alert(_ canary: Canary, _ message: String, severity: AlertSeverity, metadata: Bool = false) async {
        for alert in canary.spec.effectiveAnalysis?.alerts ?? [] {
            guard AlertSender.shouldSend(alertSeverity: alert.severity, eventSeverity: severity.rawValue) else {
                continue
            }
            let namespace = alert.providerRef.namespace ?? canary.metadata.namespace ?? "default"
            do {
                guard let provider = try await kube.get(AlertProvider.self, namespace, alert.providerRef.name) else {
                    logger.warning("alert provider not found", metadata: ["provider": "\(alert.providerRef.name)"])
                    continue
                }
                if let refusal = CrossNamespaceOptIn.refusal(
                    kind: "AlertProvider",
                    name: alert.providerRef.name,
                    objectNamespace: namespace,
                    annotations: provider.metadata.annotations,
                    from: canary.metadata.namespace ?? "default",
                    allowed: crossNamespaceRefs
                ) {
                    logger.warning("alert not sent: \(refusal)", metadata: ["canary": "\(canary.qualifiedName)"])
                    continue
                }
                var address = provider.spec.address ?? ""
                if let secret = provider.spec.secretRef?.name,
                    let found = try await kube.get(Secret.self, namespace, secret),
                    let encoded = found.data?["address"], let data = Data(base64Encoded: encoded)
                {
                    address = String(decoding: data, as: UTF8.self)
                }
                do {
                    _ = try outbound.url(address, allowQuery: true)
                } catch {
                    logger.warning(
                        "alert not sent: AlertProvider \(alert.providerRef.name).\(namespace) address \(error.message)",
                        metadata: ["canary": "\(canary.qualifiedName)"]
                    )
                    continue
                }
                try await alerts.send(
                    provider: provider,
                    address: address,
                    canary: canary.metadata.name ?? "",
                    namespace: canary.metadata.namespace ?? "default",
                    message: message,
                    severity: severity.rawValue,
                    fields: metadata ? Self.alertFields(canary) : []
                )
            } catch {
                logger.warning("alert not sent", metadata: ["error": "\(error)", "canary": "\(canary.qualifiedName)"])
            }
        }
    }
}

/// Prometheus metrics with Flagger's names, so existing dashboards keep working.
public final class ProgressionMetrics: Sendable {
    let factory: any MetricsFactory

    /// Metrics written through `factory`; `flagger_info{version, mesh_provider}` is set to 1 when `version` is given.
    public init(factory: any MetricsFactory, version: String? = nil, meshProvider: String = "linkerd") {
        self.factory = factory
        if let version {
            Gauge(
                label: "flagger_info",
                dimensions: [("version", version), ("mesh_provider", meshProvider)],
                factory: factory
            ).record(1)
        }
    }

    func status(_ canary: Canary, _ phase: CanaryPhase) {
        let value: Double
        switch phase {
        case .progressing, .waitingPromotion, .promoting, .finalising, .waiting: value = 0
        case .failed: value = 2
        default: value = 1
        }
        Gauge(
            label: "flagger_canary_status",
            dimensions: [("name", canary.metadata.name ?? ""), ("namespace", canary.metadata.namespace ?? "")],
            factory: factory
        ).record(value)
    }

    func weight(_ canary: Canary, primary: Int, canary canaryWeight: Int) {
        let namespace = canary.metadata.namespace ?? ""
        Gauge(
            label: "flagger_canary_weight",
            dimensions: [("workload", "\(canary.spec.targetRef.name)-primary"), ("namespace", namespace)],
            factory: factory
        ).record(Double(primary))
        Gauge(
            label: "flagger_canary_weight",
            dimensions: [("workload", canary.spec.targetRef.name), ("namespace", namespace)],
            factory: factory
        ).record(Double(canaryWeight))
    }

    func total(_ namespace: String, count: Int) {
        Gauge(label: "flagger_canary_total", dimensions: [("namespace", namespace)], factory: factory).record(
            Double(count)
        )
    }

    func metricAnalysis(_ canary: Canary, metric: String, value: Double) {
        Gauge(
            label: "flagger_canary_metric_analysis",
            dimensions: [
                ("name", canary.metadata.name ?? ""), ("namespace", canary.metadata.namespace ?? ""),
                ("metric", metric),
            ],
            factory: factory
        ).record(value)
    }

    func finished(_ canary: Canary, succeeded: Bool, seconds: Double) {
        let dimensions = [("name", canary.metadata.name ?? ""), ("namespace", canary.metadata.namespace ?? "")]
        Counter(
            label: succeeded ? "flagger_canary_successes_total" : "flagger_canary_failures_total",
            dimensions: dimensions,
            factory: factory
        ).increment()
        if seconds > 0 {
            Timer(label: "flagger_canary_duration_seconds", dimensions: dimensions, factory: factory)
                .recordNanoseconds(Int64(seconds * 1e9))
        }
    }
}
