import AsyncHTTPClient
import CanaryModel
import Foundation
import JSONValue
import KubeClient
import KubeModels
import Logging
import Synchronization

/// Settings of the progression worker.
public struct ProgressionConfiguration: Sendable {
    /// Provider of Canaries that name none.
    public var defaultProvider: String
    /// Prometheus address for built-in metrics and inline queries (`spec.metricsServer` overrides it).
    public var metricsServer: String
    /// Only Canaries in this namespace, or every namespace when nil.
    public var namespace: String?
    /// Maps webhook URLs to where they are called (identity in a cluster; the playground routes cluster names
    /// through its simulated mesh).
    public var rewriteURL: @Sendable (String) -> String
    /// Which hosts the worker calls for a Canary (webhooks, Prometheus, alerts): never link-local or metadata
    /// addresses; loopback only on one machine.
    public var outbound: OutboundPolicy
    /// Whether a Canary may use a MetricTemplate or AlertProvider of another namespace that opts in (Flagger's
    /// `-no-cross-namespace-refs` turns this off).
    public var crossNamespaceRefs: Bool
    /// Whether the text of a webhook's or Prometheus's answer goes into Events and status messages, which every
    /// reader of the Canary sees. Off in a cluster: a tenant could point a webhook at an internal service and read
    /// its answer back. The answer always goes to the debug log.
    public var answersInEvents: Bool
    /// The longest one tick may run before it is cancelled (it runs again at its next interval).
    public var tickTimeout: Duration
    /// The load testers that require a bearer token, and the token (sent to no other hook).
    public var loadTester: LoadTesterCredentials?
    /// Whether the worker lists and watches Secrets (keeping only their checksums) to see a tracked Secret change
    /// without a request per tick. Off by default: it needs RBAC to list every Secret; without it each tick of a
    /// Canary whose pod template references Secrets reads them by name.
    public var watchSecrets: Bool

    public init(
        defaultProvider: String = "linkerd",
        metricsServer: String = "http://prometheus:9090",
        namespace: String? = nil,
        rewriteURL: @escaping @Sendable (String) -> String = { $0 },
        outbound: OutboundPolicy = .cluster,
        crossNamespaceRefs: Bool = true,
        answersInEvents: Bool = false,
        tickTimeout: Duration = .seconds(20 * 60),
        loadTester: LoadTesterCredentials? = nil,
        watchSecrets: Bool = false
    ) {
        self.loadTester = loadTester
        self.watchSecrets = watchSecrets
        self.defaultProvider = defaultProvider
        self.metricsServer = metricsServer
        self.namespace = namespace
        self.rewriteURL = rewriteURL
        self.outbound = outbound
        self.crossNamespaceRefs = crossNamespaceRefs
        self.answersInEvents = answersInEvents
        self.tickTimeout = tickTimeout
    }
}

/// The annotation `fledge promote|abort|retry` sets on a Canary; the worker obeys it and removes it.
public enum ReleaseAction: String, Sendable, CaseIterable {
    /// Skip the remaining analysis and promote now (also passes a waiting confirm-rollout or confirm-promotion gate).
    case promote
    /// Roll the release back now.
    case abort
    /// Start the failed revision's release again.
    case retry

    public static let annotation = "fledge.dev/action"
}

/// What one tick did, for the scheduler and tests.
public enum TickOutcome: Sendable, Equatable {
    /// The Canary no longer exists.
    case gone
    /// Nothing to do (no release, suspended, or waiting).
    case idle
    /// The tick moved the release on.
    case advanced
}

/// Runs one analysis tick of one Canary, as Flagger's scheduler does: initialisation, new revisions, readiness,
/// hooks, metrics, weight steps, promotion, rollback. All state lives in the Canary's status.
public final class Releaser: Sendable {
    let kube: KubeAccess
    let configuration: ProgressionConfiguration
    let recorder: Recorder
    let http: HTTPClient
    let webhooks: WebhookCaller
    let clock: any ReleaseClock
    let logger: Logger

