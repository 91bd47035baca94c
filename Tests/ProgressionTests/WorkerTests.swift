import Admission
import CanaryModel
import DevCluster
import Foundation
import JSONValue
import KubeClient
import Logging
import Metrics
import ServiceLifecycle
import Synchronization
import Testing

@testable import Progression

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
                    configuration: ProgressionConfiguration(
                        metricsServer: harness.receiver.url,
                        outbound: .local,
                        answersInEvents: true
                    ),
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

    /// A worker on a real-time clock, where a 1m interval means only a hint can start a release within a test.
    func realTimeWorker(_ harness: ReleaseHarness, hints: ReleaseHints?) -> ProgressionWorker {
        let clock = ScaledClock(speed: 1)
        return ProgressionWorker(
            releaser: Releaser(
                client: harness.client,
                configuration: ProgressionConfiguration(
                    metricsServer: harness.receiver.url,
                    namespace: "default",
                    outbound: .local,
                    answersInEvents: true
                ),
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
    }

    /// The hint the admission gate publishes while reviewing the image bump to `image`, before the API server
    /// stores it.
    func hint(_ harness: ReleaseHarness, image: String, namespace: String = "default") async throws -> ReleaseHint {
        var updated = try await harness.client.get("\(harness.deployments)/podinfo")
        var containers = updated["spec", "template", "spec", "containers"]?.arrayValue ?? []
        containers[0].setMember(["image"], .string(image))
        updated.setMember(["spec", "template", "spec", "containers"], .array(containers))
        let hash = try #require(PodTemplateHash.ofWorkload(updated))
        return ReleaseHint(namespace: namespace, name: "podinfo", canaries: ["podinfo"], templateHash: hash)
    }

    /// Waits until the worker listens for hints: one published before would be dropped, as in production.
    func waitForSubscriber(_ hints: ReleaseHints) async throws {
        for _ in 0..<600 where hints.subscriberCount == 0 { try await Task.sleep(for: .milliseconds(50)) }
        try #require(hints.subscriberCount > 0, "the worker subscribed to hints")
    }

    /// Waits for `phase` up to 30 s: half the 1m interval, so only a hint can reach it, with room for a busy host.
    func wait(_ harness: ReleaseHarness, for phase: String) async throws -> Bool {
        for _ in 0..<600 {
            if try await harness.phase() == phase { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    @Test("a release hint published before its write is stored still starts the release at once, not an interval later")
    func hintBeforeWrite() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary(["interval": "1m"])
            try await harness.initialise()
            let hints = ReleaseHints()
            let group = ServiceGroup(
                configuration: .init(services: [realTimeWorker(harness, hints: hints)], logger: harness.logger)
            )
            let task = Task { try await group.run() }
            try await waitForSubscriber(hints)
            let image = "ghcr.io/stefanprodan/podinfo:6.0.1"
            // Another namespace's hint is outside the worker's scope and changes nothing.
            hints.publish(try await hint(harness, image: image, namespace: "other"))
            hints.publish(try await hint(harness, image: image))
            try await Task.sleep(for: .milliseconds(300))
            try await harness.setImage(image)
            #expect(try await wait(harness, for: "Progressing"), "the hint started the release")
            await group.triggerGracefulShutdown()
            try await task.value
        }
    }

    @Test("a hint reviewed by a replica without the worker reaches the leader through the Canary's annotation")
    func forwardedHint() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary(["interval": "1m"])
            try await harness.initialise()
            let otherReplica = ReleaseHints()
            let forwarder = HintForwarder(
                client: harness.client,
                hints: otherReplica,
                isLeader: { false },
                logger: harness.logger
            )
            let group = ServiceGroup(
                configuration: .init(
                    services: [realTimeWorker(harness, hints: nil), forwarder],
                    logger: harness.logger
                )
            )
            let task = Task { try await group.run() }
            try await waitForSubscriber(otherReplica)
            let image = "ghcr.io/stefanprodan/podinfo:6.0.1"
            let published = try await hint(harness, image: image)
            otherReplica.publish(published)
            try await Task.sleep(for: .milliseconds(100))
            try await harness.setImage(image)
            #expect(try await wait(harness, for: "Progressing"), "the forwarded hint started the release")
            let canary = try await harness.canary()
            #expect(
                canary["metadata", "annotations", HintForwarder.annotation]?.stringValue?
                    .hasPrefix(published.templateHash + "/") == true
            )
            await group.triggerGracefulShutdown()
            try await task.value
        }
    }

    /// A clock whose sleeps return at once, to count what a loop does without waiting.
    struct InstantClock: ReleaseClock {
        func now() -> Date { Date(timeIntervalSince1970: 1_767_225_600) }
        func sleep(for duration: Duration) async throws {}
    }

    @Test("a hint published before the worker listens is not remembered, so its next publication arrives")
    func hintBeforeSubscriber() async throws {
        let hints = ReleaseHints()
        let hint = ReleaseHint(namespace: "prod", name: "podinfo", canaries: ["podinfo"], templateHash: "00ff")
        hints.publish(hint)
        #expect(hints.publishedCount == 0)
        let stream = hints.subscribe()
        hints.publish(hint)
        var iterator = stream.makeAsyncIterator()
        #expect(await iterator.next() == hint)
        #expect(hints.publishedCount == 1 && hints.droppedCount == 0)
    }

    @Test("a forged Deployment review costs at most 8 reads on the leader, and its replays cost nothing")
    func forgedHints() async throws {
        // The finding: one forged review made every replica read the Deployment ~80 times (every 25 ms for 2 s),
        // each replay as many again.
        let hints = ReleaseHints()
        let forged = ReleaseHint(
            namespace: "prod",
            name: "podinfo",
            canaries: ["podinfo"],
            templateHash: "0123456789abcdef"
        )
        let listening = hints.subscribe()
        for _ in 0..<100 { hints.publish(forged) }
        #expect(hints.publishedCount == 1)
        #expect(hints.droppedCount == 99)
        _ = listening

        let following = Coalescer<ReleaseHint>(limit: 64)
        var started = 0
        for index in 0..<100 {
            var hint = forged
            hint.templateHash = String(format: "%016x", index)
            if following.submit("prod/podinfo", hint) { started += 1 }
        }
        #expect(started == 1, "one follow per Deployment at a time")
        #expect(following.next(after: "prod/podinfo")?.templateHash == String(format: "%016x", 99), "then the newest")
        #expect(following.next(after: "prod/podinfo") == nil)
        for index in 0..<100 { _ = following.submit("prod/d\(index)", forged) }
        #expect(following.droppedCount == 36, "at most 64 Deployments followed at once")

        try await withHarness { harness in
            try await harness.installWorkload()
            var hint = forged
            hint.namespace = harness.namespace
            #expect(await hint.awaitTemplate(client: harness.client, clock: InstantClock()) == 8)
        }
    }
}
