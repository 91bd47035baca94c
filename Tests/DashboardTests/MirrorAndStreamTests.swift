import Dashboard
import Foundation
import JSONValue
import Logging
import Synchronization
import Testing

@Suite("The cluster mirror, the event stream and measured values")
struct MirrorAndStreamTests {
    static let canaries = "/apis/flagger.app/v1beta1/canaries"
    static let events = "/api/v1/events"

    /// Waits for the watches of both feeds to open (the lists are done by then).
    func waitForWatches(_ cluster: FakeCluster, _ paths: Set<String>) async {
        var open: Set<String> = []
        for await path in cluster.watchStarted {
            open.insert(path)
            if open.isSuperset(of: paths) { return }
        }
    }

    @Test("a list then a watch keep the Canaries and their Events, and the stream sends what changed")
    func streamFollowsWatch() async throws {
        let cluster = FakeCluster()
        cluster.state.withLock {
            $0.lists[Self.canaries] = [canaryObject(phase: "Initialized")]
            $0.lists[Self.events] = [eventObject("Initialization done! podinfo.prod", second: 0)]
        }
        let mirror = ClusterMirror(cluster: cluster, scope: .allNamespaces, logger: Logger(label: "test"))
        let app = DashboardApp(mirror: mirror, cluster: cluster, heartbeat: .seconds(3600))
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await mirror.run() }
            await waitForWatches(cluster, [Self.canaries, Self.events])
            #expect(mirror.canaries.count == 1)
            let (frames, sink) = AsyncStream<String>.makeStream()
            group.addTask {
                try await app.stream(canary: CanaryKey(namespace: "prod", name: "podinfo")) { frame in
                    sink.yield(frame)
                }
            }
            var iterator = frames.makeAsyncIterator()
            #expect(await iterator.next()?.hasPrefix("retry: ") == true)
            let first = await iterator.next() ?? ""
            #expect(first.contains("event: canaries\n"))
            #expect(first.contains("event: detail\n"))
            #expect(first.contains("\"phase\":\"Initialized\""))

            cluster.send(
                Self.events,
                ClusterWatchEvent(
                    kind: .added,
                    object: eventObject("New revision detected! Scaling up podinfo.prod", second: 10)
                )
            )
            cluster.send(
                Self.canaries,
                ClusterWatchEvent(kind: .modified, object: canaryObject(phase: "Progressing", weight: 5))
            )
            var sawProgress = false
            while let frame = await iterator.next() {
                if frame.contains("\"phase\":\"Progressing\""), frame.contains("\"kind\":\"start\"") {
                    sawProgress = true
                    break
                }
            }
            #expect(sawProgress)
            group.cancelAll()
        }
    }

    @Test("listing every namespace when forbidden falls back to the context's namespace and says why")
    func forbiddenFallsBack() async throws {
        let cluster = FakeCluster()
        let forbidden = ClusterError(kind: .forbidden, code: 403, message: "cannot list resource \"canaries\"")
        cluster.state.withLock {
            $0.listErrors[Self.canaries] = forbidden
            $0.listErrors[Self.events] = forbidden
            $0.lists["/apis/flagger.app/v1beta1/namespaces/prod/canaries"] = [canaryObject(phase: "Succeeded")]
        }
        let mirror = ClusterMirror(
            cluster: cluster,
            scope: .allNamespaces,
            fallbackNamespace: "prod",
            logger: Logger(label: "test")
        )
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await mirror.run() }
            await waitForWatches(
                cluster,
                ["/apis/flagger.app/v1beta1/namespaces/prod/canaries", "/api/v1/namespaces/prod/events"]
            )
            #expect(mirror.canaries.count == 1)
            #expect(mirror.feeds["canaries"]?.scope == "namespace prod")
            group.cancelAll()
        }
    }

    @Test("a feed the user may not read says so, with the 403")
    func forbiddenFeed() async throws {
        let cluster = FakeCluster()
        cluster.state.withLock {
            $0.listErrors["/api/v1/namespaces/prod/events"] = ClusterError(kind: .forbidden, code: 403, message: "no")
        }
        let mirror = ClusterMirror(
            cluster: cluster,
            scope: .namespace("prod"),
            logger: Logger(label: "test"),
            sleep: { _ in try await Task.sleep(for: .seconds(3600)) }
        )
        let changes = mirror.changes()
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await mirror.run() }
            for await _ in changes where mirror.feeds["events"]?.error != nil { break }
            #expect(mirror.feeds["events"]?.error?.hasPrefix("Forbidden (403)") == true)
            #expect(mirror.feeds["events"]?.live == false)
            group.cancelAll()
        }
    }

    struct Values: MetricSource {
        var label: String { "test Prometheus" }
        func value(of query: String, at time: Date) async throws -> Double? {
            query.contains("response_latency_ms_bucket") ? 42 : 99.5
        }
    }

    @Test("passed checks get their measured values from the metrics source at each weight step")
    func measuredValues() async throws {
        let cluster = FakeCluster()
        let events = [
            eventObject("New revision detected! Scaling up podinfo.prod", second: 1),
            eventObject("Advance podinfo.prod canary weight 5", second: 2),
            eventObject("Halt podinfo.prod advancement success rate 87.18% < 99%", second: 3),
        ]
        let canary = canaryObject(phase: "Progressing")
        var detail = TimelineBuilder.detail(canary: canary, events: events, measurements: "")
        let history = MetricHistory(source: Values(), cluster: cluster)
        let label = await history.annotate(&detail, canary: canary)
        #expect(label.contains("test Prometheus"))
        let steps = try #require(detail.releases.last?.steps)
        #expect(steps[1].readings.map(\.metric) == ["request-success-rate", "request-duration"])
        #expect(steps[1].readings.map(\.value) == [99.5, 42])
        #expect(steps[1].readings.allSatisfy { $0.passed })
        #expect(steps[2].readings.map(\.passed) == [false])
    }

    @Test("a Prometheus answer's first sample is read; empty answers and NaN are no value")
    func prometheusSample() throws {
        let vector = try JSONValue(
            parsing:
                #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1.5,"99.25"]}]}}"#
        )
        #expect(PrometheusSource.sample(in: vector) == 99.25)
        let empty = try JSONValue(parsing: #"{"status":"success","data":{"resultType":"vector","result":[]}}"#)
        #expect(PrometheusSource.sample(in: empty) == nil)
        let nan = try JSONValue(
            parsing: #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"NaN"]}]}}"#
        )
        #expect(PrometheusSource.sample(in: nan) == nil)
        let scalar = try JSONValue(parsing: #"{"status":"success","data":{"resultType":"scalar","result":[1,"3"]}}"#)
        #expect(PrometheusSource.sample(in: scalar) == 3)
    }
}

@Suite("When fledge status --wait stops")
struct ReleaseWaitTests {
    @Test(
        "each phase reads as waiting or an exit status",
        arguments: [
            ("Succeeded", false, Int32?.some(0)), ("Initialized", false, 0), ("Failed", false, 1),
            ("Progressing", false, nil), ("Promoting", false, nil), ("Waiting", false, nil),
            ("WaitingPromotion", false, nil), ("Initializing", false, nil), ("Succeeded", true, nil),
            ("Failed", true, nil),
        ]
    )
    func verdicts(phase: String, pending: Bool, expected: Int32?) {
        #expect(ReleaseWait.verdict(phase: phase, pendingRevision: pending).exitStatus == expected)
    }
}