    public init(
        client: KubeClient,
        configuration: ProgressionConfiguration,
        http: HTTPClient,
        clock: any ReleaseClock,
        metrics: ProgressionMetrics,
        logger: Logger,
        cache: ClusterCache? = nil,
        onEvent: (@Sendable (ReleaseEvent) -> Void)? = nil
    ) {
        kube = KubeAccess(client: client, cache: cache, watchSecrets: configuration.watchSecrets)
        self.configuration = configuration
        self.http = http
        self.clock = clock
        self.logger = logger
        webhooks = WebhookCaller(
            http: http,
            rewrite: configuration.rewriteURL,
            outbound: configuration.outbound,
            loadTester: configuration.loadTester
        )
        recorder = Recorder(
            kube: kube,
            logger: logger,
            metrics: metrics,
            webhooks: webhooks,
            alerts: AlertSender(http: http),
            clock: clock,
            crossNamespaceRefs: configuration.crossNamespaceRefs,
            outbound: configuration.outbound,
            onEvent: onEvent
        )
    }

    /// API requests made so far.
    public var apiCalls: Int { kube.callCount }

    // MARK: - The tick

    /// Runs one tick of the Canary `namespace/name`.
    public func tick(namespace: String, name: String) async -> TickOutcome {
        let canary: Canary
        do {
            guard let found = try await kube.get(Canary.self, namespace, name) else { return .gone }
            canary = found.clampedForRelease()
        } catch {
            logger.warning("cannot read the Canary", metadata: ["canary": "\(name).\(namespace)", "error": "\(error)"])
            return .idle
        }
        if canary.metadata.deletionTimestamp != nil {
            guard canary.metadata.finalizers?.contains(Workload.finalizer) == true else { return .gone }
            do {
                return try await finalize(canary)
            } catch {
                await recorder.warning(canary, "\(error)")
                return .idle
            }
        }
        if canary.spec.suspend == true {
            logger.info("skipping canary run as object is suspended", metadata: ["canary": "\(canary.qualifiedName)"])
            return .idle
        }
        do {
            return try await advance(canary)
        } catch {
            await recorder.warning(canary, "\(error)")
            return .idle
        }
    }

    /// A Canary being deleted with `revertOnDeletion`: the target back in service, then the finalizer removed.
    func finalize(_ canary: Canary) async throws -> TickOutcome {
        let workload = Workload(kube: kube, canary: canary)
        let router = workload.router(defaultProvider: configuration.defaultProvider)
        let threshold = canary.spec.effectiveAnalysis?.canaryReadyThreshold ?? 100
        switch try await workload.revert(router: router, readyThreshold: threshold) {
        case .waiting(let why):
            await recorder.info(canary, "Reverting \(canary.qualifiedName) before deletion: \(why)")
            return .advanced
        case .done:
            await recorder.info(
                canary,
                "Reverted \(canary.spec.targetRef.name).\(workload.namespace): all traffic to it, Canary \(canary.qualifiedName) finalized"
            )
        case .nothingToRevert(let why):
            await recorder.info(canary, "Nothing to revert for \(canary.qualifiedName) (\(why)), Canary finalized")
        }
        try await setFinalizer(canary, present: false)
        return .gone
    }

    /// Adds or removes Flagger's finalizer, keeping every other finalizer (the resourceVersion guards the list).
    func setFinalizer(_ canary: Canary, present: Bool) async throws {
        var finalizers = canary.metadata.finalizers ?? []
        let has = finalizers.contains(Workload.finalizer)
        guard has != present else { return }
        if present { finalizers.append(Workload.finalizer) } else { finalizers.removeAll { $0 == Workload.finalizer } }
        var metadata: JSONValue = ["finalizers": finalizers.isEmpty ? .null : .array(finalizers.map { .string($0) })]
        if let version = canary.metadata.resourceVersion { metadata.setMember(["resourceVersion"], .string(version)) }
        try await kube.mergePatch(
            Canary.self,
            canary.metadata.namespace ?? "default",
            canary.metadata.name ?? "",
            ["metadata": metadata]
        )
    }

