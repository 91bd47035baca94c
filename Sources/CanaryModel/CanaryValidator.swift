import JSONValue
import KubeModels

/// What validation found: errors refuse the object, warnings are shown to the user (kubectl prints them).
public struct ValidationReport: Sendable, Equatable {
    public var errors: [FieldError]
    public var warnings: [String]
    /// The Canary as decoded for the semantic checks (mistyped values set aside), for callers that check more.
    public var canary: Canary?

    public init(errors: [FieldError] = [], warnings: [String] = []) {
        self.errors = errors
        self.warnings = warnings
    }

    public var isValid: Bool { errors.isEmpty }
}

/// Validates Canary specs: the CRD's structure, then everything Flagger only finds out at reconcile time
/// (BEHAVIOUR.md §8.1), all problems at once, each with its field path and a fix.
///
/// Pure: it takes the object (already defaulted, as the API server hands it to a validating webhook) and, on update,
/// the old object. Checks that need the cluster live in the admission layer.
public struct CanaryValidator: Sendable {
    public init() {}

    /// Longest name Kubernetes allows for Services and label values.
    public static let maximumNameLength = 63

    /// Validates `object`; `oldObject` is the stored Canary on update.
    public func validate(_ object: JSONValue, oldObject: JSONValue? = nil) -> ValidationReport {
        let findings = CanarySchema.canary.validate(object, at: FieldPath(""))
        var report = ValidationReport(errors: findings.errors)
        for field in findings.unknownFields {
            report.warnings.append("unknown field \"\(field)\" is ignored")
        }
        // Set mistyped values aside so the rest of the object still gets every semantic check: one rebuild of the
        // document, however many there are.
        let (checkable, shifts) = object.removingWithShifts(findings.mistypedPointers)
        let originalIndices = OriginalIndices(shifts, in: object)
        let canary: Canary
        do {
            canary = try JSONValueDecoder().decode(Canary.self, from: checkable)
        } catch let error as DecodingError {
            if report.errors.isEmpty {
                report.errors.append(.invalid(error.fieldPath, .null, error.problem))
            }
            return report
        } catch {
            report.errors.append(.invalid("", .null, "\(error)"))
            return report
        }
        report.canary = canary
        var semantic = SemanticChecks(canary: canary, raw: object)
        semantic.run()
        if let oldObject, let old = try? JSONValueDecoder().decode(Canary.self, from: oldObject) {
            semantic.checkImmutableDuringRelease(old: old)
        }
        if !originalIndices.isEmpty {
            for index in semantic.errors.indices {
                semantic.errors[index].field = originalIndices.original(semantic.errors[index].field)
            }
        }
        report.errors = Self.merge(schema: report.errors, semantic: semantic.errors)
        report.warnings += semantic.warnings
        return report
    }
}

/// Maps field paths of the object with its mistyped list elements set aside back to the object as written, so a
/// semantic error about `metrics[1]` names that element even when `metrics[0]` was set aside.
struct OriginalIndices {
    /// Each shortened list's field path (`spec.analysis.metrics`) and the original index of each element kept,
    /// outermost lists first.
    let lists: [(path: String, kept: [Int])]

    init(_ shifts: [(array: JSONPointer, keptIndices: [Int])], in object: JSONValue) {
        lists = shifts.sorted { $0.array.tokens.count < $1.array.tokens.count }.map { shift in
            var path = ""
            var value: JSONValue? = object
            for token in shift.array.tokens {
                if case .array(let elements) = value, let index = Int(token) {
                    path += "[\(token)]"
                    value = elements.indices.contains(index) ? elements[index] : nil
                } else {
                    path += path.isEmpty ? token : ".\(token)"
                    value = value?[token]
                }
            }
            return (path, shift.keptIndices)
        }
    }

    var isEmpty: Bool { lists.isEmpty }

