import AsyncHTTPClient
import CanaryModel
import DevCluster
import DevClusterTestSupport
import Foundation
import JSONValue
import KubeClient
import KubeModels
import Logging
import Metrics
import ServerGuards
import Synchronization
import Testing

@testable import Progression

/// A tenant who may write Canaries, TrafficSplits, HTTPRoutes, MetricTemplates and Services tries to crash the
/// worker, make it adopt or rewrite objects it does not own, leak another namespace's credentials, or read back what
/// internal services answer.
@Suite("Hostile tenant against the worker", .serialized)
struct HostileWorkerTests {
    static let trafficSplit = "/apis/split.smi-spec.io/v1alpha1/namespaces/default/trafficsplits/podinfo"

    @Test("a TrafficSplit weight of Int64.min leaves the worker alive and the weight restored from the status")
    func int64MinWeight() async throws {
        // The finding: the next step trapped on `100 - canaryWeight`, and every replica crash-looped.
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary()
            try await harness.initialise()
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            try await harness.tick()
            try await harness.tick()
            #expect(try await harness.canaryWeight() == 10)
            _ = try await harness.client.patch(
                Self.trafficSplit,
                [
                    "spec": [
                        "backends": [
                            ["service": "podinfo-canary", "weight": "-9223372036854775808"],
                            ["service": "podinfo-primary", "weight": "9223372036854775807"],
                        ]
                    ]
                ],
                type: .merge
            )
            #expect(try await harness.tick() == .advanced)
            let weights = try #require(try await harness.splitWeights())
            #expect(weights.0 + weights.1 == 100)
            #expect(try await harness.canaryWeight() == 20, "restored to 90/10, then the next step")
            #expect(harness.messages.contains { $0.hasPrefix("TrafficSplit weights [") && $0.contains("restored") })
        }
    }

    @Test("hostile numbers in a Canary's status and spec are clamped before any arithmetic")
    func hostileCanaryNumbers() {
        var canary = Canary(
            metadata: ObjectMeta(),
            spec: CanarySpec(targetRef: LocalObjectReference(name: "podinfo"))
        )
        var analysis = CanaryAnalysis()
        analysis.stepWeight = .max
        analysis.maxWeight = .min
        analysis.threshold = .max
        analysis.iterations = .max
        analysis.stepWeightPromotion = .max
        analysis.stepWeights = [.min, .max]
        canary.spec.analysis = analysis
        var status = CanaryStatus(phase: .progressing)
        status.failedChecks = .max
        status.canaryWeight = .min
        status.iterations = .max
        canary.status = status
        let clamped = canary.clampedForRelease()
        #expect(clamped.status?.canaryWeight == 0)
        #expect(clamped.status?.failedChecks == Canary.countLimit)
        #expect(clamped.spec.analysis?.stepWeights == [0, 100])
        // What the worker computes from them stays in range and does not trap.
        let checks = (clamped.status?.failedChecks ?? 0) + 1
        #expect(checks == Canary.countLimit + 1)
        #expect(ReleaseRules.nextWeight(after: .max, analysis: canary.spec.analysis!) <= 100)
        #expect(ReleaseRules.promotionStep(primaryWeight: .max, analysis: canary.spec.analysis!) == 100)
        #expect(Routes.fromStatus(canary) == Routes(primary: 100, canary: 0))
    }

    @Test(
        "a stored threshold below 1 counts as 1, as in Flagger: the first analysis tick runs its checks",
        arguments: [0, -3]
    )
    func thresholdBelowOne(threshold: Int) throws {
        var canary = Canary(
            metadata: ObjectMeta(name: "podinfo", namespace: "prod"),
            spec: CanarySpec(targetRef: LocalObjectReference(name: "podinfo"))
        )
        var analysis = CanaryAnalysis()
        analysis.threshold = threshold
        analysis.stepWeight = 10
        canary.spec.analysis = analysis
        var status = CanaryStatus(phase: .progressing)
        status.failedChecks = 0
        status.canaryWeight = 0
        status.lastAppliedSpec = "rev1"
        canary.status = status
        let clamped = canary.clampedForRelease()
        #expect(clamped.spec.analysis?.threshold == 1)
        let machine = ReleaseMachine(
            ReleaseFacts(
                canary: clamped,
                defaultProvider: "linkerd",
                action: nil,
                primary: .ready,
                canaryReadiness: .ready,
                elapsed: { _ in 30 }
            )
        )
        let plan = machine.plan(
            ReleaseAnswers(
                routes: ReconciledRoutes(routes: Routes(primary: 100, canary: 0)),
                revision: Revision(hash: "rev1", configs: [:])
            )
        )
        let rolledBack = plan.effects.contains {
            if case .event(let message, _) = $0 { return message.hasPrefix("Rolling back") }
            return false
        }
        #expect(!rolledBack)
        #expect(plan.effects.contains(.event("Starting canary analysis for podinfo.prod", .normal)))
    }

    @Test("worker readers answer hostile TrafficSplits, HTTPRoutes and Deployments without trapping (fuzz)")
    func fuzzReaders() throws {
        var random = SplitMix(seed: 0x5EED)
        let hostileNumbers: [JSONValue] = [
            .int(.min), .int(.max), .int(-1), .int(101), .int(0), .int(50), .double(.infinity), .double(-.infinity),
            .double(.nan), .double(1e308), .double(-1e-308), .double(50.5), .string("-9223372036854775808"),
            .string("99999999999999999999999"), .string("50m"), .string("0x10"), .string(""), .string("٣"), .null,
            .bool(true), .array([]), .object([:]),
        ]
        func number() -> JSONValue { hostileNumbers[Int(random.next() % UInt64(hostileNumbers.count))] }
        var cases = 0
        var decoded = 0
        for _ in 0..<20_000 {
            let split: JSONValue = [
                "metadata": ["name": "podinfo"],
                "spec": [
                    "backends": [
                        ["service": "podinfo-canary", "weight": number()],
                        ["service": "podinfo-primary", "weight": number()],
                    ]
                ],
            ]
            let read = TrafficSplitRouter.read(
                try JSONValueDecoder().decode(TrafficSplit.self, from: split),
                apex: "podinfo"
            )
            if read.isValid { #expect(read.primary + read.canary == 100) }
            let route: JSONValue = [
                "metadata": ["name": "podinfo"],
                "spec": [
                    "rules": [
                        [
                            "backendRefs": [
                                ["name": "podinfo-primary", "weight": number()],
                                ["name": "podinfo-canary", "weight": number()],
                            ]
                        ]
                    ]
                ],
            ]
            let routes = HTTPRouteRouter.read(
                try JSONValueDecoder().decode(HTTPRoute.self, from: route),
                primary: "podinfo-primary",
                canary: "podinfo-canary"
            )
            #expect((-1...101).contains(routes.primary) && (-1...101).contains(routes.canary))
            let deployment: JSONValue = [
                "metadata": ["name": "podinfo", "generation": number()],
                "spec": ["replicas": number()],
                "status": [
                    "observedGeneration": number(), "replicas": number(), "updatedReplicas": number(),
                    "availableReplicas": number(),
                ],
            ]
            // Counts are int32 in the model: a value the model cannot read is a decoding error, never a trap.
            if let typed = try? JSONValueDecoder().decode(Deployment.self, from: deployment) {
                _ = ReleaseRules.deploymentReadiness(typed, threshold: Int(truncatingIfNeeded: random.next()))
                decoded += 1
            }
            cases += 1
        }
        #expect(cases == 20_000)
        #expect(decoded > 0, "some hostile Deployments decode and reach the readiness rule")
    }

    @Test("objects named like the release's but not created by it are never adopted; an event says why")
    func noAdoption() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            // A tenant's own ConfigMap that happens to be named like the primary's copy.
            _ = try await harness.client.create(
                "/api/v1/namespaces/default/configmaps",
                ["metadata": ["name": "podinfo-config-env-primary"], "data": ["mine": "keep"]]
            )
            try await harness.installCanary()
            _ = await harness.releaser.tick(namespace: "default", name: "podinfo")
            let config = try await harness.client.get(
                "/api/v1/namespaces/default/configmaps/podinfo-config-env-primary"
            )
            #expect(config["data"] == ["mine": "keep"])
            #expect(
                harness.messages.contains {
                    $0.contains("ConfigMap podinfo-config-env-primary.default exists and was not created by Canary")
                }
            )
            #expect(try await harness.client.getIfPresent("\(harness.deployments)/podinfo-primary") == nil)
        }
    }

    @Test("an apex Service that serves another workload is never rewritten")
    func foreignApexService() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            _ = try await harness.client.create(
                "/api/v1/namespaces/default/services",
                [
                    "metadata": ["name": "other-app"],
                    "spec": ["selector": ["app": "other-app"], "ports": [["port": 80, "targetPort": 8080]]],
                ]
            )
            try await harness.installCanary(spec: ["service": ["port": 9898, "name": "other-app"]])
            for _ in 0..<3 { try await harness.tick() }
            let service = try await harness.client.get("/api/v1/namespaces/default/services/other-app")
            #expect(service["spec", "selector"] == ["app": "other-app"])
            #expect(harness.messages.contains { $0.contains("Service other-app.default exists and was not created") })
        }
    }

    /// A MetricTemplate `name` in `namespace` with a bearer token Secret, at `address` (none when nil).
    func template(
        _ harness: ReleaseHarness,
        namespace: String = "default",
        address: String?,
        annotations: [String: JSONValue] = [:]
    ) async throws {
        _ = try await harness.client.create(
            "/api/v1/namespaces/\(namespace)/secrets",
            ["metadata": ["name": "prom-auth"], "data": ["token": .string(Data("s3cret".utf8).base64EncodedString())]]
        )
        var provider: [String: JSONValue] = ["type": "prometheus", "secretRef": ["name": "prom-auth"]]
        if let address { provider["address"] = .string(address) }
        _ = try await harness.client.create(
            "/apis/flagger.app/v1beta1/namespaces/\(namespace)/metrictemplates",
            [
                "apiVersion": "flagger.app/v1beta1", "kind": "MetricTemplate",
                "metadata": ["name": "errors", "annotations": .object(annotations)],
                "spec": ["provider": .object(provider), "query": "sum(errors)"],
            ]
        )
    }

    func canary(metricsServer: String?, templateNamespace: String? = nil) -> Canary {
        var canary = Canary(
            metadata: ObjectMeta(name: "podinfo", namespace: "default"),
            spec: CanarySpec(targetRef: LocalObjectReference(name: "podinfo"))
        )
        canary.spec.metricsServer = metricsServer
        return canary
    }

    func metric(namespace: String? = nil) -> CanaryMetric {
        var metric = CanaryMetric(name: "errors")
        metric.templateRef = CrossNamespaceReference(name: "errors", namespace: namespace)
        metric.thresholdRange = ThresholdRange(max: 1000)
        return metric
    }

    @Test("a template's credentials never go to the address a Canary's author chose")
    func credentialsStayWithTheirAddress() async throws {
        try await withHarness { harness in
            try await template(harness, address: nil)
            // The Canary's author names their own server: the template's token must not reach it.
            let failure = await harness.releaser.check(metric(), canary: canary(metricsServer: harness.receiver.url))
            #expect(failure?.contains("credentials are only sent to the template's own address") == true)
            #expect(harness.receiver.state.authorizations.withLock { $0 }.isEmpty)
        }
    }

    @Test("another namespace's MetricTemplate needs its owner's opt-in, and --no-cross-namespace-refs refuses all")
    func crossNamespaceTemplates() async throws {
        try await withHarness { harness in
            try await harness.cluster.namespace("team-b")
            try await template(harness, namespace: "team-b", address: harness.receiver.url)
            let refused = await harness.releaser.check(metric(namespace: "team-b"), canary: canary(metricsServer: nil))
            #expect(refused?.contains("does not allow references from namespace default") == true)
            #expect(harness.receiver.state.authorizations.withLock { $0 }.isEmpty, "team-b's token was not sent")
            // team-b opts in for default.
            _ = try await harness.client.patch(
                "/apis/flagger.app/v1beta1/namespaces/team-b/metrictemplates/errors",
                ["metadata": ["annotations": [.init(stringLiteral: CrossNamespaceOptIn.annotation): "default"]]],
                type: .merge
            )
            #expect(
                await harness.releaser.check(metric(namespace: "team-b"), canary: canary(metricsServer: nil)) == nil
            )
            #expect(harness.receiver.state.authorizations.withLock { $0 } == ["Bearer s3cret"])
            let strict = Releaser(
                client: harness.client,
                configuration: ProgressionConfiguration(
                    metricsServer: harness.receiver.url,
                    outbound: .local,
                    crossNamespaceRefs: false
                ),
                http: harness.http,
                clock: harness.clock,
                metrics: ProgressionMetrics(factory: NOOPMetricsHandler.instance),
                logger: harness.logger
            )
            let disabled = await strict.check(metric(namespace: "team-b"), canary: canary(metricsServer: nil))
            #expect(disabled?.contains("cross-namespace references are disabled") == true)
        }
    }

    @Test("link-local, metadata and smuggling Prometheus addresses are never queried")
    func prometheusAddresses() async throws {
        try await withHarness { harness in
            let cluster = Releaser(
                client: harness.client,
                configuration: ProgressionConfiguration(metricsServer: harness.receiver.url),
                http: harness.http,
                clock: harness.clock,
                metrics: ProgressionMetrics(factory: NOOPMetricsHandler.instance),
                logger: harness.logger
            )
            var metric = CanaryMetric(name: "request-success-rate")
            metric.thresholdRange = ThresholdRange(min: 99)
            for address in [
                "http://169.254.169.254/latest/meta-data#", "http://metadata.google.internal/x",
                "http://2852039166/", "http://[fe80::1]/", "\(harness.receiver.url)/x?", "\(harness.receiver.url)#",
                "http://user:pass@prometheus/", "file:///etc/passwd",
            ] {
                let failure = await cluster.check(metric, canary: canary(metricsServer: address))
                #expect(failure?.contains("query not sent") == true, "\(address): \(failure ?? "sent")")
            }
            // In a cluster even the receiver's loopback address is the controller's own pod.
            #expect(await cluster.check(metric, canary: canary(metricsServer: harness.receiver.url)) != nil)
            #expect(harness.receiver.state.queries.withLock { $0 }.isEmpty)
        }
    }

    @Test("what a webhook or Prometheus answers stays out of Events unless the operator allows it")
    func answersStayOutOfEvents() async throws {
        try await withHarness { harness in
            harness.receiver.state.statuses.withLock { $0["/internal"] = 500 }
            let events = EventLog()
            let releaser = Releaser(
                client: harness.client,
                configuration: ProgressionConfiguration(metricsServer: harness.receiver.url, outbound: .local),
                http: harness.http,
                clock: harness.clock,
                metrics: ProgressionMetrics(factory: NOOPMetricsHandler.instance),
                logger: harness.logger,
                onEvent: events.observer
            )
            let canary = canary(metricsServer: nil)
            let hook = CanaryWebhook(name: "peek", type: "rollout", url: "\(harness.receiver.url)/internal")
            let answer = await releaser.answer(
                HookCall(index: 0, hook: hook, type: .rollout, phase: .progressing),
                for: canary
            )
            guard case .failed(let failure) = answer else {
                Issue.record("the hook answered 500 and passed")
                return
            }
            #expect(failure.contains("HTTP 500"))
            #expect(!failure.contains("hook said no"), "the answer's body is not shown")
            #expect(!events.messages.joined().contains("hook said no"))
            harness.receiver.state.queryStatus.withLock { $0 = 500 }
            var metric = CanaryMetric(name: "request-success-rate")
            metric.thresholdRange = ThresholdRange(min: 99)
            let metricFailure = try #require(await releaser.check(metric, canary: canary))
            #expect(metricFailure.contains("500") && !metricFailure.contains("prometheus is down"))
        }
    }

    @Test("webhook timeouts and retries are bounded at admission and again when called")
    func boundedHooks() async throws {
        // The finding: timeout 153722867m and retries 1000000000 passed validation.
        var object: JSONValue = [
            "apiVersion": "flagger.app/v1beta1", "kind": "Canary", "metadata": ["name": "podinfo"],
            "spec": [
                "targetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"],
                "service": ["port": 9898],
                "analysis": [
                    "interval": "1m", "threshold": 5, "stepWeight": 10, "maxWeight": 50,
                    "webhooks": [
                        [
                            "name": "slow", "url": "http://flagger-loadtester.prod/", "timeout": "153722867m",
                            "retries": 1_000_000_000,
                        ]
                    ],
                ],
            ],
        ]
        let report = CanaryValidator().validate(CanaryDefaulter().defaulted(object))
        let fields = report.errors.map(\.description)
        #expect(
            fields.contains { $0.hasPrefix("spec.analysis.webhooks[0].timeout") && $0.contains("must be at most 10m") }
        )
        #expect(
            fields.contains { $0.hasPrefix("spec.analysis.webhooks[0].retries") && $0.contains("between 0 and 10") }
        )
        object.setMember(["spec", "service", "name"], "kubernetes")
        let reserved = CanaryValidator().validate(CanaryDefaulter().defaulted(object))
        #expect(reserved.errors.contains { $0.field == "spec.service.name" && $0.detail.contains("API server's own") })
    }

    @Test("a namespace's Canaries take at most their share of tick slots; the others still run")
    func fairSlots() {
        let schedule = Schedule()
        let now = Date(timeIntervalSince1970: 1_767_225_600)
        for index in 0..<20 { schedule.schedule("noisy/c\(index)", at: now, interval: .seconds(60)) }
        for index in 0..<3 {
            schedule.schedule("quiet/c\(index)", at: now.addingTimeInterval(1), interval: .seconds(60))
        }
        let first = schedule.takeDue(now: now.addingTimeInterval(2), limit: 8, perNamespace: 2)
        let namespaces = first.due.map { Schedule.namespace(of: $0.key) }
        #expect(namespaces.filter { $0 == "noisy" }.count == 2)
        #expect(namespaces.filter { $0 == "quiet" }.count == 2)
        // A finished noisy tick frees one slot of its namespace's share.
        let noisy = first.due.first { $0.key.hasPrefix("noisy/") }!
        _ = schedule.finished(noisy.key)
        let second = schedule.takeDue(now: now.addingTimeInterval(2), limit: 8, perNamespace: 2)
        #expect(second.due.map { Schedule.namespace(of: $0.key) } == ["noisy"])
    }

    @Test("the load tester's token goes only to the load tester's origin, never to a Canary author's URL")
    func loadTesterToken() async throws {
        try await withHarness { harness in
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)")
            try Data("s3cret\n".utf8).write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            let caller = WebhookCaller(
                http: harness.http,
                outbound: .local,
                loadTester: try LoadTesterCredentials(
                    urls: [harness.receiver.url],
                    token: BearerTokenFile(path: file.path)
                )
            )
            let payload = WebhookPayload(name: "podinfo", namespace: "default", phase: "Progressing", checksum: "x")
            _ = await caller.call(CanaryWebhook(name: "a", url: "\(harness.receiver.url)/load"), payload: payload)
            // The same server under another name is another origin: a Canary author's URL gets nothing.
            let other = harness.receiver.url.replacingOccurrences(of: "127.0.0.1", with: "localhost")
            _ = await caller.call(CanaryWebhook(name: "b", url: "\(other)/elsewhere"), payload: payload)
            let calls = harness.receiver.state.calls.withLock { $0 }
            #expect(calls.first { $0.path == "/load" }?.authorization == "Bearer s3cret")
            let elsewhere = try #require(calls.first { $0.path == "/elsewhere" })
            #expect(elsewhere.authorization == nil)
        }
    }

    @Test("a tick that outlives the tick timeout is cancelled, by the worker's clock")
    func tickTimeout() async throws {
        let clock = ManualClock()
        let cancelled = Mutex(false)
        async let outcome = ProgressionWorker.withDeadline(.seconds(30), clock: clock) {
            // A tick stuck on a webhook that never answers, until cancelled.
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    Stuck.shared.park(continuation)
                }
            } onCancel: {
                cancelled.withLock { $0 = true }
                Stuck.shared.release()
            }
            return TickOutcome.advanced
        }
        while clock.sleeperCount == 0 { await Task.yield() }
        clock.advance(by: .seconds(29))
        #expect(clock.sleeperCount == 1, "not yet")
        clock.advance(by: .seconds(2))
        #expect(await outcome == nil)
        #expect(cancelled.withLock { $0 })
    }
}

/// Holds a continuation until released (once), whichever comes first.
final class Stuck: Sendable {
    static let shared = Stuck()
    private let state = Mutex<(continuation: CheckedContinuation<Void, Never>?, released: Bool)>((nil, false))

    func park(_ continuation: CheckedContinuation<Void, Never>) {
        let resumeNow = state.withLock { state in
            if state.released { return true }
            state.continuation = continuation
            return false
        }
        if resumeNow { continuation.resume() }
    }

    func release() {
        let continuation = state.withLock { state in
            state.released = true
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume()
    }
}

/// A small deterministic generator for fuzzing.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