    /// Reconciles what every tick reconciles (the action annotation, the finalizer, the services, the primary and
    /// its HPA), then runs ``ReleaseMachine``: carries out its effects in order and answers its questions until
    /// the tick is over.
    func advance(_ canary: Canary) async throws -> TickOutcome {
        var canary = canary
        let revertOnDeletion = canary.spec.revertOnDeletion == true
        if !revertOnDeletion { try await setFinalizer(canary, present: false) }
        let action = canary.metadata.annotations?[ReleaseAction.annotation].flatMap(ReleaseAction.init(rawValue:))
        if action != nil {
            // Later guarded writes (the finalizer) need the resourceVersion this write produced.
            canary.metadata.resourceVersion = try await clearAction(canary) ?? canary.metadata.resourceVersion
        }
        let workload = Workload(kube: kube, canary: canary)
        let analysis = canary.spec.effectiveAnalysis ?? CanaryAnalysis()
        let target = try await workload.target()
        // The finalizer only once there is a target to revert to, so a Canary that never found one deletes at once.
        if revertOnDeletion { try await setFinalizer(canary, present: true) }
        let initializing = (canary.status?.phase ?? .initializing) == .initializing
        // The apex service moves to the primary only once the primary is ready (initialisation); afterwards all
        // three are reconciled in one pass.
        try await workload.reconcileServices(target, services: initializing ? [.canary, .primary] : .all)
        let primary = try await workload.ensurePrimary(target)
        try await workload.reconcilePrimaryHPA()
        let machine = ReleaseMachine(
            ReleaseFacts(
                canary: canary,
                defaultProvider: configuration.defaultProvider,
                action: action,
                primary: ReleaseRules.deploymentReadiness(primary, threshold: analysis.primaryReadyThreshold ?? 100),
                canaryReadiness: ReleaseRules.deploymentReadiness(
                    target,
                    threshold: analysis.canaryReadyThreshold ?? 100
                ),
                elapsed: clock.elapsed(since:)
            )
        )
        let objects = TickObjects(
            workload: workload,
            router: workload.router(defaultProvider: configuration.defaultProvider),
            target: target,
            primary: primary
        )
        var answers = ReleaseAnswers()
        var done = 0
        // Each question is asked once, so a tick plans at most once per question.
        while true {
            let plan = machine.plan(answers)
            for effect in plan.effects.dropFirst(done) {
                canary = try await perform(effect, on: canary, objects)
            }
            done = plan.effects.count
            switch plan.step {
            case .done(let outcome):
                return outcome
            case .needs(.routes):
                if initializing { try await workload.reconcileServices(target, services: [.apex]) }
                answers.routes = try await objects.router.reconcile()
            case .needs(.revision):
                answers.revision = Revision(
                    hash: PodTemplateHash.of(target) ?? "",
                    configs: try await workload.trackedConfigs(target)
                )
            case .needs(.hook(let call)):
                answers.hooks[call] = await answer(call, for: canary)
            case .needs(.metric(let metric)):
                answers.metrics[metric] = await check(metric.metric, canary: canary).map { .failed($0) } ?? .passed
            }
        }
    }

    /// Carries out one effect on `canary` (as this tick sees it); returns the Canary the rest of the tick sees.
    func perform(_ effect: ReleaseEffect, on canary: Canary, _ objects: TickObjects) async throws -> Canary {
        switch effect {
        case .setRoutes(let routes):
            try await objects.router.setRoutes(
                primary: routes.primary,
                canary: routes.canary,
                mirrored: routes.mirrored
            )
        case .patchStatus(let change):
            let written = try await writeStatus(canary, change)
            if change.adopt { return written }
        case .event(let message, let type):
            await recorder.event(canary, message, warning: type == .warning)
        case .alert(let message, let severity, let withFacts):
            await recorder.alert(canary, message, severity: severity, metadata: withFacts)
        case .scaleTarget(.zero):
            try await objects.workload.scaleTarget(0)
        case .scaleTarget(.up):
            try await objects.workload.scaleUpTarget(objects.target, primary: objects.primary)
        case .promote:
            try await objects.workload.promote(objects.target)
        case .metrics(.status(let phase)):
            recorder.metrics.status(canary, phase)
        case .metrics(.weight(let primary, let canaryWeight)):
            recorder.metrics.weight(canary, primary: primary, canary: canaryWeight)
        case .metrics(.finished(let succeeded, let seconds)):
            recorder.metrics.finished(canary, succeeded: succeeded, seconds: seconds)
        case .log(let message):
            logger.info("\(message)", metadata: ["canary": "\(canary.qualifiedName)"])
        case .forgetAppliedSpec:
            var canary = canary
            canary.status?.lastAppliedSpec = ""
            return canary
        }
        return canary
    }

    /// What a tick's effects act on, as read at its start.
    struct TickObjects {
        var workload: Workload
        var router: any Router
        var target: Deployment
        var primary: Deployment
    }

    // MARK: - Hooks and metrics