    /// `field` with each index into a shortened list replaced by the element's index as written.
    func original(_ field: String) -> String {
        var field = field
        for list in lists {
            let prefix = list.path + "["
            guard field.hasPrefix(prefix) else { continue }
            let rest = field.dropFirst(prefix.count)
            guard let close = rest.firstIndex(of: "]"), let index = Int(rest[..<close]),
                list.kept.indices.contains(index)
            else { continue }
            field = prefix + String(list.kept[index]) + rest[close...]
        }
        return field
    }
}

extension CanaryValidator {
    /// One message per field: where the schema's bounds and patterns and the semantic checks both complain, the
    /// semantic message (which says how to fix it) wins; type, required and enum errors from the schema stay, and
    /// semantic errors at a field the schema refused for those are dropped.
    static func merge(schema: [FieldError], semantic: [FieldError]) -> [FieldError] {
        // A valid Canary (the common case) has nothing to merge.
        if semantic.isEmpty { return schema }
        if schema.isEmpty { return semantic }
        let semanticFields = Set(semantic.map(\.field))
        let kept = schema.filter { error in
            !(semanticFields.contains(error.field)
                && (error.kind == .invalid || error.kind == .tooLong || error.kind == .tooMany))
        }
        let keptFields = Set(kept.map(\.field))
        return kept + semantic.filter { !keptFields.contains($0.field) }
    }
}

struct SemanticChecks {
    let canary: Canary
    let raw: JSONValue
    var errors: [FieldError] = []
    var warnings: [String] = []

    init(canary: Canary, raw: JSONValue) {
        self.canary = canary
        self.raw = raw
    }

    var spec: CanarySpec { canary.spec }
    let specPath = FieldPath("spec")

    mutating func run() {
        let provider = checkProvider()
        if let server = spec.metricsServer {
            checkOutboundURL(
                server,
                at: specPath.child("metricsServer"),
                allowQuery: false,
                example: "http://prometheus.monitoring:9090"
            )
        }
        checkTarget()
        checkService(provider: provider)
        if let progressDeadline = spec.progressDeadlineSeconds, progressDeadline < 1 {
            errors.append(
                .invalid(
                    "spec.progressDeadlineSeconds",
                    .int(Int64(progressDeadline)),
                    "must be at least 1 (seconds the canary gets to become ready; Flagger's default is 600)"
                )
            )
        }
        if spec.canaryAnalysis != nil {
            warnings.append(
                "spec.canaryAnalysis is not read (not in flagger.app/v1beta1; the API server drops it): "
                    + "rename it to spec.analysis"
            )
            if spec.analysis != nil {
                errors.append(
                    .forbidden("spec.canaryAnalysis", "may not be set together with spec.analysis; keep spec.analysis")
                )
            }
        }
        if let analysis = spec.effectiveAnalysis {
            checkAnalysis(analysis, member: spec.analysis != nil ? "analysis" : "canaryAnalysis", provider: provider)
        }
    }

    // MARK: provider

    mutating func checkProvider() -> Provider? {
        // Absent means the controller's default provider, which the mutating webhook writes in.
        guard let name = spec.provider else { return nil }
        if let provider = Provider(rawValue: name) { return provider }
        var error = FieldError.notSupported("spec.provider", .string(name), supported: Provider.supportedNames)
        if CanarySchema.flaggerProviders.contains(name) {
            error.detail += " (Fledge drives Linkerd through SMI or Gateway API; \(name) is not driven)"
        }
        errors.append(error)
        return nil
    }

    // MARK: target

