import CanaryModel
import Foundation
import KubeModels

/// What a tick knows before it decides: the Canary's spec and status, the action annotation, the readiness of the
/// primary and of the canary, and the time since the last transition. The input of ``ReleaseMachine``.
struct ReleaseFacts: Sendable, Equatable {
    /// `name.namespace` of the Canary.
    var canary: String
    /// The target Deployment's name.
    var target: String
    /// The namespace of the Canary and its workloads.
    var namespace: String
    /// The target's kind, as the announcements name it.
    var kind: String
    /// The analysis, clamped to what can run.
    var analysis: CanaryAnalysis
    var provider: Provider
    var skipAnalysis: Bool
    var progressDeadlineSeconds: Int
    /// The status as read; nil for a Canary never seen.
    var status: CanaryStatus?
    /// The `fledge.dev/action` read this tick (already removed from the Canary).
    var action: ReleaseAction?
    /// The primary's readiness.
    var primary: Readiness
    /// The canary's readiness, from the target's own status.
    var canaryReadiness: Readiness
    /// Seconds since `status.lastTransitionTime`, nil when the status has none.
    var secondsSinceTransition: Double?

    /// `target.namespace`, as Flagger's events name the target.
    var targetName: String { "\(target).\(namespace)" }
    /// `target-primary.namespace`.
    var primaryName: String { "\(target)-primary.\(namespace)" }
    /// The phase as read, `Initializing` for a Canary never seen.
    var phase: CanaryPhase { status?.phase ?? .initializing }
}

extension ReleaseFacts {
    /// The facts of `canary` (clamped for release); `elapsed` tells the release clock's seconds since a timestamp
    /// the worker wrote (``ReleaseClock/elapsed(since:)``).
    init(
        canary: Canary,
        defaultProvider: String,
        action: ReleaseAction?,
        primary: Readiness,
        canaryReadiness: Readiness,
        elapsed: (Date) -> TimeInterval
    ) {
        self.canary = canary.qualifiedName
        target = canary.spec.targetRef.name
        namespace = canary.metadata.namespace ?? "default"
        kind = canary.spec.targetRef.kind ?? "Deployment"
        analysis = canary.spec.effectiveAnalysis ?? CanaryAnalysis()
        provider = Provider(rawValue: canary.spec.provider ?? defaultProvider) ?? .linkerd
        skipAnalysis = canary.spec.skipAnalysis == true
        progressDeadlineSeconds = canary.spec.progressDeadlineSeconds ?? 600
        status = canary.status
        self.action = action
        self.primary = primary
        self.canaryReadiness = canaryReadiness
        secondsSinceTransition = canary.status?.lastTransitionTime.flatMap(RFC3339.parse).map(elapsed)
    }
}

/// The release state machine (BEHAVIOUR.md §3, with our differences of §8), in Flagger's order: facts in, effects
/// out, no I/O.
///
/// ``plan(_:)`` runs the tick's rules with the answers found so far. Where a rule needs what only I/O can tell (the
/// traffic object, the target's revision, a webhook's answer, a metric), the plan stops at that question after the
/// effects that come before it; the ``Releaser`` carries those out, answers, and plans again. Planning is pure, so
/// planning again yields the same effects up to that point and then goes further: each question is asked once, and
/// only when the rules reach it.
struct ReleaseMachine: Sendable {
    let facts: ReleaseFacts

    init(_ facts: ReleaseFacts) { self.facts = facts }

    /// The phases in which a release is under way.
    static let releasePhases: Set<CanaryPhase> = [.progressing, .waiting, .waitingPromotion, .promoting, .finalising]

    /// The tick's effects so far, and its next question or its end.
    func plan(_ answers: ReleaseAnswers) -> ReleasePlan {
        var tick = Tick(facts: facts, answers: answers)
        do {
            let outcome = try tick.run()
            return ReleasePlan(effects: tick.effects, step: .done(outcome))
        } catch {
            return ReleasePlan(effects: tick.effects, step: .needs(error.question))
        }
    }
}