    func payload(_ canary: Canary, phase: CanaryPhase, hook: CanaryWebhook) -> WebhookPayload {
        WebhookPayload(
            name: canary.metadata.name ?? "",
            namespace: canary.metadata.namespace ?? "default",
            phase: phase.rawValue,
            checksum: WebhookPayload.checksum(
                lastAppliedSpec: canary.status?.lastAppliedSpec,
                trackedConfigs: canary.status?.trackedConfigs
            ),
            metadata: hook.metadata ?? [:]
        )
    }

    /// Calls one webhook for `canary`. A failed check (pre-rollout, rollout, post-rollout) carries what may be shown
    /// of the answer (see ``shown(_:_:)``).
    func answer(_ call: HookCall, for canary: Canary) async -> CheckResult {
        let result = await webhooks.call(call.hook, payload: payload(canary, phase: call.phase, hook: call.hook))
        guard !result.succeeded else { return .passed }
        let checks: Set<WebhookType> = [.preRollout, .rollout, .postRollout]
        return .failed(checks.contains(call.type) ? shown(result, canary) : result.summary)
    }

    /// What Events and the status say about a webhook's answer: its body only when the configuration allows
    /// (``ProgressionConfiguration/answersInEvents``); the whole answer always goes to the debug log.
    func shown(_ result: WebhookResult, _ canary: Canary) -> String {
        if result.message != result.summary {
            logger.debug(
                "webhook answer",
                metadata: ["canary": "\(canary.qualifiedName)", "answer": "\(result.message)"]
            )
        }
        return configuration.answersInEvents ? result.message : result.summary
    }

    /// Runs one metric; nil when it passed, else the message of the failed check.
    func check(_ metric: CanaryMetric, canary: Canary) async -> String? {
        let namespace = canary.metadata.namespace ?? "default"
        let target = canary.spec.targetRef.name
        let service = canary.spec.service?.name ?? target
        let interval = metric.interval ?? "1m"
        var address = canary.spec.metricsServer ?? configuration.metricsServer
        var auth = PrometheusAuth.none
        var headers: [String: String] = [:]
        var insecureSkipVerify = false
        let query: String
        do {
            if let reference = metric.templateRef {
                let templateNamespace = reference.namespace ?? namespace
                guard let template = try await kube.get(MetricTemplate.self, templateNamespace, reference.name) else {
                    return "Metric template \(reference.name).\(templateNamespace) not found"
                }
                if let refusal = CrossNamespaceOptIn.refusal(
                    kind: "Metric template",
                    name: reference.name,
                    objectNamespace: templateNamespace,
                    annotations: template.metadata.annotations,
                    from: namespace,
                    allowed: configuration.crossNamespaceRefs
                ) {
                    return refusal
                }
                let providerType = template.spec.provider.type
                guard providerType == "prometheus" else {
                    return
                        "Metric template \(reference.name).\(templateNamespace) provider \(providerType) is not supported; use prometheus"
                }
                if let templateAddress = template.spec.provider.address { address = templateAddress }
                insecureSkipVerify = template.spec.provider.insecureSkipVerify == true
                headers = (template.spec.provider.headers ?? [:]).compactMapValues { $0.first }
                if let secretName = template.spec.provider.secretRef?.name {
                    auth = try await credentials(namespace: templateNamespace, secret: secretName)
                }
                let credentialsFromTemplate = auth != .none || !headers.isEmpty
                // A template's credentials and headers go only to the address the template names, or to the
                // controller's own server: never to a spec.metricsServer the Canary's author chose.
                if credentialsFromTemplate, template.spec.provider.address == nil, canary.spec.metricsServer != nil {
                    return "Metric template \(reference.name).\(templateNamespace) sends credentials but names no "
                        + "provider.address, and this Canary sets spec.metricsServer; the credentials are only sent to "
                        + "the template's own address (set provider.address) or the controller's --metrics-server"
                }
                query = try MetricTemplateRenderer.render(
                    template.spec.query,
                    name: canary.metadata.name ?? "",
                    namespace: namespace,
                    target: target,
                    service: service,
                    interval: interval,
                    variables: metric.templateVariables ?? [:]
                )
            } else if let inline = metric.query {
                query = try MetricTemplateRenderer.render(
                    inline,
                    name: canary.metadata.name ?? "",
                    namespace: namespace,
                    target: target,
                    service: service,
                    interval: interval,
                    variables: metric.templateVariables ?? [:]
                )
            } else if let builtin = LinkerdQueries.query(
                for: metric.name,
                namespace: namespace,
                target: target,
                interval: interval
            ) {
                query = builtin
            } else {
                return "Metric \(metric.name) is not built in and has no templateRef or query"
            }
        } catch let error as MetricQueryError {
            // Flagger's words: "Metric template NAME.NS query render error: …" for a template.
            return MetricAnalysis.failureMessage(
                for: error,
                metric: metric,
                target: target,
                namespace: namespace,
                showingAnswer: configuration.answersInEvents
            )
        } catch {
            return "Metric query failed for \(metric.name): \(error)"
        }
        do {
            try configuration.outbound.check(OutboundURL(address, allowQuery: false))
        } catch {
            return "Metric \(metric.name) query not sent: Prometheus address \(address) \(error.message)"
        }
        let client = PrometheusClient(
            address: address,
            http: http,
            auth: auth,
            headers: headers,
            insecureSkipVerify: insecureSkipVerify
        )
        do {
            let value = try await client.query(query)
            recorder.metrics.metricAnalysis(canary, metric: metric.name, value: value)
            switch MetricAnalysis.evaluate(metric: metric, value: value, canary: canary.qualifiedName) {
            case .pass: return nil
            case .fail(let message): return message
            }
        } catch {
            if error.answer != nil {
                logger.debug(
                    "Prometheus answer",
                    metadata: ["canary": "\(canary.qualifiedName)", "answer": "\(error.messageWithAnswer)"]
                )
            }
            return MetricAnalysis.failureMessage(
                for: error,
                metric: metric,
                target: target,
                namespace: namespace,
                showingAnswer: configuration.answersInEvents
            )
        }
    }

