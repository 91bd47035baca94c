import CanaryModel
import JSONValue
import Testing

@testable import Progression

/// The release state machine as a table: BEHAVIOUR.md §3 in Flagger's order, with our differences, each row a
/// situation (facts, and how the world answers) and everything the tick does, in order.
@Suite("Release machine")
struct ReleaseMachineTests {
    @Test("each situation leads to exactly these effects", arguments: table)
    func row(_ row: Row) {
        let played = Play(row.facts, row.world)
        #expect(played.steps == row.steps, "\(row.name)")
        #expect(played.outcome == row.outcome, "\(row.name)")
        #expect(played.problems.isEmpty, "\(row.name): \(played.problems)")
    }

    @Test("initialisation waits for the primary before it touches the traffic object")
    func initialisationAsksNothing() {
        let played = Play(Self.facts(nil, primary: Self.rollingOut), World())
        #expect(played.questions.isEmpty)
        #expect(played.outcome == .idle)
    }

    @Test("the traffic object is reconciled before the revision is read, and its repair reported first")
    func routesBeforeRevision() {
        var world = World()
        world.routes.repaired = "TrafficSplit podinfo.prod held weights no release writes; put back"
        let played = Play(Self.facts(.succeeded), world)
        #expect(played.questions.prefix(2) == [.routes, .revision])
        #expect(
            played.steps.first == Self.warning("TrafficSplit podinfo.prod held weights no release writes; put back")
        )
    }

    @Test(
        "a release with every hook asks each hook at most once a tick",
        arguments: [CanaryPhase.progressing, .failed]
    )
    func noHookTwice(_ phase: CanaryPhase) {
        for weight in [0, 5, 50] {
            let played = Play(
                Self.facts(phase, weight: weight, analysis: Self.hooked),
                World(hooked: true, weight: weight)
            )
            #expect(Set(played.questions).count == played.questions.count)
            #expect(played.problems.isEmpty)
        }
    }
}

extension ReleaseMachineTests {
    // MARK: - Playing a tick

    /// What one tick did: effects and the hook calls and metric checks it asked for, in order.
    enum Step: Sendable, Equatable, CustomStringConvertible {
        case effect(ReleaseEffect)
        /// A webhook called, with the phase of its payload.
        case call(String, CanaryPhase)
        /// A metric checked.
        case check(String)

        var description: String {
            switch self {
            case .effect(let effect): return "\(effect)"
            case .call(let hook, let phase): return "call \(hook) (\(phase.rawValue))"
            case .check(let metric): return "check \(metric)"
            }
        }
    }

    /// How the world answers a tick's questions.
    struct World: Sendable {
        var routes = ReconciledRoutes(routes: Routes(primary: 100, canary: 0))
        var revision = Revision(hash: "rev1", configs: [:])
        /// Hook answers by name; a hook not named passes.
        var hooks: [String: CheckResult] = [:]
        /// Metric results by name; a metric not named passes.
        var metrics: [String: CheckResult] = [:]

        init(
            routes: Routes = Routes(primary: 100, canary: 0),
            revision: String = "rev1",
            configs: [String: String] = [:],
            hooks: [String: CheckResult] = [:],
            metrics: [String: CheckResult] = [:]
        ) {
            self.routes = ReconciledRoutes(routes: routes)
            self.revision = Revision(hash: revision, configs: configs)
            self.hooks = hooks
            self.metrics = metrics
        }

        /// A world for the ``hooked`` analysis: the rollback hook does not ask for a rollback.
        init(hooked: Bool, weight: Int = 0, revision: String = "rev1", hooks: [String: CheckResult] = [:]) {
            self.init(
                routes: Routes(primary: 100 - weight, canary: weight),
                revision: revision,
                hooks: ["rollback-gate": .failed(closed)].merging(hooks) { $1 }
            )
        }
    }

    /// Plans a tick as the Releaser does, answering from a ``World``, and checks the machine's promises on the way:
    /// planning again repeats the effects planned so far, and no question is asked twice.
    struct Play {
        var steps: [Step] = []
        var questions: [ReleaseQuestion] = []
        var outcome: TickOutcome?
        var problems: [String] = []

        init(_ facts: ReleaseFacts, _ world: World) {
            let machine = ReleaseMachine(facts)
            var answers = ReleaseAnswers()
            var effects: [ReleaseEffect] = []
            for _ in 0..<100 {
                let plan = machine.plan(answers)
                if Array(plan.effects.prefix(effects.count)) != effects {
                    problems.append("planning again changed the effects planned before")
                }
                steps += plan.effects.dropFirst(effects.count).map { .effect($0) }
                effects = plan.effects
                switch plan.step {
                case .done(let outcome):
                    self.outcome = outcome
                    return
                case .needs(let question):
                    if questions.contains(question) { problems.append("asked twice: \(question)") }
                    questions.append(question)
                    switch question {
                    case .routes: answers.routes = world.routes
                    case .revision: answers.revision = world.revision
                    case .hook(let call):
                        steps.append(.call(call.hook.name, call.phase))
                        answers.hooks[call] = world.hooks[call.hook.name] ?? .passed
                    case .metric(let check):
                        steps.append(.check(check.metric.name))
                        answers.metrics[check] = world.metrics[check.metric.name] ?? .passed
                    }
                }
            }
            problems.append("no end after 100 plans")
        }
    }

    /// One situation of the table.
    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var facts: ReleaseFacts
        var world: World
        var steps: [Step]
        var outcome: TickOutcome

        init(_ name: String, _ facts: ReleaseFacts, _ world: World = World(), _ outcome: TickOutcome, _ steps: [Step]) {
            self.name = name
            self.facts = facts
            self.world = world
            self.steps = steps
            self.outcome = outcome
        }

        init(_ name: String, _ facts: ReleaseFacts, _ outcome: TickOutcome, _ steps: [Step]) {
            self.init(name, facts, World(), outcome, steps)
        }