/// A question the rules reached without its answer: planning stops there.
struct Unanswered: Error {
    var question: ReleaseQuestion
}

/// One planning of one tick: the rules, written in the order they apply, appending effects as they go.
private struct Tick {
    let facts: ReleaseFacts
    let answers: ReleaseAnswers
    var effects: [ReleaseEffect] = []
    /// The phase the rules work with: `Initialized` again for a `fledge retry` of a Failed release.
    var phase: CanaryPhase
    /// The status the rules work with (a retried release has no applied revision).
    var status: CanaryStatus?
    /// The routes the traffic object had when reconciled.
    var routes = Routes(primary: 100, canary: 0)
    var revision = Revision(hash: "", configs: [:])

    init(facts: ReleaseFacts, answers: ReleaseAnswers) {
        self.facts = facts
        self.answers = answers
        phase = facts.phase
        status = facts.status
    }

    var analysis: CanaryAnalysis { facts.analysis }
    var action: ReleaseAction? { facts.action }

    // MARK: Recording

    mutating func info(_ message: String) { effects.append(.event(message, .normal)) }
    mutating func warning(_ message: String) { effects.append(.event(message, .warning)) }
    mutating func alert(_ message: String, _ severity: AlertSeverity, withFacts: Bool = false) {
        effects.append(.alert(message, severity, withFacts: withFacts))
    }
    mutating func write(_ change: StatusChange) { effects.append(.patchStatus(change)) }
    mutating func route(primary: Int, canary: Int, mirrored: Bool = false) {
        effects.append(.setRoutes(Routes(primary: primary, canary: canary, mirrored: mirrored)))
    }
    mutating func metrics(_ update: MetricsUpdate) { effects.append(.metrics(update)) }
    mutating func weightMetrics(_ routes: Routes) { metrics(.weight(primary: routes.primary, canary: routes.canary)) }

    /// Seconds since the last transition: how long the release ran.
    var duration: Double { max(facts.secondsSinceTransition ?? 0, 0) }

    // MARK: The tick

    mutating func run() throws(Unanswered) -> TickOutcome {
        // Initialisation waits for the primary before the apex service and the traffic object point at it.
        if phase == .initializing, !facts.skipAnalysis, facts.primary != .ready {
            warning("\(facts.primaryName) not ready: \(ReleaseRules.readinessText(facts.primary))")
            return .idle
        }
        guard let reconciled = answers.routes else { throw Unanswered(question: .routes) }
        routes = reconciled.routes
        if let repaired = reconciled.repaired { warning(repaired) }
        guard let revision = answers.revision else { throw Unanswered(question: .revision) }
        self.revision = revision
        if phase == .initializing { return initialise() }

        if let action,
            let reason = Releaser.inapplicable(
                action,
                phase: phase,
                newRevision: ReleaseRules.revision(
                    status: status,
                    templateHash: revision.hash,
                    configs: revision.configs
                )
                    == .changed
            )
        {
            warning("Ignoring \(ReleaseAction.annotation)=\(action.rawValue): \(reason)")
        }
        if action == .retry, phase == .failed {
            phase = .initialized
            status?.lastAppliedSpec = ""
            effects.append(.forgetAppliedSpec)
        }
        return try dispatch()
    }