    func credentials(namespace: String, secret: String) async throws -> PrometheusAuth {
        // A GET each time: Secrets are not cacheable (``KubeResource/cacheable``).
        let found = try await kube.get(Secret.self, namespace, secret)
        guard let found else {
            throw MetricQueryError(.template, "secret \(secret).\(namespace) not found")
        }
        func value(_ key: String) -> String? {
            found.data?[key].flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) }
        }
        if let token = value("token") { return .bearer(token) }
        if let user = value("username"), let password = value("password") {
            return .basic(user: user, password: password)
        }
        return .none
    }

    // MARK: - Status

    /// Merge-patches the Canary's status with `change`; returns the Canary as written.
    func writeStatus(_ canary: Canary, _ change: StatusChange) async throws -> Canary {
        let patch = change.patch(
            current: canary.status,
            generation: canary.metadata.generation,
            now: RFC3339.format(clock.timestamp())
        )
        let updated = try await kube.mergePatch(
            Canary.self,
            canary.metadata.namespace ?? "default",
            canary.metadata.name ?? "",
            patch,
            subresource: "status"
        )
        return updated.clampedForRelease()
    }

    /// Removes the action annotation; returns the Canary's new resourceVersion.
    func clearAction(_ canary: Canary) async throws -> String? {
        try await kube.mergePatch(
            Canary.self,
            canary.metadata.namespace ?? "default",
            canary.metadata.name ?? "",
            ["metadata": ["annotations": .object([ReleaseAction.annotation: .null])]]
        ).metadata.resourceVersion
    }

    /// Why `action` cannot act in `phase`, or nil when it can.
    ///
    /// The CLI and the dashboard ask it before setting the annotation, so they refuse what this worker would ignore.
    public static func inapplicable(_ action: ReleaseAction, phase: CanaryPhase, newRevision: Bool) -> String? {
        let steerable: [CanaryPhase] = [.progressing, .waiting, .waitingPromotion]
        switch action {
        case .promote:
            if steerable.contains(phase) || newRevision { return nil }
            if phase == .promoting || phase == .finalising { return "the release is already being promoted" }
            return "no release is in progress (phase \(phase.rawValue))"
        case .abort:
            if steerable.contains(phase) { return nil }
            if phase == .promoting || phase == .finalising {
                return "the release passed its analysis and is being promoted; it can no longer be aborted"
            }
            return "no release is in progress (phase \(phase.rawValue))"
        case .retry:
            return phase == .failed ? nil : "only a Failed release can be retried (phase \(phase.rawValue))"
        }
    }
}
