import CanaryModel
import DevCluster
import Foundation
import JSONValue
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

    @Test("a warm weight step makes at most 3 API requests, all writes: routes, status, event")
    func weightStep() async throws {
        let requests = Requests()
        try await withHarness(faults: requests.fault) { harness in
            try await harness.installWorkload()
            try await harness.installCanary(["stepWeight": 10, "maxWeight": 50])
            let cache = ClusterCache(client: harness.client, logger: harness.logger)
            let releaser = Releaser(
                client: harness.client,
                configuration: ProgressionConfiguration(
                    metricsServer: harness.receiver.url,
                    outbound: .local,
                    watchSecrets: true
                ),
                http: harness.http,
                clock: harness.clock,
                metrics: ProgressionMetrics(factory: NOOPMetricsHandler.instance),
                logger: harness.logger,
                cache: cache
            )
            let group = ServiceGroup(configuration: .init(services: [cache], logger: harness.logger))
            let task = Task { try await group.run() }
            func tick() async throws {
                _ = await releaser.tick(namespace: "default", name: "podinfo")
                try await harness.settle()
                await cache.waitForSync()
                try await caughtUp(cache, harness)
            }
            for _ in 0..<10 where try await harness.phase() != "Initialized" { try await tick() }
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            try await caughtUp(cache, harness)
            var steps: [(weight: Int64, calls: Int, verbs: [String])] = []
            for _ in 0..<30 {
                let weight = try await harness.canaryWeight() ?? 0
                if weight >= 30 { break }
                let (calls, seen) = (releaser.kube.callCount, requests.seen.withLock { $0.count })
                _ = await releaser.tick(namespace: "default", name: "podinfo")
                // What the API server received during the tick (the test's own reads come after).
                let verbs = requests.seen.withLock { Array($0[seen...]) }
                    .filter { !$0.hasSuffix("?watch") }
                    .map { String($0.prefix { $0 != " " }) }
                let made = releaser.kube.callCount - calls
                try await harness.settle()
                await cache.waitForSync()
                try await caughtUp(cache, harness)
                let after = try await harness.canaryWeight() ?? 0
                // Only ticks that moved the weight from one step to the next, not the release's first ticks.
                guard weight >= 10, after == weight + 10 else { continue }
                steps.append((after, made, verbs))
            }
            #expect(steps.map(\.weight) == [20, 30])
            for step in steps {
                #expect(step.calls <= 3, "weight \(step.weight): \(step.calls) requests")
                #expect(!step.verbs.contains("GET"), "weight \(step.weight) reads nothing: \(step.verbs)")
            }
            await group.triggerGracefulShutdown()
            try await task.value
        }
    }
}
