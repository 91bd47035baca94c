import AsyncHTTPClient
import CanaryModel
import DevCluster
import DevClusterTestSupport
import Foundation
import Hummingbird
import JSONValue
import KubeClient
import KubeModels
import Logging
import Metrics
import NIOCore
import Progression
import ServiceLifecycle
import Synchronization
import Testing

/// The events a Releaser records, kept by the test that observes it (the Releaser keeps none).
final class EventLog: Sendable {
    private let events = Mutex<[ReleaseEvent]>([])

    /// The observer to hand a Releaser.
    var observer: @Sendable (ReleaseEvent) -> Void { { event in self.events.withLock { $0.append(event) } } }

    var all: [ReleaseEvent] { events.withLock { $0 } }
    var messages: [String] { all.map(\.message) }
}

/// A small HTTP server for tests: answers Prometheus queries with a settable value, and records webhook calls
/// answering each path with a settable status.
final class Receiver: Sendable {
    struct Call: Sendable {
        var path: String
        var body: JSONValue
        var authorization: String? = nil
    }

    let group: ServiceGroup
    let task: Task<Void, any Error>
    let port: Int

    init() async throws {
        let router = Router()
        let (portStream, portContinuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "receiver")
        logger.logLevel = .error
        let box = ReceiverState()
        router.get("/api/v1/query") { request, _ in
            let query = request.uri.queryParameters["query"].map(String.init) ?? ""
            box.queries.withLock { $0.append(query) }
            box.authorizations.withLock { $0.append(request.headers[.authorization] ?? "") }
            let failing = box.queryStatus.withLock { $0 }
            if failing != 200 {
                return Response(
                    status: .init(code: failing),
                    body: .init(byteBuffer: ByteBuffer(string: "prometheus is down"))
                )
            }
            let value = box.value.withLock { $0 }
            let result: JSONValue =
                value.map { [["metric": [:], "value": [1_767_225_600, .string(String($0))]]] } ?? []
            let body: JSONValue = ["status": "success", "data": ["resultType": "vector", "result": result]]
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: body.serializedBytes())))
        }
        router.post("**") { request, _ in
            let bytes = try await request.body.collect(upTo: 1 << 20)
            let body = (try? JSONValue(parsing: Array(bytes.readableBytesView))) ?? .null
            let path = request.uri.path
            let authorization = request.headers[.authorization]
            box.calls.withLock { $0.append(Call(path: path, body: body, authorization: authorization)) }
            let status = box.statuses.withLock { $0[path] } ?? 200
            return Response(
                status: .init(code: status),
                body: .init(byteBuffer: ByteBuffer(string: status < 300 ? "ok" : "hook said no"))
            )
        }
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger
        )
        group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let group = self.group
        task = Task { try await group.run() }
        var port = 0
        for await bound in portStream { port = bound }
        self.port = port
        state = box
    }

    let state: ReceiverState

    var url: String { "http://127.0.0.1:\(port)" }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}

/// What the receiver saw and how it answers.
final class ReceiverState: Sendable {
    let calls = Mutex<[Receiver.Call]>([])
    let queries = Mutex<[String]>([])
    /// The Authorization header of each query ("" when none).
    let authorizations = Mutex<[String]>([])
    /// The value every query answers; nil answers an empty vector.
    let value = Mutex<Double?>(100)
    /// Status per webhook path (default 200).
    let statuses = Mutex<[String: Int]>([:])
    /// Status of query answers (200: answer `value`).
    let queryStatus = Mutex(200)
}

/// The common fixture of SCENARIOS.md on the embedded cluster, with a manual clock and a receiver playing
/// Prometheus and the webhooks.
final class ReleaseHarness: Sendable {
    let cluster: ClusterFixture
    let receiver: Receiver
    let http: HTTPClient
    let clock = ManualClock()
    let releaser: Releaser
    let events = EventLog()
    let logger: Logger
    let namespace = "default"

    init(
        faults: (@Sendable (APIRequest) -> APIError?)? = nil,
        metrics: ProgressionMetrics = ProgressionMetrics(factory: NOOPMetricsHandler.instance)
    ) async throws {
        // In process: the worker's requests reach the embedded API server without a socket or TLS.
        cluster = try await ClusterFixture(
            configuration: DevClusterConfiguration(speed: 100, rolloutDelay: .seconds(1), faults: faults),
            inProcess: true
        )
        receiver = try await Receiver()
        http = HTTPClient(eventLoopGroupProvider: .singleton)
        var logger = Logger(label: "progression-test")
        logger.logLevel = .critical
        self.logger = logger
        releaser = Releaser(
            client: cluster.client,
            configuration: ProgressionConfiguration(
                metricsServer: receiver.url,
                outbound: .local,
                answersInEvents: true
            ),
            http: http,
            clock: clock,
            metrics: metrics,
            logger: logger,
            onEvent: events.observer
        )
        try await cluster.installCRDs()
    }