    /// The first decisions, in Flagger's order: nothing to do, the primary, `fledge abort`, a new revision, the
    /// canary's readiness, `skipAnalysis`; then the analysis.
    mutating func dispatch() throws(Unanswered) -> TickOutcome {
        let change = ReleaseRules.revision(status: status, templateHash: revision.hash, configs: revision.configs)
        let inRelease = ReleaseMachine.releasePhases.contains(phase)
        if !inRelease, change == .unchanged {
            metrics(.status(phase))
            return .idle
        }
        if !facts.skipAnalysis, facts.primary != .ready {
            if phase == .promoting || phase == .finalising, let failure = primaryFailure {
                return try failPromotion(failure)
            }
            return waitForPrimary()
        }
        if action == .abort, phase == .waiting { return try abort() }
        if !inRelease || phase == .waiting { return try startRelease() }
        if phase == .progressing || phase == .waitingPromotion, change == .changed { return restartAnalysis() }
        // `fledge abort` needs no ready canary.
        if action == .abort, phase == .progressing || phase == .waitingPromotion { return try abort() }
        let canary = canaryReadiness
        if case .waiting(let why) = canary, phase != .promoting, phase != .finalising { return waitForCanary(why) }
        if facts.skipAnalysis, phase == .progressing { return try promoteSkippingAnalysis() }
        weightMetrics(routes)
        if case .failed(let why) = canary { return try analyse(canaryFailure: why) }
        return try analyse(canaryFailure: nil)
    }

    /// Why the primary will not become ready while it rolls out the promoted template: its progress deadline
    /// passed, or (we differ) it has been waiting longer than `progressDeadlineSeconds` since promotion started.
    var primaryFailure: String? {
        switch facts.primary {
        case .ready: return nil
        case .failed(let why): return why
        case .waiting(let why):
            guard deadlinePassed else { return nil }
            return "not ready after \(facts.progressDeadlineSeconds)s: \(why)"
        }
    }

    /// The canary's readiness; one still waiting `progressDeadlineSeconds` after its release started will never
    /// be ready (we differ from Flagger, which waits forever).
    var canaryReadiness: Readiness {
        guard case .waiting(let why) = facts.canaryReadiness, phase == .progressing, deadlinePassed else {
            return facts.canaryReadiness
        }
        return .failed(
            "canary deployment \(facts.targetName) not ready after \(facts.progressDeadlineSeconds)s: \(why)"
        )
    }

    var deadlinePassed: Bool {
        guard let seconds = facts.secondsSinceTransition else { return false }
        return seconds > Double(facts.progressDeadlineSeconds)
    }

    // MARK: Before the analysis

    /// The primary is ready: the target scales to 0 and the Canary is Initialized at its revision.
    mutating func initialise() -> TickOutcome {
        effects.append(.scaleTarget(.zero))
        var change = StatusChange.counters(phase: .initialized)
        change.lastAppliedSpec = revision.hash
        change.lastPromotedSpec = revision.hash
        change.trackedConfigs = revision.configs
        change.adopt = true
        write(change)
        info("Initialization done! \(facts.canary)")
        alert("New \(facts.kind) detected, initialization completed.", .info, withFacts: true)
        metrics(.status(.initialized))
        return .advanced
    }

    mutating func waitForPrimary() -> TickOutcome {
        warning("\(facts.primaryName) not ready: \(ReleaseRules.readinessText(facts.primary))")
        if let action {
            warning(
                "Ignoring \(ReleaseAction.annotation)=\(action.rawValue): \(facts.primaryName) is not ready; "
                    + "run it again once it is"
            )
        }
        return .idle
    }

    /// The primary failed to roll out the promoted template: the canary, which passed its analysis, keeps running
    /// and takes all the traffic (the primary cannot serve it); phase Failed with canary weight 100.
    mutating func failPromotion(_ reason: String) throws(Unanswered) -> TickOutcome {
        let routed = facts.provider.canShiftWeights
        if routed {
            route(primary: 0, canary: 100)
            metrics(.weight(primary: 0, canary: 100))
        }
        warning(
            "Promotion failed! \(facts.primaryName) \(reason); "
                + (routed
                    ? "routing all traffic to the canary \(facts.targetName), which keeps running"
                    : "the canary \(facts.targetName) keeps running")
        )
        alert("Promotion failed, primary not ready: \(reason)", .error)
        var change = StatusChange.counters(phase: .failed, transition: true)
        change.canaryWeight = routed ? 100 : 0
        change.conditionMessage = "Promotion failed: the primary did not become ready; the canary serves the traffic."
        write(change)
        metrics(.status(.failed))
        metrics(.finished(succeeded: false, seconds: duration))
        try postRollout(.failed)
        return .advanced
    }