    mutating func checkTarget() {
        let target = spec.targetRef
        let path = specPath.child("targetRef")
        if let kind = target.kind, ["Deployment", "DaemonSet"].contains(kind), let apiVersion = target.apiVersion,
            apiVersion != "apps/v1"
        {
            errors.append(
                .notSupported(path.child("apiVersion").description, .string(apiVersion), supported: ["apps/v1"])
            )
        }
        if target.kind == "DaemonSet" {
            warnings.append(
                "\(path.child("kind")): Fledge does not release DaemonSets yet; "
                    + "this Canary will wait with a warning event until its target is a Deployment"
            )
        }
        let name = target.name
        if name.isEmpty {
            errors.append(.required(path.child("name").description, "name of the Deployment to release"))
            return
        }
        if !Self.isDNS1123Subdomain(name) {
            errors.append(
                .invalid(
                    path.child("name").description,
                    .string(name),
                    "must be a DNS-1123 name: lower-case letters, digits, '-' and '.', starting and ending alphanumeric"
                )
            )
            return
        }
        checkDerivedName(
            "\(name)-primary",
            what: "primary Deployment",
            field: path.child("name"),
            value: name,
            suffixLength: 8
        )
    }

    mutating func checkDerivedName(_ derived: String, what: String, field: FieldPath, value: String, suffixLength: Int)
    {
        let limit = CanaryValidator.maximumNameLength
        if derived.utf8.count > limit {
            errors.append(
                .invalid(
                    field.description,
                    .string(value),
                    "the \(what) name \"\(derived)\" would be \(derived.utf8.count) characters; "
                        + "at most \(limit) are allowed, so shorten this to \(limit - suffixLength) characters"
                )
            )
        }
    }

    // MARK: service

    mutating func checkService(provider: Provider?) {
        let path = specPath.child("service")
        guard let service = spec.service else {
            errors.append(
                .required(
                    path.description,
                    "the controller creates the apex, -canary and -primary Services from it; "
                        + "add service.port (the container port, e.g. 9898)"
                )
            )
            return
        }
        if let port = service.port, !(1...65535).contains(port) {
            errors.append(.invalid(path.child("port").description, .int(Int64(port)), "must be between 1 and 65535"))
        }
        if let targetPort = service.targetPort {
            switch targetPort {
            case .int(let number) where !(1...65535).contains(number):
                errors.append(
                    .invalid(path.child("targetPort").description, .int(Int64(number)), "must be between 1 and 65535")
                )
            case .string(let name) where !Self.isPortName(name):
                errors.append(
                    .invalid(
                        path.child("targetPort").description,
                        .string(name),
                        "must be a port number or a container port name "
                            + "(at most 15 lower-case letters, digits and '-', with at least one letter)"
                    )
                )
            default: break
            }
        }
        if let portName = service.portName, !portName.isEmpty, !Self.isDNS1123Label(portName) {
            errors.append(
                .invalid(
                    path.child("portName").description,
                    .string(portName),
                    "must be a DNS-1123 label such as http or grpc"
                )
            )
        }
        if let timeout = service.timeout {
            checkDuration(timeout, at: path.child("timeout"), minimum: nil)
        }
        if let provider, provider.isGatewayAPI, let match = service.match {
            checkGatewayMatches(match, at: path.child("match"))
        }
        let apex = service.name ?? spec.targetRef.name
        if Self.reservedServiceNames.contains(apex) {
            errors.append(
                .invalid(
                    service.name != nil ? path.child("name").description : "spec.targetRef.name",
                    .string(apex),
                    "is the API server's own Service name, which the controller would rewrite; set service.name to "
                        + "your application's Service"
                )
            )
        }
        if let name = service.name {
            if !Self.isDNS1035Label(name) {
                errors.append(
                    .invalid(
                        path.child("name").description,
                        .string(name),
                        "must be a DNS-1035 label: lower-case letters, digits and '-', starting with a letter"
                    )
                )
            }
        } else if !apex.isEmpty, Self.isDNS1123Subdomain(apex), !Self.isDNS1035Label(apex) {
            errors.append(
                .invalid(
                    "spec.targetRef.name",
                    .string(apex),
                    "is used as the Service name, which must be a DNS-1035 label (starting with a letter); "
                        + "set service.name to a valid Service name"
                )
            )
        }
        // Without service.name the apex is the target's name, whose -primary length the target check reports.
        if let name = service.name, !name.isEmpty {
            let field = path.child("name")
            checkDerivedName(
                "\(name)-primary",
                what: "primary Service",
                field: field,
                value: name,
                suffixLength: 8
            )
        }
        if let provider, provider.isGatewayAPI, service.gatewayRefs?.isEmpty ?? true {
            errors.append(
                .required(
                    path.child("gatewayRefs").description,
                    "provider \(provider.rawValue) attaches an HTTPRoute to a parent; add service.gatewayRefs, "
                        + "for the mesh [{name: \(apex), kind: Service, group: core, port: \(service.port ?? 80)}]"
                )
            )
        }
    }

