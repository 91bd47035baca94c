// Throughput of the embedded API server over real HTTPS: writes per second from concurrent KubeClients, and watch
// events per second delivered to a KubeClient watch. Prints numbers; asserts nothing.
import AsyncHTTPClient
import CanaryModel
import CertificateKit
import DevCluster
import Foundation
import JSONValue
import KubeClient
import Logging
import Metrics
import Progression
import ServiceLifecycle

let seconds = Double(ProcessInfo.processInfo.environment["SECONDS"] ?? "") ?? 10
let writers = Int(ProcessInfo.processInfo.environment["WRITERS"] ?? "") ?? 16
var logger = Logger(label: "bench")
logger.logLevel = .error
let cluster = DevCluster(logger: logger)
let certificates = try CertificateFactory.make(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
let server = DevClusterServer(cluster: cluster, certificates: certificates, logger: logger)
let group = ServiceGroup(configuration: .init(services: [server], logger: logger))
let serverTask = Task { try await group.run() }
guard let port = await server.port() else { fatalError("the server did not start") }
let config = KubeConfig(
    server: "https://127.0.0.1:\(port)",
    certificateAuthorityPEM: Array(certificates.caCertificatePEM.utf8),
    credentials: .token("bench")
)
let client = try KubeClient(config: config, logger: logger)
_ = try await client.create("/api/v1/namespaces", ["metadata": ["name": "bench"]])

// 1. Writes: `writers` concurrent loops creating ConfigMaps, then as many updates.
let start = ContinuousClock.now
let deadline = start + .seconds(seconds)
let written = try await withThrowingTaskGroup(of: Int.self) { tasks in
    for writer in 0..<writers {
        tasks.addTask {
            var count = 0
            while ContinuousClock.now < deadline {
                let name = "cm-\(writer)-\(count)"
                _ = try await client.create(
                    "/api/v1/namespaces/bench/configmaps",
                    [
                        "metadata": ["name": .string(name), "labels": ["writer": .string(String(writer))]],
                        "data": ["k": "v"],
                    ]
                )
                count += 1
            }
            return count
        }
    }
    var total = 0
    for try await value in tasks { total += value }
    return total
}
let writeElapsed = ContinuousClock.now - start
let writeSeconds = Double(writeElapsed.components.seconds) + Double(writeElapsed.components.attoseconds) / 1e18
print(
    String(
        format: "writes: %d creates in %.1f s = %.0f writes/s (%d concurrent clients, HTTPS)",
        written,
        writeSeconds,
        Double(written) / writeSeconds,
        writers
    )
)

// 2. Watch: one KubeClient watch from the current revision while objects are written in process as fast as possible.
let list = try await client.get("/api/v1/namespaces/bench/configmaps?limit=1")
let from = list["metadata", "resourceVersion"]?.stringValue
let events = 50_000
let watchStart = ContinuousClock.now
let received = try await withThrowingTaskGroup(of: Int.self) { tasks in
    tasks.addTask {
        var count = 0
        for try await _ in client.watch(
            "/api/v1/namespaces/bench/configmaps",
            resourceVersion: from,
            timeoutSeconds: 120
        ) {
            count += 1
            if count == events { break }
        }
        return count
    }
    tasks.addTask {
        for index in 0..<events {
            let body: JSONValue = ["metadata": ["name": .string("w-\(index)")]]
            _ = await cluster.handle(
                APIRequest(method: "POST", path: "/api/v1/namespaces/bench/configmaps", body: body.serializedBytes())
            )
        }
        return 0
    }
    var total = 0
    for try await value in tasks { total += value }
    return total
}
let watchElapsed = ContinuousClock.now - watchStart
let watchSeconds = Double(watchElapsed.components.seconds) + Double(watchElapsed.components.attoseconds) / 1e18
print(
    String(
        format: "watch: %d events delivered in %.2f s = %.0f events/s to one KubeClient watch",
        received,
        watchSeconds,
        Double(received) / watchSeconds
    )
)
let rss =
    (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8))?.split(separator: "\n")
    .first { $0.hasPrefix("VmHWM") } ?? ""
print("peak RSS: \(rss.split(separator: " ", omittingEmptySubsequences: true).dropFirst().joined(separator: " "))")

