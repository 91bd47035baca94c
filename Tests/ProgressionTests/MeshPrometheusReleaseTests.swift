import AsyncHTTPClient
import CanaryModel
import DevCluster
import DevClusterTestSupport
import Foundation
import JSONValue
import KubeClient
import Logging
import Metrics
import Progression
import ServiceLifecycle
import Synchronization
import Testing

/// A real Prometheus scraping `target` every second, for the duration of `body`.
func withPrometheus(scraping target: Int, _ body: (String) async throws -> Void) async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-prom-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let config = """
        global:
          scrape_interval: 1s
          evaluation_interval: 1s
        scrape_configs:
          - job_name: linkerd-proxy
            static_configs:
              - targets: ["127.0.0.1:\(target)"]

        """
    let configFile = directory.appendingPathComponent("prometheus.yml")
    try config.write(to: configFile, atomically: true, encoding: .utf8)
    let port = try RealPrometheusTests.freePort()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: RealPrometheusTests.binary)
    process.arguments = [
        "--config.file=\(configFile.path)", "--storage.tsdb.path=\(directory.appendingPathComponent("data").path)",
        "--web.listen-address=127.0.0.1:\(port)",
    ]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    defer { process.terminate() }
    try await body("http://127.0.0.1:\(port)")
}

@Suite("A release analysed by a real Prometheus scraping the simulated mesh", .serialized)
struct MeshPrometheusReleaseTests {
    @Test(
        "3.1.1 is promoted on real PromQL; a 60 % revision is halted with Flagger's success-rate message and rolled back",
        .enabled(
            if: RealPrometheusTests.installed,
            "prometheus is not installed at /usr/bin/prometheus (apt-get install prometheus)"
        ),
        .timeLimit(.minutes(3))
    )
    func release() async throws {
        try await withHarness { harness in
            let mesh = MeshServer(cluster: harness.cluster.cluster, logger: harness.logger)
            let group = ServiceGroup(configuration: .init(services: [mesh], logger: harness.logger))
            let meshTask = Task { try await group.run() }
            defer {
                Task { await group.triggerGracefulShutdown() }
                _ = meshTask
            }
            let meshPort = try #require(await mesh.port())
            try await withPrometheus(scraping: meshPort) { prometheus in
                let events = EventLog()
                let releaser = Releaser(
                    client: harness.client,
                    configuration: ProgressionConfiguration(
                        metricsServer: prometheus,
                        outbound: .local,
                        answersInEvents: true
                    ),
                    http: harness.http,
                    clock: harness.clock,
                    metrics: ProgressionMetrics(factory: NOOPMetricsHandler.instance),
                    logger: harness.logger,
                    onEvent: events.observer
                )
                // Meshed clients keep calling the canary service.
                let traffic = Task {
                    while !Task.isCancelled {
                        _ = harness.cluster.cluster.mesh.request(
                            namespace: "default",
                            service: "podinfo-canary",
                            path: "/"
                        )
                        try? await Task.sleep(for: .milliseconds(10))
                    }
                }
                defer { traffic.cancel() }
                try await harness.installWorkload()
                let window: JSONValue = [
                    ["name": "request-success-rate", "thresholdRange": ["min": 99], "interval": "10s"],
                    ["name": "request-duration", "thresholdRange": ["max": 500], "interval": "10s"],
                ]
                try await harness.installCanary(["stepWeight": 50, "maxWeight": 50, "threshold": 1, "metrics": window])
                func tick() async throws {
                    _ = await releaser.tick(namespace: "default", name: "podinfo")
                    try await harness.settle()
                }
                for _ in 0..<5 where try await harness.phase() != "Initialized" { try await tick() }
                try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
                try await tick()
                try await tick()
                #expect(try await harness.canaryWeight() == 50)
                // Let Prometheus see ten seconds of the canary's traffic.
                let client = PrometheusClient(address: prometheus, http: harness.http)
                let query = try #require(
                    LinkerdQueries.query(
                        for: "request-success-rate",
                        namespace: "default",
                        target: "podinfo",
                        interval: "10s"
                    )
                )
                var seen: Double?
                for _ in 0..<60 where seen == nil {
                    seen = try? await client.query(query)
                    if seen == nil { try await Task.sleep(for: .milliseconds(500)) }
                }
                #expect(seen == 100)
                for _ in 0..<6 where try await harness.phase() != "Succeeded" { try await tick() }
                #expect(try await harness.phase() == "Succeeded")

                _ = try await harness.client.patch(
                    "\(harness.deployments)/podinfo",
                    [
                        "spec": [
                            "template": [
                                "metadata": ["annotations": [.init(stringLiteral: MeshAnnotations.successRate): "60"]],
                                "spec": [
                                    "containers": [["name": "podinfod", "image": "ghcr.io/stefanprodan/podinfo:6.0.2"]]
                                ],
                            ]
                        ]
                    ],
                    type: .strategicMerge
                )
                try await harness.settle()
                try await tick()
                try await tick()
                // Ten seconds of the failing revision fill the window.
                try await Task.sleep(for: .seconds(12))
                try await tick()
                let halted = events.messages.first {
                    $0.hasPrefix("Halt podinfo.default advancement success rate")
                }
                #expect(halted?.hasSuffix("% < 99%") == true, "\(events.messages)")
                try await tick()
                #expect(try await harness.phase() == "Failed")
                #expect(
                    events.messages.contains(
                        "Rolling back podinfo.default failed checks threshold reached 1"
                    )
                )
            }
            await group.triggerGracefulShutdown()
        }
    }
}