    /// Service names a Canary may never take as its apex (the controller would rewrite their selector and ports).
    static let reservedServiceNames: Set<String> = ["kubernetes"]

    // MARK: analysis

    /// `member` is `analysis` or the deprecated `canaryAnalysis`, whichever the Canary uses.
    mutating func checkAnalysis(_ analysis: CanaryAnalysis, member: String, provider: Provider?) {
        let path = specPath.child(member)
        // Presence is read from the object as written: a mistyped stepWeight is still the shape the user chose.
        let written = raw["spec", member]
        let shapes = ["stepWeight", "stepWeights", "iterations"].filter { written?[$0] != nil }
        if shapes.isEmpty {
            errors.append(
                .required(
                    path.description,
                    "set one of stepWeight (with maxWeight), stepWeights or iterations; "
                        + "e.g. stepWeight: 5 and maxWeight: 50 for a canary, iterations: 10 for blue/green"
                )
            )
        } else if shapes.count > 1 {
            for extra in shapes.dropFirst() {
                errors.append(
                    .forbidden(
                        path.child(extra).description,
                        "may not be set together with \(shapes[0]); keep one of stepWeight, stepWeights or iterations"
                    )
                )
            }
        }
        if let interval = analysis.interval {
            checkDuration(interval, at: path.child("interval"), minimum: .seconds(10))
        }
        if let threshold = analysis.threshold, threshold < 1 {
            errors.append(
                .invalid(
                    path.child("threshold").description,
                    .int(Int64(threshold)),
                    "must be at least 1 (the number of failed checks that triggers a rollback)"
                )
            )
        }
        let maxWeight = analysis.maxWeight
        if let maxWeight { checkWeight(maxWeight, at: path.child("maxWeight")) }
        if let stepWeight = analysis.stepWeight {
            checkWeight(stepWeight, at: path.child("stepWeight"))
            if let maxWeight, (1...100).contains(maxWeight), (1...100).contains(stepWeight), stepWeight > maxWeight {
                errors.append(
                    .invalid(
                        path.child("stepWeight").description,
                        .int(Int64(stepWeight)),
                        "must be less than or equal to maxWeight (\(maxWeight)); lower stepWeight or raise maxWeight"
                    )
                )
            }
        }
        if let stepWeights = analysis.stepWeights {
            checkStepWeights(stepWeights, at: path.child("stepWeights"), maxWeight: maxWeight)
        }
        if let promotion = analysis.stepWeightPromotion {
            checkWeight(promotion, at: path.child("stepWeightPromotion"))
        }
        if let iterations = analysis.iterations, iterations < 1 {
            errors.append(
                .invalid(
                    path.child("iterations").description,
                    .int(Int64(iterations)),
                    "must be at least 1 (the number of analysis runs before promotion)"
                )
            )
        }
        for (name, value) in [
            ("primaryReadyThreshold", analysis.primaryReadyThreshold),
            ("canaryReadyThreshold", analysis.canaryReadyThreshold),
        ] {
            if let value, !(1...100).contains(value) {
                errors.append(
                    .invalid(
                        path.child(name).description,
                        .int(Int64(value)),
                        "must be between 1 and 100 (percent of replicas that must be available)"
                    )
                )
            }
        }
        checkMirror(analysis, at: path, provider: provider)
        if let provider, provider.isGatewayAPI, let match = analysis.match {
            checkGatewayMatches(match, at: path.child("match"), analysis: true)
        }
        if analysis.sessionAffinity != nil {
            warnings.append(
                "\(path.child("sessionAffinity")) is not supported by Fledge: requests are split by weight only"
            )
        }
        if let match = analysis.match, !match.isEmpty {
            if let provider, !provider.canMatch {
                errors.append(
                    .forbidden(
                        path.child("match").description,
                        "A/B testing by headers or cookies needs a provider that can route by request "
                            + "(gatewayapi:v1, gatewayapi:v1beta1); \(provider.rawValue) cannot"
                    )
                )
            }
            if analysis.iterations == nil {
                errors.append(
                    .required(
                        path.child("iterations").description,
                        "A/B testing (match) runs a number of iterations instead of weight steps; set iterations"
                    )
                )
            }
        }
        if provider == .kubernetes, analysis.iterations == nil, !shapes.isEmpty {
            errors.append(
                .forbidden(
                    path.child(shapes[0]).description,
                    "provider kubernetes cannot shift traffic by weight; use iterations (blue/green)"
                )
            )
        }
        checkMetrics(analysis.metrics ?? [], at: path.child("metrics"))
        checkWebhooks(analysis.webhooks ?? [], at: path.child("webhooks"))
        checkAlerts(analysis.alerts ?? [], at: path.child("alerts"))
    }