    mutating func abort() throws(Unanswered) -> TickOutcome {
        weightMetrics(routes)
        warning("Rolling back \(facts.canary) aborted by fledge abort")
        return try rollback()
    }

    /// A new revision: traffic to the primary, confirm-rollout, scale up, Progressing.
    mutating func startRelease() throws(Unanswered) -> TickOutcome {
        weightMetrics(routes)
        // A release starts from all traffic on the primary (after a failed promotion the canary carried it), and so
        // does the wait for confirm-rollout: the new revision takes no traffic before its analysis.
        if routes != Routes(primary: 100, canary: 0) {
            route(primary: 100, canary: 0)
            metrics(.weight(primary: 100, canary: 0))
        }
        if action != .promote, let gate = try refusingGate(.confirmRollout) {
            if phase != .waiting {
                let message = "Halt \(facts.canary) advancement waiting for approval \(gate.name)"
                write(StatusChange(phase: .waiting, conditionMessage: message))
                halt(message, gate)
            }
            return .idle
        }
        info("New revision detected! Scaling up \(facts.targetName)")
        alert("New revision detected, progressing canary analysis.", .info, withFacts: true)
        startAnalysis()
        metrics(.status(.progressing))
        return .advanced
    }

    /// A newer revision during the analysis: traffic back to the primary, counters reset.
    mutating func restartAnalysis() -> TickOutcome {
        weightMetrics(routes)
        route(primary: 100, canary: 0)
        startAnalysis()
        info("New revision detected! Restarting analysis for \(facts.targetName)")
        return .advanced
    }

    /// Scales the canary up and records a fresh analysis of the revision: Progressing, weight 0, no failed checks,
    /// no iterations.
    mutating func startAnalysis() {
        effects.append(.scaleTarget(.up))
        var change = StatusChange.counters(phase: .progressing, transition: true)
        change.lastAppliedSpec = revision.hash
        change.trackedConfigs = revision.configs
        write(change)
    }

    mutating func waitForCanary(_ why: String) -> TickOutcome {
        weightMetrics(routes)
        let message = "canary deployment \(facts.targetName) not ready: \(why)"
        noteWhy(message)
        warning(message)
        if action == .promote {
            warning("Ignoring \(ReleaseAction.annotation)=promote: the canary is not ready; run it again once it is")
        }
        return .idle
    }

    mutating func promoteSkippingAnalysis() throws(Unanswered) -> TickOutcome {
        weightMetrics(routes)
        route(primary: 100, canary: 0)
        copyToPrimary()
        effects.append(.scaleTarget(.zero))
        var change = StatusChange.counters(phase: .succeeded)
        change.lastPromotedSpec = status?.lastAppliedSpec
        write(change)
        info("Promotion completed! Canary analysis was skipped for \(facts.targetName)")
        alert("Canary analysis was skipped, promotion finished.", .info)
        metrics(.status(.succeeded))
        metrics(.finished(succeeded: true, seconds: duration))
        try postRollout(.succeeded)
        return .advanced
    }

    // MARK: The analysis