    func stop() async throws {
        try await http.shutdown()
        try await receiver.stop()
        try await cluster.stop()
    }

    var client: KubeClient { cluster.client }
    var deployments: String { "/apis/apps/v1/namespaces/\(namespace)/deployments" }
    var canaries: String { "/apis/flagger.app/v1beta1/namespaces/\(namespace)/canaries" }

    /// The podinfo workload of SCENARIOS.md with its configs.
    func installWorkload(image: String = "ghcr.io/stefanprodan/podinfo:6.0.0") async throws {
        _ = try await client.create(
            "/api/v1/namespaces/\(namespace)/configmaps",
            ["metadata": ["name": "podinfo-config-env"], "data": ["color": "blue"]]
        )
        _ = try await client.create(
            "/api/v1/namespaces/\(namespace)/configmaps",
            ["metadata": ["name": "podinfo-config-vol"], "data": ["file": "a"]]
        )
        _ = try await client.create(
            "/api/v1/namespaces/\(namespace)/secrets",
            ["metadata": ["name": "podinfo-secret-env"], "data": ["password": "c2VjcmV0"]]
        )
        let deployment: JSONValue = [
            "metadata": ["name": "podinfo", "labels": ["app": "podinfo"]],
            "spec": [
                "replicas": 1,
                "selector": ["matchLabels": ["app": "podinfo"]],
                "template": [
                    "metadata": ["labels": ["app": "podinfo"]],
                    "spec": [
                        "containers": [
                            [
                                "name": "podinfod", "image": .string(image),
                                "ports": [
                                    ["name": "http", "containerPort": 9898],
                                    ["name": "http-metrics", "containerPort": 8080],
                                    ["containerPort": 8888],
                                ],
                                "envFrom": [["configMapRef": ["name": "podinfo-config-env"]]],
                                "env": [
                                    [
                                        "name": "PASSWORD",
                                        "valueFrom": [
                                            "secretKeyRef": ["name": "podinfo-secret-env", "key": "password"]
                                        ],
                                    ]
                                ],
                                "volumeMounts": [["name": "config", "mountPath": "/etc/podinfo"]],
                            ]
                        ],
                        "volumes": [["name": "config", "configMap": ["name": "podinfo-config-vol"]]],
                    ],
                ],
            ],
        ]
        _ = try await client.create(deployments, deployment)
    }