    mutating func checkGatewayMatches(_ matches: [JSONValue], at path: FieldPath, analysis: Bool = false) {
        for problem in GatewayRouteMatches.convert(matches, at: path, analysis: analysis).problems {
            errors.append(.invalid(problem.path.description, problem.value, problem.message))
        }
    }

    mutating func checkMirror(_ analysis: CanaryAnalysis, at path: FieldPath, provider: Provider?) {
        if analysis.mirror == true, analysis.iterations == nil {
            warnings.append(
                "\(path.child("mirror")) mirrors traffic only in blue/green releases (iterations); "
                    + "with weight steps it has no effect"
            )
        }
        if analysis.mirror == true {
            if let provider, !provider.canMirror {
                errors.append(
                    .forbidden(
                        path.child("mirror").description,
                        "traffic mirroring needs a provider that can mirror (gatewayapi:v1, gatewayapi:v1beta1); "
                            + "\(provider.rawValue) cannot"
                    )
                )
            }
        }
        if let mirrorWeight = analysis.mirrorWeight {
            if !(0...100).contains(mirrorWeight) {
                errors.append(
                    .invalid(
                        path.child("mirrorWeight").description,
                        .int(Int64(mirrorWeight)),
                        "must be between 0 and 100"
                    )
                )
            }
            if analysis.mirror != true {
                warnings.append("\(path.child("mirrorWeight")) has no effect without \(path.child("mirror")): true")
            }
        }
    }

    mutating func checkWeight(_ weight: Int, at path: FieldPath) {
        if !(1...100).contains(weight) {
            errors.append(.invalid(path.description, .int(Int64(weight)), "must be between 1 and 100"))
        }
    }

    mutating func checkStepWeights(_ steps: [Int], at path: FieldPath, maxWeight: Int?) {
        if steps.isEmpty {
            errors.append(.required(path.description, "list the canary weights in order, e.g. [1, 10, 50]"))
            return
        }
        for (index, step) in steps.enumerated() {
            if !(1...100).contains(step) {
                errors.append(.invalid(path.index(index).description, .int(Int64(step)), "must be between 1 and 100"))
            } else if index > 0, step <= steps[index - 1] {
                errors.append(
                    .invalid(
                        path.index(index).description,
                        .int(Int64(step)),
                        "must be greater than the previous step (\(steps[index - 1])); steps must strictly increase"
                    )
                )
            }
        }
        if let maxWeight, let last = steps.last, (1...100).contains(last), last > maxWeight {
            errors.append(
                .invalid(
                    path.index(steps.count - 1).description,
                    .int(Int64(last)),
                    "must be less than or equal to maxWeight (\(maxWeight)); lower the step or raise maxWeight"
                )
            )
        }
    }

