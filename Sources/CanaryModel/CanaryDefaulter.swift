import JSONValue

/// Writes Flagger's runtime defaults into a Canary explicitly, so `kubectl get -o yaml` shows what the controller will
/// do.
///
/// It only adds members that are absent (and turns an empty webhook type or alert severity into the value Flagger
/// reads it as); it never changes a value the user wrote, and applied to its own output it changes nothing, as the
/// API server may call a mutating webhook twice.
public struct CanaryDefaulter: Sendable {
    /// The provider written into `spec.provider` when it is absent (the server's `--default-provider`).
    public var defaultProvider: String

    public init(defaultProvider: String = "linkerd") { self.defaultProvider = defaultProvider }

    /// The Canary object with defaults added. Members of the wrong type are left alone for validation to report.
    public func defaulted(_ object: JSONValue) -> JSONValue {
        guard case .object(var canary) = object, case .object(var spec) = canary["spec"] else { return object }
        setIfAbsent(&spec, "provider", .string(defaultProvider))
        setIfAbsent(&spec, "progressDeadlineSeconds", 600)
        if case .object(var analysis) = spec["analysis"] {
            defaultAnalysis(&analysis)
            spec["analysis"] = .object(analysis)
        }
        if case .object(var service) = spec["service"] {
            setIfAbsent(&service, "portName", "http")
            if service["targetPort"] == nil, let port = service["port"], port.intValue != nil {
                service["targetPort"] = port
            }
            spec["service"] = .object(service)
        }
        canary["spec"] = .object(spec)
        return .object(canary)
    }

    func defaultAnalysis(_ analysis: inout [String: JSONValue]) {
        setIfAbsent(&analysis, "interval", "1m")
        setIfAbsent(&analysis, "threshold", 1)
        if analysis["stepWeight"] != nil, analysis["stepWeights"] == nil {
            setIfAbsent(&analysis, "maxWeight", 100)
        }
        setIfAbsent(&analysis, "primaryReadyThreshold", 100)
        setIfAbsent(&analysis, "canaryReadyThreshold", 100)
        mapElements(&analysis, "metrics") { metric in
            let name = metric["name"]?.stringValue ?? ""
            let inline = metric["query"] != nil && metric["templateRef"] == nil
            if BuiltinMetric(rawValue: name) != nil || inline { setIfAbsent(&metric, "interval", "1m") }
        }
        mapElements(&analysis, "webhooks") { webhook in
            if webhook["type"] == nil || webhook["type"] == "" { webhook["type"] = "rollout" }
            setIfAbsent(&webhook, "timeout", "10s")
        }
        mapElements(&analysis, "alerts") { alert in
            if alert["severity"] == nil || alert["severity"] == "" { alert["severity"] = "info" }
        }
    }

    func setIfAbsent(_ object: inout [String: JSONValue], _ key: String, _ value: JSONValue) {
        if object[key] == nil { object[key] = value }
    }

    func mapElements(
        _ object: inout [String: JSONValue],
        _ key: String,
        _ transform: (inout [String: JSONValue]) -> Void
    ) {
        guard case .array(var elements) = object[key] else { return }
        for index in elements.indices {
            guard case .object(var element) = elements[index] else { continue }
            transform(&element)
            elements[index] = .object(element)
        }
        object[key] = .array(elements)
    }

    /// The RFC 6902 patch that adds the defaults to `object`; empty when there is nothing to add.
    public func patch(for object: JSONValue) -> JSONPatch {
        JSONPatch.diff(from: object, to: defaulted(object))
    }
}

/// The metrics Flagger computes itself for Linkerd, without a template or query.
public enum BuiltinMetric: String, Sendable, CaseIterable {
    case requestSuccessRate = "request-success-rate"
    case requestDuration = "request-duration"
}