// 3. The worker: CANARIES Canaries released at once against the embedded cluster, ticked directly (a manual clock,
// 16 at a time). Reports CPU per tick, API calls per tick and per weight step, and memory per Canary.
let canaryCount = Int(ProcessInfo.processInfo.environment["CANARIES"] ?? "") ?? 1000
if canaryCount > 0 {
    let workerCluster = DevCluster(configuration: DevClusterConfiguration(speed: 1000, rolloutDelay: .milliseconds(1)), logger: logger)
    let workerServer = DevClusterServer(cluster: workerCluster, certificates: certificates, logger: logger)
    let workerGroup = ServiceGroup(
        configuration: .init(services: [workerServer, DeploymentController(cluster: workerCluster)], logger: logger)
    )
    let workerTask = Task { try await workerGroup.run() }
    guard let workerPort = await workerServer.port() else { fatalError("the server did not start") }
    let admin = try KubeClient(
        config: KubeConfig(
            server: "https://127.0.0.1:\(workerPort)",
            certificateAuthorityPEM: Array(certificates.caCertificatePEM.utf8),
            credentials: .token("bench")
        ),
        logger: logger
    )
    for (_, crd) in CustomResourceDefinitions.all {
        _ = try await admin.create("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
    }
    _ = try await admin.create("/api/v1/namespaces", ["metadata": ["name": "fleet"]])
    let rssBefore = residentKilobytes()
    for index in 0..<canaryCount {
        let name = "app-\(index)"
        _ = try await admin.create(
            "/apis/apps/v1/namespaces/fleet/deployments",
            [
                "metadata": ["name": .string(name)],
                "spec": [
                    "replicas": 1, "selector": ["matchLabels": ["app": .string(name)]],
                    "template": [
                        "metadata": ["labels": ["app": .string(name)]],
                        "spec": ["containers": [["name": "app", "image": "example/app:1"]]],
                    ],
                ],
            ]
        )
        _ = try await admin.create(
            "/apis/flagger.app/v1beta1/namespaces/fleet/canaries",
            [
                "metadata": ["name": .string(name)],
                "spec": [
                    "provider": "linkerd", "targetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": .string(name)],
                    "service": ["port": 80], "analysis": ["interval": "10s", "threshold": 1, "stepWeight": 25, "maxWeight": 50],
                ],
            ]
        )
    }
    let http = HTTPClient(eventLoopGroupProvider: .singleton)
    let releaser = Releaser(
        client: admin,
        configuration: ProgressionConfiguration(outbound: .local),
        http: http,
        clock: ManualClock(),
        metrics: ProgressionMetrics(factory: NOOPMetricsHandler.instance),
        logger: logger
    )
    func round() async -> (ticks: Int, cpu: Double, calls: Int) {
        let cpuStart = cpuSeconds()
        let callsStart = releaser.apiCalls
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for index in 0..<canaryCount {
                if running >= 16 {
                    await group.next()
                    running -= 1
                }
                running += 1
                group.addTask { _ = await releaser.tick(namespace: "fleet", name: "app-\(index)") }
            }
        }
        return (canaryCount, cpuSeconds() - cpuStart, releaser.apiCalls - callsStart)
    }
    func settle() async throws {
        // The simulated controller runs at 1000x; give it a moment to mark rollouts done.
        try await Task.sleep(for: .milliseconds(300))
    }
    var phases: [String: Int] = [:]
    func census() async throws {
        phases = [:]
        for canary in try await admin.listAll("/apis/flagger.app/v1beta1/namespaces/fleet/canaries") {
            phases[canary["status", "phase"]?.stringValue ?? "none", default: 0] += 1
        }
    }
    var rounds: [(label: String, ticks: Int, cpu: Double, calls: Int)] = []
    for _ in 0..<3 {
        let result = await round()
        rounds.append(("initialise", result.ticks, result.cpu, result.calls))
        try await settle()
        try await census()
        if phases["Initialized"] == canaryCount { break }
    }
    for index in 0..<canaryCount {
        _ = try await admin.patch(
            "/apis/apps/v1/namespaces/fleet/deployments/app-\(index)",
            ["spec": ["template": ["spec": ["containers": [["name": "app", "image": "example/app:2"]]]]]],
            type: .strategicMerge
        )
    }
    try await settle()
    var progressingRounds = 0
    while progressingRounds < 12 {
        let result = await round()
        progressingRounds += 1
        rounds.append(("release", result.ticks, result.cpu, result.calls))
        try await settle()
        try await census()
        if phases["Succeeded"] == canaryCount { break }
    }
    let rssAfter = residentKilobytes()
    let releaseRounds = rounds.filter { $0.label == "release" }
    let ticks = releaseRounds.reduce(0) { $0 + $1.ticks }
    let cpu = releaseRounds.reduce(0) { $0 + $1.cpu }
    let calls = releaseRounds.reduce(0) { $0 + $1.calls }
    print(
        String(
            format: "worker: %d Canaries released in %d rounds of ticks; %.0f µs CPU per tick (whole process, API server included), %.1f API calls per tick; phases %@",
            canaryCount,
            releaseRounds.count,
            cpu / Double(max(ticks, 1)) * 1e6,
            Double(calls) / Double(max(ticks, 1)),
            phases.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
        )
    )
    print(String(format: "worker: memory %.1f KiB per Canary (RSS growth incl. the embedded cluster's objects)", Double(rssAfter - rssBefore) / Double(canaryCount)))
    try await http.shutdown()
    try await admin.shutdown()
    await workerGroup.triggerGracefulShutdown()
    try await workerTask.value
}

try await client.shutdown()
await group.triggerGracefulShutdown()
try await serverTask.value

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

func residentKilobytes() -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS") } ?? ""
    return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
}
