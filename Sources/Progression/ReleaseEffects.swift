import CanaryModel
import JSONValue

/// One thing a tick does to the world, decided by ``ReleaseMachine`` and carried out, in order, by the ``Releaser``.
enum ReleaseEffect: Sendable, Equatable {
    /// Points the traffic object at these weights (and mirroring, where the provider mirrors).
    case setRoutes(Routes)
    /// Merge-patches the Canary's status.
    case patchStatus(StatusChange)
    /// Records a Kubernetes Event on the Canary (and the log line and `event` hooks that go with it).
    case event(String, EventType)
    /// Sends an alert to the Canary's alert providers; `withFacts` adds Flagger's fields (target, threshold, …).
    case alert(String, AlertSeverity, withFacts: Bool)
    /// Scales the target Deployment.
    case scaleTarget(TargetScale)
    /// Copies the target's pod template, and the ConfigMaps and Secrets it uses, to the primary.
    case promote
    /// Updates the `flagger_*` metrics.
    case metrics(MetricsUpdate)
    /// A log line that is no Event (Flagger logs it only).
    case log(String)
    /// For `fledge retry`: the rest of the tick treats the Canary as having no applied revision, so the hooks and
    /// events of the retried release carry the checksum a first release carries.
    case forgetAppliedSpec
}

/// The type of a Kubernetes Event.
enum EventType: String, Sendable, Equatable {
    case normal = "Normal"
    case warning = "Warning"
}

/// How the target is scaled.
enum TargetScale: Sendable, Equatable {
    /// To zero: no release runs, the primary serves.
    case zero
    /// Up for a release: its own replicas, else the primary's, else the HPA minimum, else 1.
    case up
}

/// A change to the `flagger_*` metrics.
enum MetricsUpdate: Sendable, Equatable {
    /// `flagger_canary_status`.
    case status(CanaryPhase)
    /// `flagger_canary_weight` of the primary and the canary.
    case weight(primary: Int, canary: Int)
    /// A release ended: `flagger_canary_successes_total` or `_failures_total`, and its duration.
    case finished(succeeded: Bool, seconds: Double)
}

/// One write of the Canary's status: what changes; a nil field is left alone. The `Promoted` condition follows the
/// phase (see ``patch(current:generation:now:)``).
struct StatusChange: Sendable, Equatable {
    var phase: CanaryPhase?
    var canaryWeight: Int?
    var failedChecks: Int?
    var iterations: Int?
    var lastAppliedSpec: String?
    var lastPromotedSpec: String?
    var trackedConfigs: [String: String]?
    /// Sets `lastTransitionTime` even when the phase stays (a release that starts again).
    var transition = false
    /// Why the release stands where it stands, instead of the phase's own words in the `Promoted` condition.
    var conditionMessage: String?
    /// Whether the rest of the tick sees the Canary as this write leaves it (its events and hooks carry the new
    /// phase and checksum). Only the end of initialisation does.
    var adopt = false

    init(
        phase: CanaryPhase? = nil,
        canaryWeight: Int? = nil,
        failedChecks: Int? = nil,
        iterations: Int? = nil,
        lastAppliedSpec: String? = nil,
        lastPromotedSpec: String? = nil,
        trackedConfigs: [String: String]? = nil,
        transition: Bool = false,
        conditionMessage: String? = nil,
        adopt: Bool = false
    ) {
        self.phase = phase
        self.canaryWeight = canaryWeight
        self.failedChecks = failedChecks
        self.iterations = iterations
        self.lastAppliedSpec = lastAppliedSpec
        self.lastPromotedSpec = lastPromotedSpec
        self.trackedConfigs = trackedConfigs
        self.transition = transition
        self.conditionMessage = conditionMessage
        self.adopt = adopt
    }

    /// A fresh count of the release: weight, failed checks and iterations at 0.
    static func counters(phase: CanaryPhase, transition: Bool = false) -> StatusChange {
        StatusChange(phase: phase, canaryWeight: 0, failedChecks: 0, iterations: 0, transition: transition)
    }

