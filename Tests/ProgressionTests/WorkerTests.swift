import Admission
import CanaryModel
import DevCluster
import Foundation
import JSONValue
import KubeClient
import Logging
import Metrics
import Progression
import ServiceLifecycle
import Synchronization
import Testing

@Suite("The progression worker runs releases on its own", .serialized)
struct WorkerTests {
    @Test("with every watch refused, the timer heap and re-lists still find and finish the release")
    func withoutWatches() async throws {
        let refused = Mutex(0)
        let faults: @Sendable (APIRequest) -> APIError? = { request in
            guard request.query["watch"] == "true" else { return nil }
            refused.withLock { $0 += 1 }
            return APIError(
                code: 500,
                reason: "InternalError",
                message: "Internal error occurred: watch dropped (injected)"
            )
        }
        try await withHarness(faults: faults) { harness in
            try await harness.installWorkload()
            try await harness.installCanary(["stepWeight": 50, "maxWeight": 50])
            let clock = ScaledClock(speed: 100)
            let worker = ProgressionWorker(
                releaser: Releaser(
                    client: harness.client,
                    configuration: ProgressionConfiguration(metricsServer: harness.receiver.url),
                    http: harness.http,
                    clock: clock,
                    metrics: ProgressionMetrics(factory: NOOPMetricsHandler.instance),
                    logger: harness.logger
                ),
                client: harness.client,
                hints: nil,
                clock: clock,
                logger: harness.logger
            )
            let group = ServiceGroup(configuration: .init(services: [worker], logger: harness.logger))
            let task = Task { try await group.run() }
            func wait(for phase: String) async throws -> Bool {
                for _ in 0..<600 {
                    if try await harness.phase() == phase { return true }
                    try await Task.sleep(for: .milliseconds(50))
                }
                return false
            }
            #expect(try await wait(for: "Initialized"))
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            #expect(try await wait(for: "Succeeded"))
            #expect(refused.withLock { $0 } > 0, "watches were refused")
            let primary = try await harness.client.get("\(harness.deployments)/podinfo-primary")
            #expect(
                primary["spec", "template", "spec", "containers"]?[0]?["image"] == "ghcr.io/stefanprodan/podinfo:6.0.1"
            )
            await group.triggerGracefulShutdown()
            try await task.value
        }
    }

    @Test("a release hint published before its write is stored still starts the release at once, not an interval later")
    func hintBeforeWrite() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            // A 1m interval on a real-time clock: only the hint can start the release within the test.
            try await harness.installCanary(["interval": "1m"])
            try await harness.initialise()
            let hints = ReleaseHints()
            let clock = ScaledClock(speed: 1)
            let worker = ProgressionWorker(
                releaser: Releaser(
                    client: harness.client,
                    configuration: ProgressionConfiguration(metricsServer: harness.receiver.url, namespace: "default"),
                    http: harness.http,
                    clock: clock,
                    metrics: ProgressionMetrics(factory: NOOPMetricsHandler.instance),
                    logger: harness.logger
                ),
                client: harness.client,
                hints: hints,
                clock: clock,
                logger: harness.logger
            )
            let group = ServiceGroup(configuration: .init(services: [worker], logger: harness.logger))
            let task = Task { try await group.run() }
            func wait(for phase: String, tries: Int = 100) async throws -> Bool {
                for _ in 0..<tries {
                    if try await harness.phase() == phase { return true }
                    try await Task.sleep(for: .milliseconds(50))
                }
                return false
            }
            // The hint the admission gate publishes while reviewing the image bump, before the API server stores it.
            var updated = try await harness.client.get("\(harness.deployments)/podinfo")
            updated.setMember(
                ["spec", "template", "spec", "containers"],
                [["name": "podinfod", "image": "ghcr.io/stefanprodan/podinfo:6.0.1"]]
            )
            let hash = try #require(PodTemplateHash.ofWorkload(updated))
            // Another namespace's hint is outside the worker's scope and changes nothing.
            hints.publish(ReleaseHint(namespace: "other", name: "podinfo", canaries: ["podinfo"], templateHash: hash))
            hints.publish(ReleaseHint(namespace: "default", name: "podinfo", canaries: ["podinfo"], templateHash: hash))
            try await Task.sleep(for: .milliseconds(300))
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            #expect(try await wait(for: "Progressing"), "the hint started the release")
            await group.triggerGracefulShutdown()
            try await task.value
        }
    }
}