        var testDescription: String { name }
    }

    // MARK: - The fixture: the tutorial's podinfo in namespace prod

    static let rollingOut = Readiness.waiting(
        "waiting for rollout to finish: 0 of 1 (readyThreshold 100%) updated replicas are available"
    )
    static let closed = "POST http://loadtester.test/gate/check failed: HTTP 403 Forbidden"
    static let serverError = "POST http://loadtester.test/ failed: HTTP 500 Internal Server Error"

    /// The tutorial's analysis: stepWeight 5 up to 50, threshold 5, the two built-in metrics.
    static let tutorial: CanaryAnalysis = {
        var analysis = CanaryAnalysis()
        analysis.interval = "1m"
        analysis.threshold = 5
        analysis.maxWeight = 50
        analysis.stepWeight = 5
        analysis.metrics = [CanaryMetric(name: "request-success-rate"), CanaryMetric(name: "request-duration")]
        return analysis
    }()

    /// The tutorial's analysis with one hook of every type the worker calls (and an event hook, never called here).
    static let hooked: CanaryAnalysis = {
        var analysis = tutorial
        analysis.webhooks = [
            CanaryWebhook(name: "approve-rollout", type: "confirm-rollout", url: "http://loadtester.test/gate/check"),
            CanaryWebhook(name: "smoke", type: "pre-rollout", url: "http://loadtester.test/"),
            CanaryWebhook(name: "load", url: "http://loadtester.test/"),
            CanaryWebhook(name: "approve-step", type: "confirm-traffic-increase", url: "http://loadtester.test/gate/a"),
            CanaryWebhook(name: "approve-promotion", type: "confirm-promotion", url: "http://loadtester.test/gate/b"),
            CanaryWebhook(name: "notify", type: "post-rollout", url: "http://loadtester.test/"),
            CanaryWebhook(name: "rollback-gate", type: "rollback", url: "http://loadtester.test/rollback/check"),
            CanaryWebhook(name: "events", type: "event", url: "http://loadtester.test/events"),
        ]
        return analysis
    }()

    static func analysis(
        _ change: (inout CanaryAnalysis) -> Void,
        from base: CanaryAnalysis = tutorial
    ) -> CanaryAnalysis {
        var analysis = base
        change(&analysis)
        return analysis
    }

    /// The A/B selection of the Gateway API tutorial.
    static let insiders: [JSONValue] = [["headers": ["x-canary": ["exact": "insider"]]]]

    /// Facts of podinfo.prod in `phase` (nil: never seen), revision `rev1` applied, `rev0` promoted before.
    static func facts(
        _ phase: CanaryPhase?,
        weight: Int = 0,
        failedChecks: Int = 0,
        iterations: Int = 0,
        applied: String = "rev1",
        configs: [String: String]? = nil,
        why: String? = nil,
        analysis: CanaryAnalysis = tutorial,
        provider: Provider = .linkerd,
        skipAnalysis: Bool = false,
        action: ReleaseAction? = nil,
        primary: Readiness = .ready,
        canary: Readiness = .ready,
        since: Double = 30
    ) -> ReleaseFacts {
        var status: CanaryStatus?
        if let phase {
            var known = CanaryStatus(phase: phase)
            known.canaryWeight = weight
            known.failedChecks = failedChecks
            known.iterations = iterations
            known.lastAppliedSpec = applied
            known.lastPromotedSpec = "rev0"
            known.trackedConfigs = configs
            known.lastTransitionTime = "2026-01-01T00:00:00Z"
            if let why {
                known.conditions = [CanaryCondition(type: "Promoted", status: "Unknown", message: why)]
            }
            status = known
        }
        return ReleaseFacts(
            canary: "podinfo.prod",
            target: "podinfo",
            namespace: "prod",
            kind: "Deployment",
            analysis: analysis,
            provider: provider,
            skipAnalysis: skipAnalysis,
            progressDeadlineSeconds: 600,
            status: status,
            action: action,
            primary: primary,
            canaryReadiness: canary,
            secondsSinceTransition: phase == nil ? nil : since
        )
    }

    // MARK: - Expected steps

    static func info(_ message: String) -> Step { .effect(.event(message, .normal)) }
    static func warning(_ message: String) -> Step { .effect(.event(message, .warning)) }
    static func alert(_ message: String, _ severity: AlertSeverity, withFacts: Bool = false) -> Step {
        .effect(.alert(message, severity, withFacts: withFacts))
    }
    static func status(_ change: StatusChange) -> Step { .effect(.patchStatus(change)) }
    static func routes(_ primary: Int, _ canary: Int, mirrored: Bool = false) -> Step {
        .effect(.setRoutes(Routes(primary: primary, canary: canary, mirrored: mirrored)))
    }
    static func weights(_ primary: Int, _ canary: Int) -> Step {
        .effect(.metrics(.weight(primary: primary, canary: canary)))
    }
    static func phaseMetric(_ phase: CanaryPhase) -> Step { .effect(.metrics(.status(phase))) }
    static func finished(_ succeeded: Bool, after seconds: Double = 30) -> Step {
        .effect(.metrics(.finished(succeeded: succeeded, seconds: seconds)))
    }
    static let scaleUp = Step.effect(.scaleTarget(.up))
    static let scaleDown = Step.effect(.scaleTarget(.zero))
    static let promote = Step.effect(.promote)
    static let copying = info("Copying podinfo.prod template spec to podinfo-primary.prod")

    /// A release of revision `rev2` starting.
    static func started(_ revision: String = "rev2", configs: [String: String] = [:]) -> [Step] {
        [
            info("New revision detected! Scaling up podinfo.prod"),
            alert("New revision detected, progressing canary analysis.", .info, withFacts: true),
            scaleUp,
            status(
                StatusChange(
                    phase: .progressing,
                    canaryWeight: 0,
                    failedChecks: 0,
                    iterations: 0,
                    lastAppliedSpec: revision,
                    trackedConfigs: configs,
                    transition: true
                )
            ),
            phaseMetric(.progressing),
        ]
    }

    /// The rollback after the announcement of its reason, with weights as the tick found them.
    static func rolledBack(failedChecks: Int = 0, after seconds: Double = 30, postRollout: Bool = false) -> [Step] {
        var steps: [Step] = []
        if failedChecks >= 5 {
            steps += [
                warning("Rolling back podinfo.prod failed checks threshold reached \(failedChecks)"),
                alert("Failed checks threshold reached \(failedChecks)", .error),
            ]
        }
        steps += [
            routes(100, 0), weights(100, 0),
            warning("Canary failed! Scaling down podinfo.prod"),
            alert("Canary analysis failed, rollback finished.", .error),
            scaleDown,
            status(StatusChange(phase: .failed, canaryWeight: 0, failedChecks: 0, iterations: 0, transition: true)),
            phaseMetric(.failed),
            finished(false, after: seconds),
        ]
        if postRollout { steps += [.call("notify", .failed), info("Post-rollout check notify passed")] }
        return steps
    }

    /// Rollout hooks (with ``hooked``) and metrics that pass.
    static func checked(hooks: Bool = false) -> [Step] {
        (hooks ? [Step.call("load", .progressing)] : []) + [.check("request-success-rate"), .check("request-duration")]
    }

    static let rollbackAsked = Step.call("rollback-gate", .progressing)
    static let initialized = StatusChange(
        phase: .initialized,
        canaryWeight: 0,
        failedChecks: 0,
        iterations: 0,
        lastAppliedSpec: "rev1",
        lastPromotedSpec: "rev1",
        trackedConfigs: ["configmap/podinfo-config": "1a2b3c"],
        adopt: true
    )
    static let initialisation: [Step] = [
        scaleDown, status(initialized), info("Initialization done! podinfo.prod"),
        alert("New Deployment detected, initialization completed.", .info, withFacts: true), phaseMetric(.initialized),
    ]
    static let deadlineWhy = "deployment \"podinfo-primary\" exceeded its progress deadline"
    static let toPrimary: [Step] = [
        info("Routing all traffic to primary"), routes(100, 0), weights(100, 0),
        status(StatusChange(phase: .finalising, canaryWeight: 0)),
    ]
    static let canaryWaiting = "canary deployment podinfo.prod not ready: \(ReleaseRules.readinessText(rollingOut))"
    static let mirroring = analysis {
        $0.iterations = 3
        $0.mirror = true
        $0.stepWeight = nil
        $0.maxWeight = nil
    }
    static let blueGreen = analysis {
        $0.iterations = 3
        $0.stepWeight = nil
        $0.maxWeight = nil
    }
    static let abTesting = analysis {
        $0.iterations = 3
        $0.match = insiders
        $0.stepWeight = nil
        $0.maxWeight = nil
    }

    // MARK: - The table

    static let table: [Row] =
        initialisationRows + startRows + steeringRows + readinessRows + analysisRows + canaryRows
        + promotionRows + strategyRows

    static let initialisationRows: [Row] = [
        Row(
            "initialisation waits for the primary",
            facts(nil, primary: rollingOut),
            .idle,
            [warning("podinfo-primary.prod not ready: \(ReleaseRules.readinessText(rollingOut))")]
        ),
        Row(
            "initialisation: the target scales to 0, Initialized at its revision",
            facts(nil),
            World(configs: ["configmap/podinfo-config": "1a2b3c"]),
            .advanced,
            initialisation
        ),
        Row(
            "skipAnalysis initialises without waiting for the primary",
            facts(nil, skipAnalysis: true, primary: rollingOut),
            World(configs: ["configmap/podinfo-config": "1a2b3c"]),
            .advanced,
            initialisation
        ),
        Row("nothing new after a release", facts(.succeeded), .idle, [phaseMetric(.succeeded)]),
        Row("nothing new after a failure", facts(.failed), .idle, [phaseMetric(.failed)]),
        Row("nothing new after initialisation", facts(.initialized), .idle, [phaseMetric(.initialized)]),
        Row(
            "a template put back to the promoted one starts nothing",
            facts(.succeeded, applied: "rev2"),
            World(revision: "rev0"),
            .idle,
            [phaseMetric(.succeeded)]
        ),
    ]

    static let startRows: [Row] = [
        Row(
            "a new revision starts a release",
            facts(.succeeded),
            World(revision: "rev2"),
            .advanced,
            [weights(100, 0)] + started()
        ),
        Row(
            "a changed ConfigMap starts a release",
            facts(.succeeded, configs: ["configmap/podinfo-config": "1a2b3c"]),
            World(configs: ["configmap/podinfo-config": "4d5e6f"]),
            .advanced,
            [weights(100, 0)] + started("rev1", configs: ["configmap/podinfo-config": "4d5e6f"])
        ),
        Row(
            "a new revision after a failure starts a release",
            facts(.failed),
            World(revision: "rev2"),
            .advanced,
            [weights(100, 0)] + started()
        ),
        Row(
            "a release starts from all traffic on the primary (after a failed promotion)",
            facts(.failed, weight: 100),
            World(routes: Routes(primary: 0, canary: 100), revision: "rev2"),
            .advanced,
            [weights(0, 100), routes(100, 0), weights(100, 0)] + started()
        ),
        Row(
            "a new revision waits for the primary",
            facts(.succeeded, primary: rollingOut),
            World(revision: "rev2"),
            .idle,
            [warning("podinfo-primary.prod not ready: \(ReleaseRules.readinessText(rollingOut))")]
        ),
        Row(
            "skipAnalysis does not wait for the primary",
            facts(.succeeded, skipAnalysis: true, primary: rollingOut),
            World(revision: "rev2"),
            .advanced,
            [weights(100, 0)] + started()
        ),
        Row(
            "confirm-rollout passes: the release starts",
            facts(.succeeded, analysis: hooked),
            World(hooked: true, revision: "rev2"),
            .advanced,
            [
                weights(100, 0), .call("approve-rollout", .succeeded),
                info("Confirm-rollout check approve-rollout passed"),
            ] + started()
        ),
        Row(
            "confirm-rollout refuses: Waiting, announced with a warn alert",
            facts(.succeeded, analysis: hooked),
            World(hooked: true, revision: "rev2", hooks: ["approve-rollout": .failed(closed)]),
            .idle,
            [
                weights(100, 0), .call("approve-rollout", .succeeded),
                status(
                    StatusChange(
                        phase: .waiting,
                        conditionMessage: "Halt podinfo.prod advancement waiting for approval approve-rollout"
                    )
                ),
                warning("Halt podinfo.prod advancement waiting for approval approve-rollout"),
                alert("Halt podinfo.prod advancement waiting for approval approve-rollout", .warn),
            ]
        ),
        Row(
            "confirm-rollout with muteAlert refuses without an alert",
            facts(.succeeded, analysis: analysis({ $0.webhooks?[0].muteAlert = true }, from: hooked)),
            World(hooked: true, revision: "rev2", hooks: ["approve-rollout": .failed(closed)]),
            .idle,
            [
                weights(100, 0), .call("approve-rollout", .succeeded),
                status(
                    StatusChange(
                        phase: .waiting,
                        conditionMessage: "Halt podinfo.prod advancement waiting for approval approve-rollout"
                    )
                ),
                warning("Halt podinfo.prod advancement waiting for approval approve-rollout"),
            ]
        ),
        Row(
            "still Waiting: confirm-rollout is asked again, nothing announced again",
            facts(.waiting, analysis: hooked),
            World(hooked: true, revision: "rev2", hooks: ["approve-rollout": .failed(closed)]),
            .idle,
            [weights(100, 0), .call("approve-rollout", .waiting)]
        ),
        Row(
            "Waiting: confirm-rollout opens and the release starts",
            facts(.waiting, analysis: hooked),
            World(hooked: true, revision: "rev2"),
            .advanced,
            [
                weights(100, 0), .call("approve-rollout", .waiting),
                info("Confirm-rollout check approve-rollout passed"),
            ] + started()
        ),
    ]

    static let steeringRows: [Row] = [
        Row(
            "fledge promote passes confirm-rollout unasked",
            facts(.waiting, analysis: hooked, action: .promote),
            World(hooked: true, revision: "rev2", hooks: ["approve-rollout": .failed(closed)]),
            .advanced,
            [weights(100, 0)] + started()
        ),
        Row(
            "fledge retry starts the failed revision again, as a first release",
            facts(.failed, analysis: hooked, action: .retry),
            World(hooked: true),
            .advanced,
            [
                .effect(.forgetAppliedSpec), weights(100, 0), .call("approve-rollout", .initialized),
                info("Confirm-rollout check approve-rollout passed"),
            ] + started("rev1")
        ),
        Row(
            "fledge retry of a release that succeeded is ignored",
            facts(.succeeded, action: .retry),
            .idle,
            [
                warning("Ignoring fledge.dev/action=retry: only a Failed release can be retried (phase Succeeded)"),
                phaseMetric(.succeeded),
            ]
        ),
        Row(
            "fledge promote with no release is ignored",
            facts(.succeeded, action: .promote),
            .idle,
            [
                warning("Ignoring fledge.dev/action=promote: no release is in progress (phase Succeeded)"),
                phaseMetric(.succeeded),
            ]
        ),
        Row(
            "fledge promote of a new revision is obeyed",
            facts(.succeeded, action: .promote),
            World(revision: "rev2"),
            .advanced,
            [weights(100, 0)] + started()
        ),
        Row(
            "fledge promote while the primary is not ready: run it again",
            facts(.progressing, action: .promote, primary: rollingOut),
            .idle,
            [
                warning("podinfo-primary.prod not ready: \(ReleaseRules.readinessText(rollingOut))"),
                warning(
                    "Ignoring fledge.dev/action=promote: podinfo-primary.prod is not ready; run it again once it is"
                ),
            ]
        ),
        Row(
            "fledge abort while waiting for confirm-rollout rolls back",
            facts(.waiting, action: .abort),
            World(revision: "rev2"),
            .advanced,
            [weights(100, 0), warning("Rolling back podinfo.prod aborted by fledge abort")] + rolledBack()
        ),
        Row(
            "fledge abort needs no ready canary",
            facts(.progressing, weight: 10, action: .abort, canary: rollingOut),
            World(routes: Routes(primary: 90, canary: 10)),
            .advanced,
            [weights(90, 10), warning("Rolling back podinfo.prod aborted by fledge abort")] + rolledBack()
        ),
        Row(
            "fledge abort announces a reached threshold too",
            facts(.progressing, weight: 10, failedChecks: 5, action: .abort),
            World(routes: Routes(primary: 90, canary: 10)),
            .advanced,
            [weights(90, 10), warning("Rolling back podinfo.prod aborted by fledge abort")]
                + rolledBack(failedChecks: 5)
        ),
        Row(
            "fledge abort while promoting is not obeyed",
            facts(.promoting, weight: 50, action: .abort),
            World(routes: Routes(primary: 50, canary: 50)),
            .advanced,
            [
                warning(
                    "Ignoring fledge.dev/action=abort: the release passed its analysis and is being promoted; "
                        + "it can no longer be aborted"
                ),
                weights(50, 50),
            ] + toPrimary
        ),
        Row(
            "fledge promote skips the checks and promotes",
            facts(.progressing, weight: 10, analysis: hooked, action: .promote),
            World(hooked: true, weight: 10),
            .advanced,
            [
                weights(90, 10), rollbackAsked, copying, promote,
                status(StatusChange(phase: .promoting, canaryWeight: 10)), phaseMetric(.promoting),
            ]
        ),
    ]

    static let readinessRows: [Row] = [
        Row(
            "a primary that failed while promoting: the canary keeps the traffic, Failed",
            facts(.promoting, weight: 50, analysis: hooked, primary: .failed(deadlineWhy)),
            World(hooked: true, weight: 50),
            .advanced,
            [
                routes(0, 100), weights(0, 100),
                warning(
                    "Promotion failed! podinfo-primary.prod \(deadlineWhy); routing all traffic to the canary "
                        + "podinfo.prod, which keeps running"
                ),
                alert("Promotion failed, primary not ready: \(deadlineWhy)", .error),
                status(
                    StatusChange(
                        phase: .failed,
                        canaryWeight: 100,
                        failedChecks: 0,
                        iterations: 0,
                        transition: true,
                        conditionMessage:
                            "Promotion failed: the primary did not become ready; the canary serves the traffic."
                    )
                ),
                phaseMetric(.failed), finished(false),
                .call("notify", .failed), info("Post-rollout check notify passed"),
            ]
        ),
        Row(
            "a primary still rolling out past the deadline while finalising fails the promotion (we differ)",
            facts(.finalising, provider: .kubernetes, primary: rollingOut, since: 601),
            .advanced,
            [
                warning(
                    "Promotion failed! podinfo-primary.prod not ready after 600s: "
                        + "\(ReleaseRules.readinessText(rollingOut)); the canary podinfo.prod keeps running"
                ),
                alert(
                    "Promotion failed, primary not ready: not ready after 600s: \(ReleaseRules.readinessText(rollingOut))",
                    .error
                ),
                status(
                    StatusChange(
                        phase: .failed,
                        canaryWeight: 0,
                        failedChecks: 0,
                        iterations: 0,
                        transition: true,
                        conditionMessage:
                            "Promotion failed: the primary did not become ready; the canary serves the traffic."
                    )
                ),
                phaseMetric(.failed), finished(false, after: 601),
            ]
        ),
        Row(
            "a primary still rolling out while finalising is waited for",
            facts(.finalising, primary: rollingOut),
            .idle,
            [warning("podinfo-primary.prod not ready: \(ReleaseRules.readinessText(rollingOut))")]
        ),
        Row(
            "a newer revision restarts the analysis",
            facts(.progressing, weight: 10, canary: rollingOut),
            World(routes: Routes(primary: 90, canary: 10), revision: "rev2"),
            .advanced,
            [
                weights(90, 10), routes(100, 0), scaleUp,
                status(
                    StatusChange(
                        phase: .progressing,
                        canaryWeight: 0,
                        failedChecks: 0,
                        iterations: 0,
                        lastAppliedSpec: "rev2",
                        trackedConfigs: [:],
                        transition: true
                    )
                ),
                info("New revision detected! Restarting analysis for podinfo.prod"),
            ]
        ),
        Row(
            "a newer revision while waiting for promotion restarts too",
            facts(.waitingPromotion, weight: 50),
            World(routes: Routes(primary: 50, canary: 50), revision: "rev2"),
            .advanced,
            [
                weights(50, 50), routes(100, 0), scaleUp,
                status(
                    StatusChange(
                        phase: .progressing,
                        canaryWeight: 0,
                        failedChecks: 0,
                        iterations: 0,
                        lastAppliedSpec: "rev2",
                        trackedConfigs: [:],
                        transition: true
                    )
                ),
                info("New revision detected! Restarting analysis for podinfo.prod"),
            ]
        ),
        Row(
            "a newer revision while promoting does not restart",
            facts(.promoting, weight: 50),
            World(routes: Routes(primary: 50, canary: 50), revision: "rev2"),
            .advanced,
            [weights(50, 50)] + toPrimary
        ),
        Row(
            "a canary not ready yet is waited for, no failed check, the reason in the status",
            facts(.progressing, canary: rollingOut),
            .idle,
            [
                weights(100, 0), status(StatusChange(phase: .progressing, conditionMessage: canaryWaiting)),
                warning(canaryWaiting),
            ]
        ),
        Row(
            "the same reason is not written again",
            facts(.progressing, why: canaryWaiting, canary: rollingOut),
            .idle,
            [weights(100, 0), warning(canaryWaiting)]
        ),
        Row(
            "fledge promote while the canary is not ready: run it again",
            facts(.progressing, why: canaryWaiting, action: .promote, canary: rollingOut),
            .idle,
            [
                weights(100, 0), warning(canaryWaiting),
                warning("Ignoring fledge.dev/action=promote: the canary is not ready; run it again once it is"),
            ]
        ),
        Row(
            "a canary not ready by its deadline is rolled back (we differ)",
            facts(.progressing, canary: rollingOut, since: 601),
            .advanced,
            [
                weights(100, 0),
                warning(
                    "Rolling back podinfo.prod progress deadline exceeded canary deployment podinfo.prod not ready "
                        + "after 600s: \(ReleaseRules.readinessText(rollingOut))"
                ),
                alert(
                    "Progress deadline exceeded canary deployment podinfo.prod not ready after 600s: "
                        + ReleaseRules.readinessText(rollingOut),
                    .error
                ),
            ] + rolledBack(after: 601)
        ),
        Row(
            "a canary whose Deployment exceeded its progress deadline is rolled back",
            facts(.progressing, canary: .failed("deployment \"podinfo\" exceeded its progress deadline")),
            .advanced,
            [
                weights(100, 0),
                warning(
                    "Rolling back podinfo.prod progress deadline exceeded deployment \"podinfo\" exceeded its progress "
                        + "deadline"
                ),
                alert("Progress deadline exceeded deployment \"podinfo\" exceeded its progress deadline", .error),
            ] + rolledBack()
        ),
        Row(
            "the canary's readiness does not hold back promotion",
            facts(.promoting, weight: 50, canary: rollingOut),
            World(routes: Routes(primary: 50, canary: 50)),
            .advanced,
            [weights(50, 50)] + toPrimary
        ),
        Row(
            "skipAnalysis promotes at once once the canary is ready",
            facts(.progressing, skipAnalysis: true),
            .advanced,
            [
                weights(100, 0), routes(100, 0), copying, promote, scaleDown,
                status(
                    StatusChange(
                        phase: .succeeded,
                        canaryWeight: 0,
                        failedChecks: 0,
                        iterations: 0,
                        lastPromotedSpec: "rev1"
                    )
                ),
                info("Promotion completed! Canary analysis was skipped for podinfo.prod"),
                alert("Canary analysis was skipped, promotion finished.", .info),
                phaseMetric(.succeeded), finished(true),
            ]
        ),
    ]

    static let analysisRows: [Row] = [
        Row(
            "a rollback hook that answers success rolls back",
            facts(.progressing, weight: 10, analysis: hooked),
            World(hooked: true, weight: 10, hooks: ["rollback-gate": .passed]),
            .advanced,
            [
                weights(90, 10), rollbackAsked, warning("Rolling back podinfo.prod manual webhook invoked"),
                alert("Rolling back manual webhook invoked", .warn),
            ] + rolledBack(postRollout: true)
        ),
        Row(
            "the failed-checks threshold reached rolls back",
            facts(.progressing, weight: 20, failedChecks: 5),
            World(routes: Routes(primary: 80, canary: 20)),
            .advanced,
            [weights(80, 20)] + rolledBack(failedChecks: 5)
        ),
        Row(
            "waiting for promotion, the threshold still counts",
            facts(.waitingPromotion, weight: 50, failedChecks: 5),
            World(routes: Routes(primary: 50, canary: 50)),
            .advanced,
            [weights(50, 50)] + rolledBack(failedChecks: 5)
        ),
        Row(
            "the first step runs the pre-rollout hooks, then moves traffic",
            facts(.progressing, analysis: hooked),
            World(hooked: true),
            .advanced,
            [
                weights(100, 0), rollbackAsked, info("Starting canary analysis for podinfo.prod"),
                .call("smoke", .progressing), info("Pre-rollout check smoke passed"),
                .call("approve-step", .progressing), info("Confirm-traffic-increase check approve-step passed"),
                routes(95, 5), status(StatusChange(canaryWeight: 5)), weights(95, 5),
                info("Advance podinfo.prod canary weight 5"),
            ]
        ),
        Row(
            "a pre-rollout failure is a failed check",
            facts(.progressing, failedChecks: 1, analysis: hooked),
            World(hooked: true, hooks: ["smoke": .failed(serverError)]),
            .advanced,
            [
                weights(100, 0), rollbackAsked, info("Starting canary analysis for podinfo.prod"),
                .call("smoke", .progressing),
                warning("Halt podinfo.prod advancement pre-rollout check smoke failed \(serverError)"),
                status(
                    StatusChange(
                        failedChecks: 2,
                        conditionMessage: "Halt podinfo.prod advancement pre-rollout check smoke failed \(serverError)"
                    )
                ),
            ]
        ),
        Row(
            "later steps run the rollout hooks, then each metric",
            facts(.progressing, weight: 5, analysis: hooked),
            World(hooked: true, weight: 5),
            .advanced,
            [weights(95, 5), rollbackAsked] + checked(hooks: true) + [
                .call("approve-step", .progressing), info("Confirm-traffic-increase check approve-step passed"),
                routes(90, 10), status(StatusChange(canaryWeight: 10)), weights(90, 10),
                info("Advance podinfo.prod canary weight 10"),
            ]
        ),
        Row(
            "a rollout hook failure is a failed check; the metrics wait",
            facts(.progressing, weight: 5, analysis: hooked),
            World(hooked: true, weight: 5, hooks: ["load": .failed(serverError)]),
            .advanced,
            [
                weights(95, 5), rollbackAsked, .call("load", .progressing),
                warning("Halt podinfo.prod advancement external check load failed \(serverError)"),
                status(
                    StatusChange(
                        failedChecks: 1,
                        conditionMessage: "Halt podinfo.prod advancement external check load failed \(serverError)"
                    )
                ),
            ]
        ),
        Row(
            "a metric failure is a failed check; the later metrics wait",
            facts(.progressing, weight: 10),
            World(
                routes: Routes(primary: 90, canary: 10),
                metrics: ["request-success-rate": .failed("Halt podinfo.prod advancement success rate 69.17% < 99%")]
            ),
            .advanced,
            [
                weights(90, 10), .check("request-success-rate"),
                warning("Halt podinfo.prod advancement success rate 69.17% < 99%"),
                status(
                    StatusChange(
                        failedChecks: 1,
                        conditionMessage: "Halt podinfo.prod advancement success rate 69.17% < 99%"
                    )
                ),
            ]
        ),
    ]

    static let canaryRows: [Row] = [
        Row(
            "the weight steps by stepWeight",
            facts(.progressing, weight: 10),
            World(routes: Routes(primary: 90, canary: 10)),
            .advanced,
            [weights(90, 10)] + checked() + [
                routes(85, 15), status(StatusChange(canaryWeight: 15)), weights(85, 15),
                info("Advance podinfo.prod canary weight 15"),
            ]
        ),
        Row(
            "the last step is clamped to maxWeight (we differ: Flagger overshoots)",
            facts(.progressing, weight: 40, analysis: analysis { $0.stepWeight = 20 }),
            World(routes: Routes(primary: 60, canary: 40)),
            .advanced,
            [weights(60, 40)] + checked() + [
                routes(50, 50), status(StatusChange(canaryWeight: 50)), weights(50, 50),
                info("Advance podinfo.prod canary weight 50"),
            ]
        ),
        Row(
            "stepWeights step through the list",
            facts(
                .progressing,
                weight: 2,
                analysis: analysis {
                    $0.stepWeight = nil
                    $0.maxWeight = nil
                    $0.stepWeights = [1, 2, 10, 80]
                }
            ),
            World(routes: Routes(primary: 98, canary: 2)),
            .advanced,
            [weights(98, 2)] + checked() + [
                routes(90, 10), status(StatusChange(canaryWeight: 10)), weights(90, 10),
                info("Advance podinfo.prod canary weight 10"),
            ]
        ),
        Row(
            "confirm-traffic-increase refuses: the weight holds, the reason in the status",
            facts(.progressing, weight: 5, analysis: hooked),
            World(hooked: true, weight: 5, hooks: ["approve-step": .failed(closed)]),
            .idle,
            [weights(95, 5), rollbackAsked] + checked(hooks: true) + [
                .call("approve-step", .progressing),
                status(
                    StatusChange(
                        phase: .progressing,
                        conditionMessage:
                            "Halt podinfo.prod advancement waiting for traffic increase approval approve-step"
                    )
                ),
                warning("Halt podinfo.prod advancement waiting for traffic increase approval approve-step"),
                alert("Halt podinfo.prod advancement waiting for traffic increase approval approve-step", .warn),
            ]
        ),
        Row(
            "at maxWeight, confirm-promotion passes and the template goes to the primary",
            facts(.progressing, weight: 50, analysis: hooked),
            World(hooked: true, weight: 50),
            .advanced,
            [weights(50, 50), rollbackAsked] + checked(hooks: true) + [
                .call("approve-promotion", .progressing), info("Confirm-promotion check approve-promotion passed"),
                copying, promote, status(StatusChange(phase: .promoting, canaryWeight: 50)), phaseMetric(.promoting),
            ]
        ),
        Row(
            "at maxWeight, confirm-promotion refuses: WaitingPromotion, the analysis goes on",
            facts(.progressing, weight: 50, analysis: hooked),
            World(hooked: true, weight: 50, hooks: ["approve-promotion": .failed(closed)]),
            .advanced,
            [weights(50, 50), rollbackAsked] + checked(hooks: true) + [
                .call("approve-promotion", .progressing),
                status(
                    StatusChange(
                        phase: .waitingPromotion,
                        conditionMessage:
                            "Halt podinfo.prod advancement waiting for promotion approval approve-promotion"
                    )
                ),
                warning("Halt podinfo.prod advancement waiting for promotion approval approve-promotion"),
                alert("Halt podinfo.prod advancement waiting for promotion approval approve-promotion", .warn),
            ]
        ),
        Row(
            "still WaitingPromotion: the checks run, the refusal is not announced again",
            facts(.waitingPromotion, weight: 50, analysis: hooked),
            World(hooked: true, weight: 50, hooks: ["approve-promotion": .failed(closed)]),
            .advanced,
            [weights(50, 50), .call("rollback-gate", .waitingPromotion)] + checked(hooks: true) + [
                .call("approve-promotion", .waitingPromotion)
            ]
        ),
    ]

    static let promotionRows: [Row] = [
        Row(
            "Promoting: all traffic to the primary at once, then Finalising",
            facts(.promoting, weight: 50, analysis: hooked),
            World(hooked: true, weight: 50),
            .advanced,
            [weights(50, 50)] + toPrimary
        ),
        Row(
            "Promoting with stepWeightPromotion: the primary's weight steps",
            facts(.promoting, weight: 50, analysis: analysis({ $0.stepWeightPromotion = 30 }, from: hooked)),
            World(hooked: true, weight: 50),
            .advanced,
            [
                weights(50, 50), routes(80, 20), weights(80, 20), info("Advance podinfo.prod primary weight 80"),
                status(StatusChange(phase: .promoting, canaryWeight: 20)),
            ]
        ),
        Row(
            "Promoting with stepWeightPromotion: the last step finalises",
            facts(.promoting, weight: 50, analysis: analysis { $0.stepWeightPromotion = 50 }),
            World(routes: Routes(primary: 50, canary: 50)),
            .advanced,
            [
                weights(50, 50), routes(100, 0), weights(100, 0), info("Advance podinfo.prod primary weight 100"),
                status(StatusChange(phase: .finalising, canaryWeight: 0)),
            ]
        ),
        Row(
            "Promoting on the kubernetes provider: Finalising at once",
            facts(.promoting, analysis: blueGreen, provider: .kubernetes),
            .advanced,
            [weights(100, 0), status(StatusChange(phase: .finalising, canaryWeight: 0))]
        ),
        Row(
            "Finalising: the target scales to 0, Succeeded, post-rollout hooks reported",
            facts(.finalising, analysis: hooked),
            World(hooked: true, hooks: ["notify": .failed(serverError)]),
            .advanced,
            [
                weights(100, 0), scaleDown,
                status(
                    StatusChange(
                        phase: .succeeded,
                        canaryWeight: 0,
                        failedChecks: 0,
                        iterations: 0,
                        lastPromotedSpec: "rev1"
                    )
                ),
                phaseMetric(.succeeded), .call("notify", .succeeded),
                warning("Post-rollout hook notify failed \(serverError)"),
                info("Promotion completed! Scaling down podinfo.prod"),
                alert("Canary analysis completed successfully, promotion finished.", .info), finished(true),
            ]
        ),
    ]

    static let strategyRows: [Row] = [
        Row(
            "A/B: the selected requests go to the canary, one iteration a tick",
            facts(.progressing, analysis: abTesting, provider: .gatewayAPIV1),
            .advanced,
            [
                weights(100, 0), info("Starting canary analysis for podinfo.prod"), routes(0, 100), weights(0, 100),
                status(StatusChange(iterations: 1)), info("Advance podinfo.prod canary iteration 1/3"),
            ]
        ),
        Row(
            "A/B after its iterations: promotion",
            facts(.progressing, iterations: 3, analysis: abTesting, provider: .gatewayAPIV1),
            World(routes: Routes(primary: 0, canary: 100)),
            .advanced,
            [weights(0, 100)] + checked() + [
                copying, promote, status(StatusChange(phase: .promoting)), phaseMetric(.promoting),
            ]
        ),
        Row(
            "A/B with a selection Gateway API cannot route rolls back",
            facts(
                .progressing,
                iterations: 1,
                analysis: analysis({ $0.match = [["uri": ["prefix": "/api"]]] }, from: abTesting),
                provider: .gatewayAPIV1
            ),
            World(routes: Routes(primary: 0, canary: 100)),
            .advanced,
            [weights(0, 100)] + checked() + [
                warning(
                    "Rolling back podinfo.prod A/B selection cannot be routed: spec.analysis.match[0].uri: an A/B "
                        + "selection adds headers and queryParams to the route's matches; put the path in "
                        + "spec.service.match"
                )
            ] + rolledBack()
        ),
        Row(
            "A/B on a provider that cannot match runs blue/green",
            facts(.progressing, analysis: abTesting),
            .advanced,
            [
                weights(100, 0), info("Starting canary analysis for podinfo.prod"),
                status(StatusChange(iterations: 1)), info("Advance podinfo.prod canary iteration 1/3"),
            ]
        ),
        Row(
            "blue/green: iterations of checks with the canary taking no traffic",
            facts(.progressing, iterations: 1, analysis: blueGreen),
            .advanced,
            [weights(100, 0)] + checked() + [
                status(StatusChange(iterations: 2)), info("Advance podinfo.prod canary iteration 2/3"),
            ]
        ),
        Row(
            "blue/green with mirroring: the canary sees a copy of the traffic",
            facts(.progressing, analysis: mirroring, provider: .gatewayAPIV1),
            .advanced,
            [
                weights(100, 0), info("Starting canary analysis for podinfo.prod"), routes(100, 0, mirrored: true),
                .effect(.log("Start traffic mirroring")), status(StatusChange(iterations: 1)),
                info("Advance podinfo.prod canary iteration 1/3"),
            ]
        ),
        Row(
            "mirrored traffic at weight 0 is analysed, not pre-rolled",
            facts(.progressing, analysis: mirroring, provider: .gatewayAPIV1),
            World(routes: Routes(primary: 100, canary: 0, mirrored: true)),
            .advanced,
            [weights(100, 0)] + checked() + [
                status(StatusChange(iterations: 1)), info("Advance podinfo.prod canary iteration 1/3"),
            ]
        ),
        Row(
            "blue/green after its iterations: all traffic to the canary for one more round",
            facts(.progressing, iterations: 3, analysis: blueGreen),
            .advanced,
            [weights(100, 0)] + checked() + [
                info("Routing all traffic to canary"), routes(0, 100), weights(0, 100),
                status(StatusChange(canaryWeight: 100)),
            ]
        ),
        Row(
            "mirrored blue/green after its iterations: mirroring stops, all traffic to the canary",
            facts(.progressing, iterations: 3, analysis: mirroring, provider: .gatewayAPIV1),
            World(routes: Routes(primary: 100, canary: 0, mirrored: true)),
            .advanced,
            [weights(100, 0)] + checked() + [
                info("Stop traffic mirroring and route all traffic to canary"), routes(0, 100), weights(0, 100),
                status(StatusChange(canaryWeight: 100)),
            ]
        ),
        Row(
            "blue/green with all traffic on the canary: promotion, Promoting in the status metric",
            facts(.progressing, weight: 100, iterations: 3, analysis: blueGreen),
            World(routes: Routes(primary: 0, canary: 100)),
            .advanced,
            [weights(0, 100)] + checked() + [
                copying, promote, status(StatusChange(phase: .promoting, canaryWeight: 100)), phaseMetric(.promoting),
            ]
        ),
        Row(
            "blue/green confirm-promotion refuses: WaitingPromotion",
            facts(.progressing, weight: 100, iterations: 3, analysis: analysis({ $0.iterations = 3 }, from: hooked)),
            World(
                routes: Routes(primary: 0, canary: 100),
                hooks: ["rollback-gate": .failed(closed), "approve-promotion": .failed(closed)]
            ),
            .advanced,
            [weights(0, 100), rollbackAsked] + checked(hooks: true) + [
                .call("approve-promotion", .progressing),
                status(
                    StatusChange(
                        phase: .waitingPromotion,
                        conditionMessage:
                            "Halt podinfo.prod advancement waiting for promotion approval approve-promotion"
                    )
                ),
                warning("Halt podinfo.prod advancement waiting for promotion approval approve-promotion"),
                alert("Halt podinfo.prod advancement waiting for promotion approval approve-promotion", .warn),
            ]
        ),
        Row(
            "fledge promote during blue/green iterations: all traffic to the canary first",
            facts(.progressing, iterations: 1, analysis: blueGreen, action: .promote),
            .advanced,
            [
                weights(100, 0), info("Routing all traffic to canary"), routes(0, 100), weights(0, 100),
                status(StatusChange(canaryWeight: 100)),
            ]
        ),
        Row(
            "the kubernetes provider runs blue/green and promotes at weight 0",
            facts(.progressing, iterations: 1, analysis: tutorial, provider: .kubernetes),
            .advanced,
            [weights(100, 0)] + checked() + [
                copying, promote, status(StatusChange(phase: .promoting, canaryWeight: 0)), phaseMetric(.promoting),
            ]
        ),
    ]
}
