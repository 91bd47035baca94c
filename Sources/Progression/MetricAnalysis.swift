import CanaryModel

/// The outcome of checking one metric value against its range.
public enum MetricVerdict: Sendable, Hashable {
    /// The value is within range.
    case pass(Double)
    /// The value is out of range; the message is Flagger's warning event text.
    case fail(String)
}

/// Where a metric's value comes from.
public enum MetricSource: Sendable, Hashable {
    /// `request-success-rate` or `request-duration`, queried with ``LinkerdQueries``.
    case builtin(BuiltinMetric)
    /// An inline `query`.
    case inline(String)
    /// A `templateRef` to a MetricTemplate.
    case template(CrossNamespaceReference)
}

/// Flagger's range checks and messages for analysis metrics.
///
/// `thresholdRange {min, max}` bounds the value; without it the deprecated `threshold` is the minimum for
/// `request-success-rate` and the maximum for everything else. A metric with neither can never fail (the admission
/// webhook warns about it). `request-duration` values are milliseconds, truncated to whole milliseconds and printed as
/// Go durations, as Flagger does.
public enum MetricAnalysis {
    /// Where `metric`'s value comes from: a template reference wins over an inline query, which wins over a built-in
    /// name; `nil` when the metric has none of them.
    public static func source(of metric: CanaryMetric) -> MetricSource? {
        if let reference = metric.templateRef { return .template(reference) }
        if let query = metric.query { return .inline(query) }
        if let builtin = BuiltinMetric(rawValue: metric.name) { return .builtin(builtin) }
        return nil
    }

    /// Checks `value` against `metric`'s range.
    ///
    /// - Parameters:
    ///   - canary: the Canary as Flagger names it in events, `name.namespace` (`podinfo.prod`).
    /// - Returns: ``MetricVerdict/pass(_:)`` with `value`, or ``MetricVerdict/fail(_:)`` with Flagger's message:
    ///   `Halt podinfo.prod advancement success rate 69.17% < 99%`,
    ///   `Halt podinfo.prod advancement request duration 1.2s > 500ms`,
    ///   `Halt podinfo.prod advancement error-rate 2.50 > 1`.
    public static func evaluate(metric: CanaryMetric, value: Double, canary: String) -> MetricVerdict {
        switch source(of: metric) {
        case .builtin(.requestSuccessRate):
            return successRate(metric: metric, value: value, canary: canary)
        case .builtin(.requestDuration):
            return duration(metric: metric, value: value, canary: canary)
        default:
            return custom(metric: metric, value: value, canary: canary)
        }
    }

    /// The event message for a metric whose query failed, in Flagger's words for the metric's source.
    ///
    /// - Parameters:
    ///   - target: the target workload's name (Flagger names the target, not the Canary, in the no-values message).
    ///   - namespace: the Canary's namespace.
    ///   - provider: the metrics provider named in the no-values message of built-in metrics.
    /// - Returns: for example `Halt advancement no values found for linkerd metric request-success-rate probably
    ///   podinfo.prod is not receiving traffic`, or `Prometheus query failed: error response: 500 …`.
    public static func failureMessage(
        for error: MetricQueryError,
        metric: CanaryMetric,
        target: String,
        namespace: String,
        provider: String = "linkerd",
        showingAnswer: Bool = true
    ) -> String {
        let noValues = error.kind == .noValues
        let isTemplateError = error.kind == .template
        let error = showingAnswer ? error.messageWithAnswer : error.message
        switch source(of: metric) {
        case .builtin, nil:
            if noValues {
                return "Halt advancement no values found for \(provider) metric \(metric.name) probably "
                    + "\(target).\(namespace) is not receiving traffic"
            }
            return "Prometheus query failed: \(error)"
        case .inline:
            if noValues { return "Halt advancement no values found for metric: \(metric.name)" }
            return "Prometheus query failed for \(metric.name): \(error)"
        case .template(let reference):
            if noValues { return "Halt advancement no values found for custom metric: \(metric.name): \(error)" }
            if isTemplateError {
                return
                    "Metric template \(reference.name).\(reference.namespace ?? namespace) query render error: \(error)"
            }
            return "Metric query failed for \(metric.name): \(error)"
        }
    }

    static func successRate(metric: CanaryMetric, value: Double, canary: String) -> MetricVerdict {
        let shown = GoFormat.twoDecimals(value)
        if let range = metric.thresholdRange {
            if let min = range.min, value < min {
                return .fail("Halt \(canary) advancement success rate \(shown)% < \(GoFormat.value(min))%")
            }
            if let max = range.max, value > max {
                return .fail("Halt \(canary) advancement success rate \(shown)% > \(GoFormat.value(max))%")
            }
        } else if let threshold = metric.threshold, threshold > value {
            return .fail("Halt \(canary) advancement success rate \(shown)% < \(GoFormat.value(threshold))%")
        }
        return .pass(value)
    }

    static func duration(metric: CanaryMetric, value: Double, canary: String) -> MetricVerdict {
        let milliseconds = GoFormat.truncate(value)
        let shown = GoFormat.milliseconds(milliseconds)
        if let range = metric.thresholdRange {
            if let min = range.min.map(GoFormat.truncate), milliseconds < min {
                return .fail("Halt \(canary) advancement request duration \(shown) < \(GoFormat.milliseconds(min))")
            }
            if let max = range.max.map(GoFormat.truncate), milliseconds > max {
                return .fail("Halt \(canary) advancement request duration \(shown) > \(GoFormat.milliseconds(max))")
            }
        } else if let threshold = metric.threshold.map(GoFormat.truncate), milliseconds > threshold {
            return .fail("Halt \(canary) advancement request duration \(shown) > \(GoFormat.milliseconds(threshold))")
        }
        return .pass(value)
    }

    static func custom(metric: CanaryMetric, value: Double, canary: String) -> MetricVerdict {
        let shown = GoFormat.twoDecimals(value)
        if let range = metric.thresholdRange {
            if let min = range.min, value < min {
                return .fail("Halt \(canary) advancement \(metric.name) \(shown) < \(GoFormat.value(min))")
            }
            if let max = range.max, value > max {
                return .fail("Halt \(canary) advancement \(metric.name) \(shown) > \(GoFormat.value(max))")
            }
        } else if let threshold = metric.threshold, value > threshold {
            return .fail("Halt \(canary) advancement \(metric.name) \(shown) > \(GoFormat.value(threshold))")
        }
        return .pass(value)
    }
}