    mutating func checkDuration(_ text: String, at path: FieldPath, minimum: GoDuration?, maximum: GoDuration? = nil) {
        guard let duration = GoDuration(text) else {
            errors.append(
                .invalid(
                    path.description,
                    .string(text),
                    "must be a Go duration such as 30s, 1m or 1m30s"
                )
            )
            return
        }
        if duration.nanoseconds <= 0 {
            errors.append(.invalid(path.description, .string(text), "must be longer than 0s"))
        } else if let maximum, maximum < duration {
            errors.append(.invalid(path.description, .string(text), "must be at most \(maximum)"))
        } else if let minimum, duration < minimum {
            errors.append(
                .invalid(
                    path.description,
                    .string(text),
                    "must be at least \(minimum) (the controller runs an analysis step at most every \(minimum))"
                )
            )
        }
    }

    mutating func checkMetrics(_ metrics: [CanaryMetric], at path: FieldPath) {
        var seen: Set<String> = []
        for (index, metric) in metrics.enumerated() {
            let here = path.index(index)
            if metric.name.isEmpty {
                errors.append(.required(here.child("name").description))
            } else if !seen.insert(metric.name).inserted {
                errors.append(.duplicate(here.child("name").description, .string(metric.name)))
            }
            let builtin = BuiltinMetric(rawValue: metric.name) != nil
            if metric.query != nil, metric.templateRef != nil {
                errors.append(
                    .forbidden(here.child("query").description, "set either query or templateRef, not both")
                )
            } else if !builtin, metric.query == nil, metric.templateRef == nil, !metric.name.isEmpty {
                errors.append(
                    .required(
                        here.child("templateRef").description,
                        "metric \"\(metric.name)\" is not built in (request-success-rate, request-duration); "
                            + "give it a templateRef to a MetricTemplate or an inline query"
                    )
                )
            }
            if let query = metric.query, query.allSatisfy(\.isWhitespace) {
                errors.append(.invalid(here.child("query").description, .string(query), "must not be empty"))
            }
            if let interval = metric.interval {
                checkDuration(interval, at: here.child("interval"), minimum: nil)
            }
            if let range = metric.thresholdRange, let min = range.min, let max = range.max, min > max {
                errors.append(
                    .invalid(
                        here.child("thresholdRange").child("min").description,
                        JSONValue.double(min),
                        "must be less than or equal to thresholdRange.max (\(JSONValue.double(max).serialized()))"
                    )
                )
            }
            if let threshold = metric.threshold {
                let replacement = metric.name == BuiltinMetric.requestSuccessRate.rawValue ? "min" : "max"
                warnings.append(
                    "\(here.child("threshold")) is deprecated: use thresholdRange: {\(replacement): "
                        + "\(JSONValue.double(threshold).serialized())}"
                )
            }
            if metric.thresholdRange == nil, metric.threshold == nil {
                warnings.append("\(here) (\(metric.name)) has no thresholdRange, so it can never fail")
            }
            if let name = metric.templateRef?.name, name.isEmpty {
                errors.append(.required(here.child("templateRef").child("name").description))
            }
        }
    }