    /// Rollback hooks, promotion steps, the failed-check threshold, the checks, then the strategy's next step.
    mutating func analyse(canaryFailure: String?) throws(Unanswered) -> TickOutcome {
        // Manual rollback: a rollback hook that answers success (`fledge abort` is obeyed above).
        if [.progressing, .waiting, .waitingPromotion].contains(phase), try rollbackHookSignals() {
            warning("Rolling back \(facts.canary) manual webhook invoked")
            alert("Rolling back manual webhook invoked", .warn)
            return try rollback()
        }
        if phase == .promoting {
            shiftTrafficToPrimary()
            return .advanced
        }
        if phase == .finalising { return try finalise() }

        let failedChecks = status?.failedChecks ?? 0
        if phase == .progressing || phase == .waitingPromotion,
            canaryFailure != nil || failedChecks >= analysis.threshold ?? 1
        {
            if let canaryFailure {
                warning("Rolling back \(facts.canary) progress deadline exceeded \(canaryFailure)")
                alert("Progress deadline exceeded \(canaryFailure)", .error)
            }
            return try rollback()
        }

        if action != .promote, let failure = try runChecks() {
            write(StatusChange(failedChecks: failedChecks + 1, conditionMessage: failure))
            return .advanced
        }

        if let match = analysis.match, !match.isEmpty, (analysis.iterations ?? 0) > 0, facts.provider.canMatch {
            return try abTest()
        }
        if (analysis.iterations ?? 0) > 0 || facts.provider == .kubernetes { return try blueGreen() }
        return try stepWeight()
    }

    /// Pre-rollout hooks before any traffic moves, else rollout hooks and then each metric. The message of the
    /// first failed check (already recorded), or nil when all passed.
    mutating func runChecks() throws(Unanswered) -> String? {
        let iterations = status?.iterations ?? 0
        if routes.canary == 0, iterations == 0, !(analysis.mirror == true && routes.mirrored) {
            info("Starting canary analysis for \(facts.targetName)")
            for call in calls(.preRollout, phase: phase) {
                if case .failed(let shown) = try answer(call) {
                    let failure = "Halt \(facts.canary) advancement pre-rollout check \(call.hook.name) failed \(shown)"
                    warning(failure)
                    return failure
                }
                info("Pre-rollout check \(call.hook.name) passed")
            }
            return nil
        }
        for call in calls(.rollout, phase: .progressing) {
            if case .failed(let shown) = try answer(call) {
                let failure = "Halt \(facts.canary) advancement external check \(call.hook.name) failed \(shown)"
                warning(failure)
                return failure
            }
        }
        for (index, metric) in (analysis.metrics ?? []).enumerated() {
            let check = MetricCheck(index: index, metric: metric)
            guard let result = answers.metrics[check] else { throw Unanswered(question: .metric(check)) }
            if case .failed(let failure) = result {
                warning(failure)
                return failure
            }
        }
        return nil
    }

    /// Canary: step the weight until the maximum, then promote.
    mutating func stepWeight() throws(Unanswered) -> TickOutcome {
        let current = routes.canary
        guard current < ReleaseRules.maxWeight(analysis), action != .promote else {
            if try promotionConfirmed() { promote(StatusChange(phase: .promoting, canaryWeight: current)) }
            return .advanced
        }
        if let gate = try refusingGate(.confirmTrafficIncrease) {
            let message = "Halt \(facts.canary) advancement waiting for traffic increase approval \(gate.name)"
            noteWhy(message)
            halt(message, gate)
            return .idle
        }
        let weight = ReleaseRules.nextWeight(after: current, analysis: analysis)
        route(primary: 100 - weight, canary: weight)
        write(StatusChange(canaryWeight: weight))
        metrics(.weight(primary: 100 - weight, canary: weight))
        info("Advance \(facts.canary) canary weight \(weight)")
        return .advanced
    }

