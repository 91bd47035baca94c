import CanaryModel
import DevCluster
import Foundation
import KubeClient
import KubeModels
import Logging
import Metrics
import ServiceLifecycle
import Synchronization
import Testing

@testable import Progression

@Suite("A tick reads from the worker's caches")
struct CachedTickTests {
    /// Every request the embedded API server receives, as `VERB path` (`?watch` for watches).
    final class Requests: Sendable {
        let seen = Mutex<[String]>([])
        var fault: @Sendable (APIRequest) -> APIError? {
            { request in
                let watch = request.query["watch"] == "true" ? "?watch" : ""
                self.seen.withLock { $0.append("\(request.method) \(request.path)\(watch)") }
                return nil
            }
        }
    }

    /// Waits (up to 30 s) until the cache holds every Deployment and the Canary at the API server's resourceVersion:
    /// the watch delivers them a moment after a write, later on a busy host.
    func caughtUp(_ cache: ClusterCache, _ harness: ReleaseHarness) async throws {
        for _ in 0..<600 {
            let deployments = try await harness.client.list(Deployment.self, namespace: "default")
            let canary = try await harness.client.get(Canary.self, namespace: "default", name: "podinfo")
            var current = deployments.allSatisfy { deployment in
                guard let name = deployment.metadata.name, let informer = cache.informer(Deployment.self) else {
                    return true
                }
                return informer.get(namespace: "default", name: name)?.metadata.resourceVersion
                    == deployment.metadata.resourceVersion
            }
            if let canary, let informer = cache.informer(Canary.self) {
                current =
                    current
                    && informer.get(namespace: "default", name: "podinfo")?.metadata.resourceVersion
                        == canary.metadata.resourceVersion
            }
            if current { return }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test(
        "a warm tick with nothing to do reads nothing; tracked Secrets are read by name unless --watch-secrets",
        arguments: [false, true]
    )
    func idleTick(watchSecrets: Bool) async throws {
        let requests = Requests()
        try await withHarness(faults: requests.fault) { harness in
            try await harness.installWorkload()
            try await harness.installCanary()
            let cache = ClusterCache(client: harness.client, logger: harness.logger)
            let releaser = Releaser(
                client: harness.client,
                configuration: ProgressionConfiguration(
                    metricsServer: harness.receiver.url,
                    outbound: .local,
                    watchSecrets: watchSecrets
                ),
                http: harness.http,
                clock: harness.clock,
                metrics: ProgressionMetrics(factory: NOOPMetricsHandler.instance),
                logger: harness.logger,
                cache: cache,
                onEvent: harness.events.observer
            )
            let group = ServiceGroup(configuration: .init(services: [cache], logger: harness.logger))
            let task = Task { try await group.run() }
            for _ in 0..<10 where try await harness.phase() != "Initialized" {
                _ = await releaser.tick(namespace: "default", name: "podinfo")
                try await harness.settle()
                try await caughtUp(cache, harness)
            }
            let phase = try await harness.phase()
            #expect(phase == "Initialized", "\(harness.events.messages)")
            // One idle tick starts every informer the tick reads through; then they list.
            _ = await releaser.tick(namespace: "default", name: "podinfo")
            await cache.waitForSync()
            try await caughtUp(cache, harness)
            _ = await releaser.tick(namespace: "default", name: "podinfo")
            try await caughtUp(cache, harness)
            let before = releaser.kube.callCount
            _ = await releaser.tick(namespace: "default", name: "podinfo")
            let calls = releaser.kube.callCount - before
            // The workload's pod template names one Secret (podinfo-secret-env).
            #expect(calls == (watchSecrets ? 0 : 1))
            let secretLists = requests.seen.withLock { seen in
                seen.filter { $0.hasPrefix("GET ") && $0.contains("/secrets") && !$0.contains("/secrets/") }
            }
            #expect(secretLists.isEmpty == !watchSecrets, "Secrets listed or watched only with --watch-secrets")
            #expect(cache.informer(Secret.self) == nil, "whole Secrets are never cached")
            #expect(cache.informer(ConfigMap.self) == nil, "whole ConfigMaps neither: only their checksums")
            await group.triggerGracefulShutdown()
            try await task.value
        }
    }
}