    mutating func checkWebhooks(_ webhooks: [CanaryWebhook], at path: FieldPath) {
        var seen: Set<String> = []
        for (index, webhook) in webhooks.enumerated() {
            let here = path.index(index)
            if webhook.name.isEmpty {
                errors.append(.required(here.child("name").description))
            } else if !seen.insert(webhook.name).inserted {
                errors.append(.duplicate(here.child("name").description, .string(webhook.name)))
            }
            if webhook.url.isEmpty {
                errors.append(.required(here.child("url").description, "e.g. http://flagger-loadtester.test/"))
            } else {
                checkOutboundURL(
                    webhook.url,
                    at: here.child("url"),
                    allowQuery: true,
                    example: "http://flagger-loadtester.test/"
                )
            }
            if let timeout = webhook.timeout {
                checkDuration(timeout, at: here.child("timeout"), minimum: nil, maximum: CanaryLimits.webhookTimeout)
            }
            if let retries = webhook.retries, !(0...CanaryLimits.webhookRetries).contains(retries) {
                errors.append(
                    .invalid(
                        here.child("retries").description,
                        .int(Int64(retries)),
                        "must be between 0 and \(CanaryLimits.webhookRetries)"
                    )
                )
            }
        }
    }

    mutating func checkAlerts(_ alerts: [CanaryAlert], at path: FieldPath) {
        var seen: Set<String> = []
        for (index, alert) in alerts.enumerated() {
            let here = path.index(index)
            if alert.name.isEmpty {
                errors.append(.required(here.child("name").description))
            } else if !seen.insert(alert.name).inserted {
                errors.append(.duplicate(here.child("name").description, .string(alert.name)))
            }
            if alert.providerRef.name.isEmpty {
                errors.append(.required(here.child("providerRef").child("name").description, "an AlertProvider name"))
            }
        }
    }

    // MARK: update

    mutating func checkImmutableDuringRelease(old: Canary) {
        guard let phase = old.status?.phase, phase.isReleaseInProgress else { return }
        let advice = "may not change while a release is \(phase.rawValue); wait for it to finish or abort it first"
        if old.spec.targetRef.name != spec.targetRef.name || old.spec.targetRef.kind != spec.targetRef.kind
            || old.spec.targetRef.apiVersion != spec.targetRef.apiVersion
        {
            errors.append(.forbidden("spec.targetRef", advice))
        }
        if old.spec.service?.name != spec.service?.name {
            errors.append(.forbidden("spec.service.name", advice))
        }
        if old.spec.provider != spec.provider {
            errors.append(.forbidden("spec.provider", advice))
        }
    }

    /// A URL the worker will call: parsed by ``OutboundURL``'s rules; link-local, metadata and unspecified hosts
    /// refused, loopback a warning (in a cluster it is the controller's own pod).
    mutating func checkOutboundURL(_ text: String, at path: FieldPath, allowQuery: Bool, example: String) {
        do {
            let url = try OutboundURL(text, allowQuery: allowQuery)
            try OutboundPolicy.local.check(url)
            if url.hostClass == .loopback {
                warnings.append("\(path): \(url.host) is the controller's own pod in a cluster; name a Service")
            }
        } catch {
            errors.append(.invalid(path.description, .string(text), "\(error.message); e.g. \(example)"))
        }
    }

    // MARK: syntax helpers

    static func isDNS1123Label(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 63 else { return false }
        return isLabel(bytes, startsWithLetter: false)
    }

    static func isDNS1035Label(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 63 else { return false }
        return isLabel(bytes, startsWithLetter: true)
    }

    static func isLabel(_ bytes: [UInt8], startsWithLetter: Bool) -> Bool {
        func alnum(_ byte: UInt8) -> Bool { (97...122).contains(byte) || (48...57).contains(byte) }
        guard let first = bytes.first, let last = bytes.last else { return false }
        if startsWithLetter ? !(97...122).contains(first) : !alnum(first) { return false }
        guard alnum(last) else { return false }
        return bytes.allSatisfy { alnum($0) || $0 == UInt8(ascii: "-") }
    }

    static func isDNS1123Subdomain(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy {
            isDNS1123Label(String($0))
        }
    }

    static func isPortName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 15, isLabel(bytes, startsWithLetter: false) else { return false }
        guard !name.contains("--") else { return false }
        return bytes.contains { (97...122).contains($0) }
    }
}