    /// A/B testing: the requests `analysis.match` selects go to the canary for `iterations` rounds of checks (every
    /// other request stays on the primary), then promotion.
    mutating func abTest() throws(Unanswered) -> TickOutcome {
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
            warning("Rolling back \(facts.canary) A/B selection cannot be routed: \(why)")
            return try rollback()
        }
        let (done, wanted) = (status?.iterations ?? 0, max(analysis.iterations ?? 1, 1))
        if done < wanted, action != .promote {
            route(primary: 0, canary: 100)
            metrics(.weight(primary: 0, canary: 100))
            write(StatusChange(iterations: done + 1))
            info("Advance \(facts.canary) canary iteration \(done + 1)/\(wanted)")
            return .advanced
        }
        if try promotionConfirmed() { promote(StatusChange(phase: .promoting)) }
        return .advanced
    }

    /// Blue/green: `iterations` rounds of checks with the canary taking no traffic (or a mirrored copy of it), then
    /// all traffic to the canary for one more round, then promotion. The `kubernetes` provider switches at once.
    mutating func blueGreen() throws(Unanswered) -> TickOutcome {
        let (done, wanted) = (status?.iterations ?? 0, max(analysis.iterations ?? 1, 1))
        let kubernetes = facts.provider == .kubernetes
        if done < wanted, action != .promote {
            // Mirroring: the canary sees a copy of every request during the checks; only the primary answers.
            if analysis.mirror == true, facts.provider.canMirror, !routes.mirrored {
                route(primary: 100, canary: 0, mirrored: true)
                effects.append(.log("Start traffic mirroring"))
            }
            write(StatusChange(iterations: done + 1))
            info("Advance \(facts.canary) canary iteration \(done + 1)/\(wanted)")
            return .advanced
        }
        guard try promotionConfirmed() else { return .advanced }
        if !kubernetes, (status?.canaryWeight ?? 0) < 100 {
            // All traffic to the canary for one more round of checks, then promotion.
            info(
                routes.mirrored
                    ? "Stop traffic mirroring and route all traffic to canary" : "Routing all traffic to canary"
            )
            route(primary: 0, canary: 100)
            metrics(.weight(primary: 0, canary: 100))
            write(StatusChange(canaryWeight: 100))
            return .advanced
        }
        promote(StatusChange(phase: .promoting, canaryWeight: kubernetes ? 0 : 100))
        return .advanced
    }

    /// The end of the analysis: whether confirm-promotion lets the release be promoted (`fledge promote` passes it
    /// unasked). A refusal pauses the release in WaitingPromotion, announced once (Flagger).
    mutating func promotionConfirmed() throws(Unanswered) -> Bool {
        guard action != .promote, let gate = try refusingGate(.confirmPromotion) else { return true }
        if status?.phase != .waitingPromotion {
            let message = "Halt \(facts.canary) advancement waiting for promotion approval \(gate.name)"
            write(StatusChange(phase: .waitingPromotion, conditionMessage: message))
            halt(message, gate)
        }
        return false
    }

    /// The template goes to the primary and the release is Promoting.
    mutating func promote(_ promoting: StatusChange) {
        copyToPrimary()
        write(promoting)
        metrics(.status(.promoting))
    }

    mutating func copyToPrimary() {
        info("Copying \(facts.targetName) template spec to \(facts.primaryName)")
        effects.append(.promote)
    }

    // MARK: After the analysis

    /// Promoting: all traffic to the primary, at once or by `stepWeightPromotion`; then Finalising.
    mutating func shiftTrafficToPrimary() {
        if facts.provider == .kubernetes {
            write(StatusChange(phase: .finalising, canaryWeight: 0))
            return
        }
        guard let step = analysis.stepWeightPromotion, step > 0, routes.canary > 0 else {
            info("Routing all traffic to primary")
            route(primary: 100, canary: 0)
            metrics(.weight(primary: 100, canary: 0))
            write(StatusChange(phase: .finalising, canaryWeight: 0))
            return
        }
        let primary = ReleaseRules.promotionStep(primaryWeight: routes.primary, analysis: analysis)
        let canary = max(100 - primary, 0)
        route(primary: primary, canary: canary)
        metrics(.weight(primary: primary, canary: canary))
        info("Advance \(facts.canary) primary weight \(primary)")
        write(StatusChange(phase: primary >= 100 ? .finalising : .promoting, canaryWeight: canary))
    }

    /// Finalising: the target scales to 0 and the release Succeeded.
    mutating func finalise() throws(Unanswered) -> TickOutcome {
        effects.append(.scaleTarget(.zero))
        var change = StatusChange.counters(phase: .succeeded)
        change.lastPromotedSpec = status?.lastAppliedSpec
        write(change)
        metrics(.status(.succeeded))
        try postRollout(.succeeded)
        info("Promotion completed! Scaling down \(facts.targetName)")
        alert("Canary analysis completed successfully, promotion finished.", .info)
        metrics(.finished(succeeded: true, seconds: duration))
        return .advanced
    }

    /// Traffic back to the primary, the target to 0, phase Failed.
    mutating func rollback() throws(Unanswered) -> TickOutcome {
        let failedChecks = facts.status?.failedChecks ?? 0
        if failedChecks >= analysis.threshold ?? 1 {
            warning("Rolling back \(facts.canary) failed checks threshold reached \(failedChecks)")
            alert("Failed checks threshold reached \(failedChecks)", .error)
        }
        route(primary: 100, canary: 0)
        metrics(.weight(primary: 100, canary: 0))
        warning("Canary failed! Scaling down \(facts.canary)")
        alert("Canary analysis failed, rollback finished.", .error)
        effects.append(.scaleTarget(.zero))
        write(StatusChange.counters(phase: .failed, transition: true))
        metrics(.status(.failed))
        metrics(.finished(succeeded: false, seconds: duration))
        try postRollout(.failed)
        return .advanced
    }

    // MARK: Hooks

    /// The calls of the hooks of `type`, in the order the Canary lists them.
    func calls(_ type: WebhookType, phase: CanaryPhase) -> [HookCall] {
        (analysis.webhooks ?? []).enumerated().compactMap { index, hook in
            hook.webhookType == type ? HookCall(index: index, hook: hook, type: type, phase: phase) : nil
        }
    }

    func answer(_ call: HookCall) throws(Unanswered) -> CheckResult {
        guard let result = answers.hooks[call] else { throw Unanswered(question: .hook(call)) }
        return result
    }

    /// Confirm-* gates: every hook must answer success; a refusal only pauses. The hook that refused, or nil.
    mutating func refusingGate(_ type: WebhookType) throws(Unanswered) -> CanaryWebhook? {
        for call in calls(type, phase: phase) {
            guard try answer(call) == .passed else { return call.hook }
            info("\(type.eventLabel) check \(call.hook.name) passed")
        }
        return nil
    }

    /// Whether a rollback hook answers success: the first that does rolls the release back.
    func rollbackHookSignals() throws(Unanswered) -> Bool {
        for call in calls(.rollback, phase: status?.phase ?? .progressing) {
            if try answer(call) == .passed { return true }
        }
        return false
    }

    /// Post-rollout hooks, after the release ended in `phase`: their answers are only reported.
    mutating func postRollout(_ phase: CanaryPhase) throws(Unanswered) {
        for call in calls(.postRollout, phase: phase) {
            switch try answer(call) {
            case .passed: info("Post-rollout check \(call.hook.name) passed")
            case .failed(let shown): warning("Post-rollout hook \(call.hook.name) failed \(shown)")
            }
        }
    }

    /// A gate said wait: a warning event and, unless the hook mutes it, a warn alert with the same words (Flagger).
    mutating func halt(_ message: String, _ hook: CanaryWebhook) {
        warning(message)
        if hook.muteAlert != true { alert(message, .warn) }
    }

    /// Records why the release waits in the Promoted condition, writing only when the reason changed.
    mutating func noteWhy(_ message: String) {
        guard let phase = status?.phase,
            status?.conditions?.first(where: { $0.type == "Promoted" })?.message != message
        else { return }
        write(StatusChange(phase: phase, conditionMessage: message))
    }
}