    /// The Canary of SCENARIOS.md, with `analysis` members replaced by `overrides`.
    func installCanary(_ overrides: [String: JSONValue] = [:], spec: [String: JSONValue] = [:]) async throws {
        var analysis: [String: JSONValue] = [
            "interval": "1m", "threshold": 10, "stepWeight": 10, "maxWeight": 50,
            "metrics": [
                ["name": "request-success-rate", "thresholdRange": ["min": 99], "interval": "1m"],
                ["name": "request-duration", "thresholdRange": ["max": 500000], "interval": "1m"],
            ],
        ]
        for (key, value) in overrides { analysis[key] = value }
        var canarySpec: [String: JSONValue] = [
            "provider": "linkerd",
            "targetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"],
            "service": ["port": 9898],
            "analysis": .object(analysis.filter { !$0.value.isNull }),
        ]
        for (key, value) in spec { canarySpec[key] = value }
        _ = try await client.create(
            canaries,
            [
                "apiVersion": "flagger.app/v1beta1", "kind": "Canary", "metadata": ["name": "podinfo"],
                "spec": .object(canarySpec),
            ]
        )
    }

    @discardableResult
    func tick() async throws -> TickOutcome {
        let outcome = await releaser.tick(namespace: namespace, name: "podinfo")
        try await settle()
        return outcome
    }

    /// Waits until the simulated Deployment controller has caught up with every Deployment.
    func settle() async throws {
        for _ in 0..<500 {
            let items = try await client.listAll(deployments)
            let settled = items.allSatisfy { deployment in
                let replicas = deployment["spec", "replicas"]?.intValue ?? 1
                return (deployment["status", "observedGeneration"]?.intValue ?? 0)
                    >= (deployment["metadata", "generation"]?.intValue ?? 1)
                    && (replicas == 0 || (deployment["status", "availableReplicas"]?.intValue ?? 0) >= replicas
                        || deployment["spec", "template", "metadata", "annotations", "playground.fledge.dev/ready"]
                            == "false")
            }
            if settled { return }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    func canary() async throws -> JSONValue { try await client.get("\(canaries)/podinfo") }
    func phase() async throws -> String? { try await canary()["status", "phase"]?.stringValue }
    func canaryWeight() async throws -> Int64? { try await canary()["status", "canaryWeight"]?.intValue }

    /// (primary, canary) from the TrafficSplit.
    func splitWeights() async throws -> (Int, Int)? {
        guard
            let split = try await client.getIfPresent(
                "/apis/split.smi-spec.io/v1alpha1/namespaces/\(namespace)/trafficsplits/podinfo"
            )
        else { return nil }
        var primary = -1
        var canary = -1
        for backend in split["spec", "backends"]?.arrayValue ?? [] {
            let value = Int(backend["weight"]?.stringValue ?? "") ?? Int(backend["weight"]?.intValue ?? -1)
            if backend["service"] == "podinfo-primary" { primary = value }
            if backend["service"] == "podinfo-canary" { canary = value }
        }
        return (primary, canary)
    }

    /// Moves the TrafficSplit's weights directly, as Flagger's own tests do with the router.
    func setSplit(primary: Int, canary: Int) async throws {
        _ = try await client.patch(
            "/apis/split.smi-spec.io/v1alpha1/namespaces/\(namespace)/trafficsplits/podinfo",
            [
                "spec": [
                    "backends": [
                        ["service": "podinfo-canary", "weight": .string(String(canary))],
                        ["service": "podinfo-primary", "weight": .string(String(primary))],
                    ]
                ]
            ],
            type: .merge
        )
    }

    /// Makes the simulated pods of Deployment `name` ready or never ready (a template change: a new rollout), with
    /// an optional progress deadline.
    func setReady(_ name: String, _ ready: Bool, progressDeadlineSeconds: Int? = nil) async throws {
        var spec: JSONValue = [
            "template": ["metadata": ["annotations": ["playground.fledge.dev/ready": .string("\(ready)")]]]
        ]
        if let progressDeadlineSeconds {
            spec.setMember(["progressDeadlineSeconds"], .int(Int64(progressDeadlineSeconds)))
        }
        _ = try await client.patch("\(deployments)/\(name)", ["spec": spec], type: .merge)
    }

    /// A new worker process's Releaser on the same cluster, clock and Prometheus: nothing in memory; its events go to
    /// `events`.
    func successor(events: EventLog = EventLog()) -> Releaser {
        Releaser(
            client: client,
            configuration: ProgressionConfiguration(
                metricsServer: receiver.url,
                outbound: .local,
                answersInEvents: true
            ),
            http: http,
            clock: clock,
            metrics: ProgressionMetrics(factory: NOOPMetricsHandler.instance),
            logger: logger,
            onEvent: events.observer
        )
    }

    /// Asks for a release action, as `fledge promote|abort|retry` does.
    func annotate(_ action: String) async throws {
        _ = try await client.patch(
            "\(canaries)/podinfo",
            ["metadata": ["annotations": [.init(stringLiteral: ReleaseAction.annotation): .string(action)]]],
            type: .merge
        )
    }

    /// Waits until the Deployment `name` reports a Progressing condition with `reason`.
    func waitForCondition(_ name: String, reason: String) async throws {
        for _ in 0..<500 {
            let deployment = try await client.get("\(deployments)/\(name)")
            let conditions = deployment["status", "conditions"]?.arrayValue ?? []
            if conditions.contains(where: { $0["type"] == "Progressing" && $0["reason"]?.stringValue == reason }) {
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("\(name) never reported \(reason)")
    }

    func replicas(_ name: String) async throws -> Int64? {
        try await client.getIfPresent("\(deployments)/\(name)")?["spec", "replicas"]?.intValue
    }

    func setImage(_ image: String) async throws {
        _ = try await client.patch(
            "\(deployments)/podinfo",
            ["spec": ["template": ["spec": ["containers": [["name": "podinfod", "image": .string(image)]]]]]],
            type: .strategicMerge
        )
        try await settle()
    }

    /// Ticks until initialised (the primary needs a moment to become ready).
    func initialise() async throws {
        for _ in 0..<5 where try await phase() != "Initialized" { try await tick() }
        #expect(try await phase() == "Initialized")
    }

    var messages: [String] { events.messages }
}

/// Runs `body` with a fresh harness and always stops it.
func withHarness(
    faults: (@Sendable (APIRequest) -> APIError?)? = nil,
    metrics: ProgressionMetrics = ProgressionMetrics(factory: NOOPMetricsHandler.instance),
    _ body: (ReleaseHarness) async throws -> Void
) async throws {
    let harness = try await ReleaseHarness(faults: faults, metrics: metrics)
    do {
        try await body(harness)
    } catch {
        try? await harness.stop()
        throw error
    }
    try await harness.stop()
}

extension APIError {
    /// An injected 500, as an overloaded API server answers.
    static let injectedServerError = APIError(
        code: 500,
        reason: "InternalError",
        message: "Internal error occurred: injected"
    )

    /// An injected 409, as when another writer changed the object first.
    static func injectedConflict(_ what: String = "the object") -> APIError {
        APIError(code: 409, reason: "Conflict", message: "Operation cannot be fulfilled on \(what): injected")
    }

    /// An injected 429 asking the client to come back after `seconds`.
    static func injectedThrottle(retryAfter seconds: Int) -> APIError {
        APIError(
            code: 429,
            reason: "TooManyRequests",
            message: "injected throttling",
            details: StatusDetails(retryAfterSeconds: seconds)
        )
    }
}