    /// The merge patch of the status subresource that makes this change to `current`, at time `now` (RFC 3339).
    ///
    /// A new phase sets `lastTransitionTime` (as does ``transition``). The `Promoted` condition is written with every
    /// phase change, every step (back to the phase's own words) and every halt (its reason), so `kubectl get canary`
    /// shows why the release stands where it stands; its `lastTransitionTime` moves only when its status does.
    func patch(current: CanaryStatus?, generation: Int64?, now: String) -> JSONValue {
        var status: [String: JSONValue] = [:]
        if let phase {
            status["phase"] = .string(phase.rawValue)
            if phase != current?.phase || transition { status["lastTransitionTime"] = .string(now) }
        } else if transition {
            status["lastTransitionTime"] = .string(now)
        }
        let shownPhase =
            phase ?? (conditionMessage != nil || canaryWeight != nil || iterations != nil ? current?.phase : nil)
        if let shownPhase {
            let condition = ReleaseRules.promotedCondition(phase: shownPhase)
            let previous = current?.conditions?.first { $0.type == "Promoted" }
            status["conditions"] = [
                [
                    "type": "Promoted", "status": .string(condition.status), "reason": .string(shownPhase.rawValue),
                    "message": .string(conditionMessage ?? condition.message), "lastUpdateTime": .string(now),
                    "lastTransitionTime": .string(
                        previous?.status == condition.status ? previous?.lastTransitionTime ?? now : now
                    ),
                ]
            ]
        }
        if let canaryWeight { status["canaryWeight"] = .int(Int64(canaryWeight)) }
        if let failedChecks { status["failedChecks"] = .int(Int64(failedChecks)) }
        if let iterations { status["iterations"] = .int(Int64(iterations)) }
        if let lastAppliedSpec { status["lastAppliedSpec"] = .string(lastAppliedSpec) }
        if let lastPromotedSpec { status["lastPromotedSpec"] = .string(lastPromotedSpec) }
        if let trackedConfigs { status["trackedConfigs"] = .object(trackedConfigs.mapValues { .string($0) }) }
        if let generation { status["observedGeneration"] = .int(generation) }
        return ["status": .object(status)]
    }
}

// MARK: - What the machine asks

/// What ``ReleaseMachine`` needs to know and cannot know without I/O; the ``Releaser`` finds out and plans again.
enum ReleaseQuestion: Sendable, Hashable {
    /// The traffic object, reconciled (created when missing, repaired when it holds weights no release writes); at
    /// initialisation the apex service moves to the primary first.
    case routes
    /// The target's pod-template hash and the checksums of the configs it uses.
    case revision
    /// Call one webhook.
    case hook(HookCall)
    /// Run one metric check.
    case metric(MetricCheck)
}

/// One webhook call: the hook, its type, and the phase its payload carries.
struct HookCall: Sendable, Hashable {
    /// Where the hook stands in `analysis.webhooks`.
    var index: Int
    var hook: CanaryWebhook
    var type: WebhookType
    var phase: CanaryPhase
}

/// One metric check of `analysis.metrics`.
struct MetricCheck: Sendable, Hashable {
    /// Where the metric stands in `analysis.metrics`.
    var index: Int
    var metric: CanaryMetric
}

/// How a webhook answered or a metric checked out.
enum CheckResult: Sendable, Equatable {
    case passed
    /// Failed, with what the events may say about it (a webhook's answer only when the configuration allows).
    case failed(String)
}

/// The target's revision: its pod-template hash and the checksums of its tracked ConfigMaps and Secrets.
struct Revision: Sendable, Equatable {
    var hash: String
    var configs: [String: String]
}

/// The answers to ``ReleaseQuestion``s found so far in a tick. Each question is asked at most once a tick: once
/// answered, planning again reads the answer.
struct ReleaseAnswers: Sendable, Equatable {
    var routes: ReconciledRoutes?
    var revision: Revision?
    var hooks: [HookCall: CheckResult] = [:]
    var metrics: [MetricCheck: CheckResult] = [:]

    init(
        routes: ReconciledRoutes? = nil,
        revision: Revision? = nil,
        hooks: [HookCall: CheckResult] = [:],
        metrics: [MetricCheck: CheckResult] = [:]
    ) {
        self.routes = routes
        self.revision = revision
        self.hooks = hooks
        self.metrics = metrics
    }
}

/// What ``ReleaseMachine/plan(_:)`` decided with the answers it had: the effects of the tick so far, then either the
/// next question or the tick's end.
struct ReleasePlan: Sendable, Equatable {
    enum Step: Sendable, Equatable {
        /// Carry out the effects, answer this, and plan again: the effects planned so far come first again.
        case needs(ReleaseQuestion)
        /// Carry out the effects; the tick is over.
        case done(TickOutcome)
    }

    var effects: [ReleaseEffect]
    var step: Step
}
