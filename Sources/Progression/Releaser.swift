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
        let skipAnalysis = canary.spec.skipAnalysis == true
        let target = try await workload.target()
        // The finalizer only once there is a target to revert to, so a Canary that never found one deletes at once.
        if revertOnDeletion { try await setFinalizer(canary, present: true) }
        var phase = canary.status?.phase ?? .initializing
        // The apex service moves to the primary only once the primary is ready (initialisation); afterwards all
        // three are reconciled in one pass.
        try await workload.reconcileServices(target, services: phase == .initializing ? [.canary, .primary] : .all)
        let primary = try await workload.ensurePrimary(target)
        try await workload.reconcilePrimaryHPA()
        let primaryReadiness = ReleaseRules.deploymentReadiness(
            primary,
            threshold: analysis.primaryReadyThreshold ?? 100
        )
        if phase == .initializing, !skipAnalysis, primaryReadiness != .ready {
            await recorder.warning(
                canary,
                "\(workload.primaryName).\(workload.namespace) not ready: \(ReleaseRules.readinessText(primaryReadiness))"
            )
            return .idle
        }
        if phase == .initializing { try await workload.reconcileServices(target, services: [.apex]) }
        let router = workload.router(defaultProvider: configuration.defaultProvider)
        let reconciled = try await router.reconcile()
        let routes = reconciled.routes
        if let repaired = reconciled.repaired { await recorder.warning(canary, repaired) }

        let hash = PodTemplateHash.of(target) ?? ""
        let configs = try await workload.trackedConfigs(target)
        if phase == .initializing {
            try await workload.scaleTarget(0)
            canary = try await writeStatus(
                canary,
                phase: .initialized,
                weight: 0,
                failedChecks: 0,
                iterations: 0,
                applied: hash,
                promoted: hash,
                configs: configs
            )
            await recorder.info(canary, "Initialization done! \(canary.qualifiedName)")
            await recorder.alert(
                canary,
                "New \(canary.spec.targetRef.kind ?? "Deployment") detected, initialization completed.",
                severity: "info",
                metadata: true
            )
            recorder.metrics.status(canary, .initialized)
            return .advanced
        }
        if let action,
            let reason = Self.inapplicable(
                action,
                phase: phase,
                newRevision: ReleaseRules.revision(status: canary.status, templateHash: hash, configs: configs)
                    == .changed
            )
        {
            await recorder.warning(canary, "Ignoring \(ReleaseAction.annotation)=\(action.rawValue): \(reason)")
        }
        if action == .retry, phase == .failed {
            phase = .initialized
            canary.status?.lastAppliedSpec = ""
        }

        let change = ReleaseRules.revision(status: canary.status, templateHash: hash, configs: configs)
        // The canary may not take longer than progressDeadlineSeconds to become ready (we differ from Flagger).
        var canaryReadiness = ReleaseRules.deploymentReadiness(target, threshold: analysis.canaryReadyThreshold ?? 100)
        if case .waiting(let why) = canaryReadiness, phase == .progressing {
            let deadline = Double(canary.spec.progressDeadlineSeconds ?? 600)
            if let since = canary.status?.lastTransitionTime.flatMap(RFC3339.parse),
                clock.elapsed(since: since) > deadline
            {
                canaryReadiness = .failed(
                    "canary deployment \(canary.spec.targetRef.name).\(workload.namespace) not ready after \(Int(deadline))s: \(why)"
                )
            }
        }
        let decision = ReleaseRules.decide(
            TickFacts(
                phase: phase,
                change: change,
                primary: primaryReadiness,
                primaryFailure: primaryFailure(canary, readiness: primaryReadiness, workload: workload),
                canary: canaryReadiness,
                skipAnalysis: skipAnalysis,
                action: action
            )
        )
        var primaryWeight = routes.primary
        var canaryWeight = routes.canary
        var retriable = true
        var notReadyReason = ""
        switch decision {
        case .idle:
            recorder.metrics.status(canary, phase)
            return .idle
        case .waitForPrimary(let why):
            await recorder.warning(canary, "\(workload.primaryName).\(workload.namespace) not ready: \(why)")
            if let action {
                await recorder.warning(
                    canary,
                    "Ignoring \(ReleaseAction.annotation)=\(action.rawValue): \(workload.primaryName).\(workload.namespace) "
                        + "is not ready; run it again once it is"
                )
            }
            return .idle
        case .failPromotion(let reason):
            try await failPromotion(canary, workload: workload, router: router, reason: reason)
            return .advanced
        case .abort:
            recorder.metrics.weight(canary, primary: primaryWeight, canary: canaryWeight)
            await recorder.warning(canary, "Rolling back \(canary.qualifiedName) aborted by fledge abort")
            try await rollback(canary, workload: workload, router: router)
            return .advanced
        case .startRelease:
            recorder.metrics.weight(canary, primary: primaryWeight, canary: canaryWeight)
            // A release starts from all traffic on the primary (after a failed promotion the canary carried it), and
            // so does the wait for confirm-rollout: the new revision takes no traffic before its analysis.
            if routes != Routes(primary: 100, canary: 0) {
                try await router.setWeights(primary: 100, canary: 0)
                recorder.metrics.weight(canary, primary: 100, canary: 0)
            }
            if action != .promote, let gate = await refusingGate(canary, type: "confirm-rollout", phase: phase) {
                if phase != .waiting {
                    let message = "Halt \(canary.qualifiedName) advancement waiting for approval \(gate.name)"
                    _ = try await writeStatus(canary, phase: .waiting, conditionMessage: message)
                    await halt(canary, message, hook: gate)
                }
                return .idle
            }
            await recorder.info(
                canary,
                "New revision detected! Scaling up \(canary.spec.targetRef.name).\(workload.namespace)"
            )
            await recorder.alert(
                canary,
                "New revision detected, progressing canary analysis.",
                severity: "info",
                metadata: true
            )
            try await startAnalysis(
                canary,
                workload: workload,
                target: target,
                primary: primary,
                hash: hash,
                configs: configs
            )
            recorder.metrics.status(canary, .progressing)
            return .advanced
        case .restartAnalysis:
            recorder.metrics.weight(canary, primary: primaryWeight, canary: canaryWeight)
            try await router.setWeights(primary: 100, canary: 0)
            try await startAnalysis(
                canary,
                workload: workload,
                target: target,
                primary: primary,
                hash: hash,
                configs: configs
            )
            await recorder.info(
                canary,
                "New revision detected! Restarting analysis for \(canary.spec.targetRef.name).\(workload.namespace)"
            )
            return .advanced
        case .waitForCanary(let why):
            recorder.metrics.weight(canary, primary: primaryWeight, canary: canaryWeight)
            let message = "canary deployment \(canary.spec.targetRef.name).\(workload.namespace) not ready: \(why)"
            try await noteWhy(canary, message)
            await recorder.warning(canary, message)
            if action == .promote {
                await recorder.warning(
                    canary,
                    "Ignoring \(ReleaseAction.annotation)=promote: the canary is not ready; run it again once it is"
                )
            }
            return .idle
        case .promoteSkippingAnalysis:
            recorder.metrics.weight(canary, primary: primaryWeight, canary: canaryWeight)
            try await router.setWeights(primary: 100, canary: 0)
            await recorder.info(
                canary,
                "Copying \(canary.spec.targetRef.name).\(workload.namespace) template spec to \(workload.primaryName).\(workload.namespace)"
            )
            try await workload.promote(target)
            try await workload.scaleTarget(0)
            _ = try await writeStatus(
                canary,
                phase: .succeeded,
                weight: 0,
                failedChecks: 0,
                iterations: 0,
                promoted: canary.status?.lastAppliedSpec
            )
            await recorder.info(
                canary,
                "Promotion completed! Canary analysis was skipped for \(canary.spec.targetRef.name).\(workload.namespace)"
            )
            await recorder.alert(canary, "Canary analysis was skipped, promotion finished.", severity: "info")
            recorder.metrics.status(canary, .succeeded)
            recorder.metrics.finished(canary, succeeded: true, seconds: duration(canary))
            await runPostRollout(canary, phase: .succeeded)
            return .advanced
        case .proceed(let canaryFailure):
            recorder.metrics.weight(canary, primary: primaryWeight, canary: canaryWeight)
            if let canaryFailure {
                retriable = false
                notReadyReason = canaryFailure
            }
        }

        // Manual rollback: a rollback hook that answers success (`fledge abort` is obeyed above).
        if [.progressing, .waiting, .waitingPromotion].contains(phase) {
            if await rollbackRequested(canary) {
                await recorder.warning(canary, "Rolling back \(canary.qualifiedName) manual webhook invoked")
                await recorder.alert(canary, "Rolling back manual webhook invoked", severity: "warn")
                try await rollback(canary, workload: workload, router: router)
                return .advanced
            }
        }

        if phase == .promoting {
            try await promotionTrafficShift(
                canary,
                workload: workload,
                router: router,
                primaryWeight: primaryWeight,
                canaryWeight: canaryWeight
            )
            return .advanced
        }
        if phase == .finalising {
            try await workload.scaleTarget(0)
            _ = try await writeStatus(
                canary,
                phase: .succeeded,
                weight: 0,
                failedChecks: 0,
                iterations: 0,
                promoted: canary.status?.lastAppliedSpec
            )
            recorder.metrics.status(canary, .succeeded)
            await runPostRollout(canary, phase: .succeeded)
            await recorder.info(
                canary,
                "Promotion completed! Scaling down \(canary.spec.targetRef.name).\(workload.namespace)"
            )
            await recorder.alert(
                canary,
                "Canary analysis completed successfully, promotion finished.",
                severity: "info"
            )
            recorder.metrics.finished(canary, succeeded: true, seconds: duration(canary))
            return .advanced
        }

        let failedChecks = canary.status?.failedChecks ?? 0
        let threshold = analysis.threshold ?? 1
        if phase == .progressing || phase == .waitingPromotion, !retriable || failedChecks >= threshold {
            if !retriable {
                await recorder.warning(
                    canary,
                    "Rolling back \(canary.qualifiedName) progress deadline exceeded \(notReadyReason)"
                )
                await recorder.alert(canary, "Progress deadline exceeded \(notReadyReason)", severity: "error")
            }
            try await rollback(canary, workload: workload, router: router)
            return .advanced
        }

        // Checks: pre-rollout hooks before any traffic moves, then rollout hooks and metrics.
        let iterations = canary.status?.iterations ?? 0
        if action != .promote {
            if canaryWeight == 0, iterations == 0, !(analysis.mirror == true && routes.mirrored) {
                await recorder.info(
                    canary,
                    "Starting canary analysis for \(canary.spec.targetRef.name).\(workload.namespace)"
                )
                if let failure = await runChecks(canary, type: "pre-rollout", phase: phase) {
                    _ = try await writeStatus(canary, failedChecks: failedChecks + 1, conditionMessage: failure)
                    return .advanced
                }
            } else if let failure = await runAnalysis(canary) {
                _ = try await writeStatus(canary, failedChecks: failedChecks + 1, conditionMessage: failure)
                return .advanced
            }
        }

        let provider = Provider(rawValue: canary.spec.provider ?? configuration.defaultProvider) ?? .linkerd
        if let match = analysis.match, !match.isEmpty, (analysis.iterations ?? 0) > 0, provider.canMatch {
            try await abTest(canary, workload: workload, router: router, target: target, promoteNow: action == .promote)
            return .advanced
        }
        if (analysis.iterations ?? 0) > 0 || provider == .kubernetes {
            try await blueGreen(
                canary,
                workload: workload,
                router: router,
                target: target,
                mirrored: routes.mirrored,
                promoteNow: action == .promote
            )
            return .advanced
        }
        // Canary: step the weight until the maximum, then promote.
        let maximum = ReleaseRules.maxWeight(analysis)
        if canaryWeight < maximum, action != .promote {
            if let gate = await refusingGate(canary, type: "confirm-traffic-increase", phase: phase) {
                let message =
                    "Halt \(canary.qualifiedName) advancement waiting for traffic increase approval \(gate.name)"
                try await noteWhy(canary, message)
                await halt(canary, message, hook: gate)
                return .idle
            }
            canaryWeight = ReleaseRules.nextWeight(after: canaryWeight, analysis: analysis)
            primaryWeight = 100 - canaryWeight
            try await router.setWeights(primary: primaryWeight, canary: canaryWeight)
            _ = try await writeStatus(canary, weight: canaryWeight)
            recorder.metrics.weight(canary, primary: primaryWeight, canary: canaryWeight)
            await recorder.info(canary, "Advance \(canary.qualifiedName) canary weight \(canaryWeight)")
            return .advanced
        }
        try await promote(
            canary,
            workload: workload,
            target: target,
            phase: phase,
            weight: canaryWeight,
            force: action == .promote
        )
        return .advanced
    }

    // MARK: - Steps

    /// Scales the canary up and records a fresh analysis of revision `hash`: Progressing, weight 0, no failed
    /// checks, no iterations.
    func startAnalysis(
        _ canary: Canary,
        workload: Workload,
        target: Deployment,
        primary: Deployment,
        hash: String,
        configs: [String: String]
    ) async throws {
        try await workload.scaleUpTarget(target, primary: primary)
        _ = try await writeStatus(
            canary,
            phase: .progressing,
            weight: 0,
            failedChecks: 0,
            iterations: 0,
            applied: hash,
            configs: configs,
            transition: true
        )
    }

    func promote(
        _ canary: Canary,
        workload: Workload,
        target: Deployment,
        phase: CanaryPhase,
        weight: Int,
        force: Bool
    ) async throws {
        if !force, let gate = await refusingGate(canary, type: "confirm-promotion", phase: phase) {
            try await waitForPromotion(canary, gate: gate)
            return
        }
        await recorder.info(
            canary,
            "Copying \(canary.spec.targetRef.name).\(workload.namespace) template spec to \(workload.primaryName).\(workload.namespace)"
        )
        try await workload.promote(target)
        _ = try await writeStatus(canary, phase: .promoting, weight: weight)
        recorder.metrics.status(canary, .promoting)
    }

    func promotionTrafficShift(
        _ canary: Canary,
        workload: Workload,
        router: any Router,
        primaryWeight: Int,
        canaryWeight: Int
    ) async throws {
        let analysis = canary.spec.effectiveAnalysis ?? CanaryAnalysis()
        let provider = Provider(rawValue: canary.spec.provider ?? configuration.defaultProvider) ?? .linkerd
        if provider == .kubernetes {
            _ = try await writeStatus(canary, phase: .finalising, weight: 0)
            return
        }
        guard let step = analysis.stepWeightPromotion, step > 0, canaryWeight > 0 else {
            await recorder.info(canary, "Routing all traffic to primary")
            try await router.setWeights(primary: 100, canary: 0)
            recorder.metrics.weight(canary, primary: 100, canary: 0)
            _ = try await writeStatus(canary, phase: .finalising, weight: 0)
            return
        }
        let primary = ReleaseRules.promotionStep(primaryWeight: primaryWeight, analysis: analysis)
        let canaryShare = max(100 - primary, 0)
        try await router.setWeights(primary: primary, canary: canaryShare)
        recorder.metrics.weight(canary, primary: primary, canary: canaryShare)
        await recorder.info(canary, "Advance \(canary.qualifiedName) primary weight \(primary)")
        _ = try await writeStatus(canary, phase: primary >= 100 ? .finalising : .promoting, weight: canaryShare)
    }

    /// A/B testing: the requests `analysis.match` selects go to the canary for `iterations` rounds of checks (every
    /// other request stays on the primary), then promotion.
    func abTest(
        _ canary: Canary,
        workload: Workload,
        router: any Router,
        target: Deployment,
        promoteNow: Bool
    ) async throws {
        let analysis = canary.spec.effectiveAnalysis ?? CanaryAnalysis()
        let done = canary.status?.iterations ?? 0
        let wanted = max(analysis.iterations ?? 1, 1)
        // Never send all traffic to the canary when the selection cannot be written (the webhook refuses such a
        // Canary; this one got past it): roll back with the reason.
        let selection = GatewayRouteMatches.convert(
            analysis.match ?? [],
            at: FieldPath("spec.analysis.match"),
            analysis: true
        )
        if !selection.problems.isEmpty || selection.matches.isEmpty {
            let why =
                selection.problems.first.map { "\($0.path): \($0.message)" }
                ?? "spec.analysis.match selects no requests"
            await recorder.warning(
                canary,
                "Rolling back \(canary.qualifiedName) A/B selection cannot be routed: \(why)"
            )
            try await rollback(canary, workload: workload, router: router)
            return
        }
        if done < wanted, !promoteNow {
            try await router.setWeights(primary: 0, canary: 100)
            recorder.metrics.weight(canary, primary: 0, canary: 100)
            _ = try await writeStatus(canary, iterations: done + 1)
            await recorder.info(canary, "Advance \(canary.qualifiedName) canary iteration \(done + 1)/\(wanted)")
            return
        }
        if !promoteNow,
            let gate = await refusingGate(
                canary,
                type: "confirm-promotion",
                phase: canary.status?.phase ?? .progressing
            )
        {
            try await waitForPromotion(canary, gate: gate)
            return
        }
        await recorder.info(
            canary,
            "Copying \(canary.spec.targetRef.name).\(workload.namespace) template spec to \(workload.primaryName).\(workload.namespace)"
        )
        try await workload.promote(target)
        _ = try await writeStatus(canary, phase: .promoting)
        recorder.metrics.status(canary, .promoting)
    }

    func blueGreen(
        _ canary: Canary,
        workload: Workload,
        router: any Router,
        target: Deployment,
        mirrored: Bool,
        promoteNow: Bool
    ) async throws {
        let analysis = canary.spec.effectiveAnalysis ?? CanaryAnalysis()
        let provider = Provider(rawValue: canary.spec.provider ?? configuration.defaultProvider) ?? .linkerd
        let done = canary.status?.iterations ?? 0
        let wanted = max(analysis.iterations ?? 1, 1)
        if done < wanted, !promoteNow {
            // Mirroring: the canary sees a copy of every request during the checks; only the primary answers.
            if analysis.mirror == true, provider.canMirror, !mirrored {
                try await router.setRoutes(primary: 100, canary: 0, mirrored: true)
                logger.info("Start traffic mirroring", metadata: ["canary": "\(canary.qualifiedName)"])
            }
            _ = try await writeStatus(canary, iterations: done + 1)
            await recorder.info(canary, "Advance \(canary.qualifiedName) canary iteration \(done + 1)/\(wanted)")
            return
        }
        if !promoteNow,
            let gate = await refusingGate(
                canary,
                type: "confirm-promotion",
                phase: canary.status?.phase ?? .progressing
            )
        {
            try await waitForPromotion(canary, gate: gate)
            return
        }
        if provider != .kubernetes, (canary.status?.canaryWeight ?? 0) < 100 {
            // All traffic to the canary for one more round of checks, then promotion.
            await recorder.info(
                canary,
                mirrored ? "Stop traffic mirroring and route all traffic to canary" : "Routing all traffic to canary"
            )
            try await router.setWeights(primary: 0, canary: 100)
            recorder.metrics.weight(canary, primary: 0, canary: 100)
            _ = try await writeStatus(canary, weight: 100)
            return
        }
        await recorder.info(
            canary,
            "Copying \(canary.spec.targetRef.name).\(workload.namespace) template spec to \(workload.primaryName).\(workload.namespace)"
        )
        try await workload.promote(target)
        _ = try await writeStatus(canary, phase: .promoting, weight: provider == .kubernetes ? 0 : 100)
    }

    func rollback(_ canary: Canary, workload: Workload, router: any Router) async throws {
        let failedChecks = canary.status?.failedChecks ?? 0
        let threshold = canary.spec.effectiveAnalysis?.threshold ?? 1
        if failedChecks >= threshold {
            await recorder.warning(
                canary,
                "Rolling back \(canary.qualifiedName) failed checks threshold reached \(failedChecks)"
            )
            await recorder.alert(canary, "Failed checks threshold reached \(failedChecks)", severity: "error")
        }
        try await router.setWeights(primary: 100, canary: 0)
        recorder.metrics.weight(canary, primary: 100, canary: 0)
        await recorder.warning(canary, "Canary failed! Scaling down \(canary.qualifiedName)")
        await recorder.alert(canary, "Canary analysis failed, rollback finished.", severity: "error")
        try await workload.scaleTarget(0)
        _ = try await writeStatus(canary, phase: .failed, weight: 0, failedChecks: 0, iterations: 0, transition: true)
        recorder.metrics.status(canary, .failed)
        recorder.metrics.finished(canary, succeeded: false, seconds: duration(canary))
        await runPostRollout(canary, phase: .failed)
    }

    /// Why the primary will not become ready while it rolls out the promoted template: its progress deadline
    /// passed, or (we differ) it has been waiting longer than `progressDeadlineSeconds` since promotion started.
    func primaryFailure(_ canary: Canary, readiness: Readiness, workload: Workload) -> String? {
        switch readiness {
        case .ready: return nil
        case .failed(let why): return why
        case .waiting(let why):
            let deadline = Double(canary.spec.progressDeadlineSeconds ?? 600)
            guard let since = canary.status?.lastTransitionTime.flatMap(RFC3339.parse),
                clock.elapsed(since: since) > deadline
            else { return nil }
            return "not ready after \(Int(deadline))s: \(why)"
        }
    }

    /// The primary failed to roll out the promoted template: the canary, which passed its analysis, keeps running
    /// and takes all the traffic (the primary cannot serve it); phase Failed with canary weight 100.
    func failPromotion(_ canary: Canary, workload: Workload, router: any Router, reason: String) async throws {
        let provider = Provider(rawValue: canary.spec.provider ?? configuration.defaultProvider) ?? .linkerd
        let routed = provider.canShiftWeights
        if routed {
            try await router.setWeights(primary: 0, canary: 100)
            recorder.metrics.weight(canary, primary: 0, canary: 100)
        }
        let target = "\(canary.spec.targetRef.name).\(workload.namespace)"
        await recorder.warning(
            canary,
            "Promotion failed! \(workload.primaryName).\(workload.namespace) \(reason); "
                + (routed
                    ? "routing all traffic to the canary \(target), which keeps running"
                    : "the canary \(target) keeps running")
        )
        await recorder.alert(canary, "Promotion failed, primary not ready: \(reason)", severity: "error")
        _ = try await writeStatus(
            canary,
            phase: .failed,
            weight: routed ? 100 : 0,
            failedChecks: 0,
            iterations: 0,
            transition: true,
            conditionMessage: "Promotion failed: the primary did not become ready; the canary serves the traffic."
        )
        recorder.metrics.status(canary, .failed)
        recorder.metrics.finished(canary, succeeded: false, seconds: duration(canary))
        await runPostRollout(canary, phase: .failed)
    }

    func duration(_ canary: Canary) -> Double {
        guard let since = canary.status?.lastTransitionTime.flatMap(RFC3339.parse) else { return 0 }
        return max(clock.elapsed(since: since), 0)
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

    func hooks(_ canary: Canary, type: String) -> [CanaryWebhook] {
        (canary.spec.effectiveAnalysis?.webhooks ?? []).filter {
            ($0.type ?? "").isEmpty ? type == "rollout" : $0.type == type
        }
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

    /// Confirm-* gates: every hook must answer success; a refusal only pauses. Returns the hook that refused.
    func refusingGate(_ canary: Canary, type: String, phase: CanaryPhase) async -> CanaryWebhook? {
        for hook in hooks(canary, type: type) {
            let result = await webhooks.call(hook, payload: payload(canary, phase: phase, hook: hook))
            if !result.succeeded { return hook }
            let label = type.prefix(1).uppercased() + type.dropFirst()
            await recorder.info(canary, "\(label) check \(hook.name) passed")
        }
        return nil
    }

    /// Confirm-promotion said wait: WaitingPromotion, announced once (Flagger).
    func waitForPromotion(_ canary: Canary, gate: CanaryWebhook) async throws {
        guard canary.status?.phase != .waitingPromotion else { return }
        let message = "Halt \(canary.qualifiedName) advancement waiting for promotion approval \(gate.name)"
        _ = try await writeStatus(canary, phase: .waitingPromotion, conditionMessage: message)
        await halt(canary, message, hook: gate)
    }

    /// A gate said wait: a warning event and, unless the hook mutes it, a warn alert with the same words (Flagger).
    func halt(_ canary: Canary, _ message: String, hook: CanaryWebhook) async {
        await recorder.warning(canary, message)
        if hook.muteAlert != true { await recorder.alert(canary, message, severity: "warn") }
    }

    /// Pre-rollout hooks: a failure is a failed check.
    func runChecks(_ canary: Canary, type: String, phase: CanaryPhase) async -> String? {
        for hook in hooks(canary, type: type) {
            let result = await webhooks.call(hook, payload: payload(canary, phase: phase, hook: hook))
            if !result.succeeded {
                let failure =
                    "Halt \(canary.qualifiedName) advancement \(type) check \(hook.name) failed \(shown(result, canary))"
                await recorder.warning(canary, failure)
                return failure
            }
            await recorder.info(canary, "Pre-rollout check \(hook.name) passed")
        }
        return nil
    }

    func runPostRollout(_ canary: Canary, phase: CanaryPhase) async {
        for hook in hooks(canary, type: "post-rollout") {
            let result = await webhooks.call(hook, payload: payload(canary, phase: phase, hook: hook))
            if result.succeeded {
                await recorder.info(canary, "Post-rollout check \(hook.name) passed")
            } else {
                await recorder.warning(canary, "Post-rollout hook \(hook.name) failed \(shown(result, canary))")
            }
        }
    }

    func rollbackRequested(_ canary: Canary) async -> Bool {
        for hook in hooks(canary, type: "rollback") {
            let result = await webhooks.call(
                hook,
                payload: payload(canary, phase: canary.status?.phase ?? .progressing, hook: hook)
            )
            if result.succeeded { return true }
        }
        return false
    }

    /// Rollout hooks, then every metric; the first failure ends the tick as a failed check.
    /// Rollout hooks, then metrics; the message of the first failed check, or nil when all passed.
    func runAnalysis(_ canary: Canary) async -> String? {
        for hook in hooks(canary, type: "rollout") {
            let result = await webhooks.call(hook, payload: payload(canary, phase: .progressing, hook: hook))
            if !result.succeeded {
                let failure =
                    "Halt \(canary.qualifiedName) advancement external check \(hook.name) failed \(shown(result, canary))"
                await recorder.warning(canary, failure)
                return failure
            }
        }
        for metric in canary.spec.effectiveAnalysis?.metrics ?? [] {
            if let failure = await check(metric, canary: canary) {
                await recorder.warning(canary, failure)
                return failure
            }
        }
        return nil
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
        // Read by GET each time: the worker's cache keeps no Secret's data.
        let found = try await kube.call { try await kube.client.get(Secret.self, namespace: namespace, name: secret) }
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

    /// Merge-patches the Canary's status; nil arguments leave fields alone. Keeps the `Promoted` condition in step.
    @discardableResult
    func writeStatus(
        _ canary: Canary,
        phase: CanaryPhase? = nil,
        weight: Int? = nil,
        failedChecks: Int? = nil,
        iterations: Int? = nil,
        applied: String? = nil,
        promoted: String? = nil,
        configs: [String: String]? = nil,
        transition: Bool = false,
        conditionMessage: String? = nil
    ) async throws -> Canary {
        var status: [String: JSONValue] = [:]
        let now = RFC3339.format(clock.timestamp())
        if let phase {
            status["phase"] = .string(phase.rawValue)
            if phase != canary.status?.phase || transition { status["lastTransitionTime"] = .string(now) }
        } else if transition {
            status["lastTransitionTime"] = .string(now)
        }
        // The Promoted condition says why the release stands where it stands: written with every phase change, every
        // step (back to the phase's own words) and every halt (its reason), so `kubectl get canary` shows it.
        if let phase = phase
            ?? (conditionMessage != nil || weight != nil || iterations != nil ? canary.status?.phase : nil)
        {
            let condition = ReleaseRules.promotedCondition(phase: phase)
            let previous = canary.status?.conditions?.first { $0.type == "Promoted" }
            status["conditions"] = [
                [
                    "type": "Promoted", "status": .string(condition.status), "reason": .string(phase.rawValue),
                    "message": .string(conditionMessage ?? condition.message), "lastUpdateTime": .string(now),
                    "lastTransitionTime": .string(
                        previous?.status == condition.status ? previous?.lastTransitionTime ?? now : now
                    ),
                ]
            ]
        }
        if let weight { status["canaryWeight"] = .int(Int64(weight)) }
        if let failedChecks { status["failedChecks"] = .int(Int64(failedChecks)) }
        if let iterations { status["iterations"] = .int(Int64(iterations)) }
        if let applied { status["lastAppliedSpec"] = .string(applied) }
        if let promoted { status["lastPromotedSpec"] = .string(promoted) }
        if let configs { status["trackedConfigs"] = .object(configs.mapValues { .string($0) }) }
        if let generation = canary.metadata.generation { status["observedGeneration"] = .int(generation) }
        let updated = try await kube.mergePatch(
            Canary.self,
            canary.metadata.namespace ?? "default",
            canary.metadata.name ?? "",
            ["status": .object(status)],
            subresource: "status"
        )
        return updated.clampedForRelease()
    }

    /// Records why the release waits in the Promoted condition, writing only when the reason changed.
    func noteWhy(_ canary: Canary, _ message: String) async throws {
        guard let phase = canary.status?.phase,
            canary.status?.conditions?.first(where: { $0.type == "Promoted" })?.message != message
        else { return }
        _ = try await writeStatus(canary, phase: phase, conditionMessage: message)
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
