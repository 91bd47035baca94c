import DevCluster
import DevClusterTestSupport
import Foundation
import JSONValue
import KubeClient
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import Progression

@Suite("Leader election through a Lease", .serialized)
struct LeaderElectionTests {
    /// A replica running in its own service group.
    struct Replica {
        let group: ServiceGroup
        let task: Task<Void, any Error>

        func stop() async throws {
            await group.triggerGracefulShutdown()
            try await task.value
        }
    }

    /// Starts `first`, then `second` half a second later, so `first` takes the Lease.
    static func start(
        _ first: LeaderElector,
        then second: LeaderElector,
        logger: Logger
    ) async throws -> (Replica, Replica) {
        func run(_ elector: LeaderElector) -> Replica {
            let group = ServiceGroup(configuration: .init(services: [elector], logger: logger))
            return Replica(group: group, task: Task { try await group.run() })
        }
        let firstReplica = run(first)
        try await Task.sleep(for: .milliseconds(500))
        return (firstReplica, run(second))
    }

    /// A replica with a 2 s lease, a 1.2 s renew deadline and fast renewals, running `work` while it leads.
    static func elector(
        _ fixture: ClusterFixture,
        _ identity: String,
        logger: Logger,
        work: @escaping @Sendable () async throws -> Void
    ) -> LeaderElector {
        LeaderElector(
            client: fixture.client,
            configuration: LeaderElectionConfiguration(
                namespace: "fledge-system",
                identity: identity,
                leaseDuration: .seconds(2),
                renewDeadline: .milliseconds(1200),
                renewPeriod: .milliseconds(300),
                retryPeriod: .milliseconds(200)
            ),
            logger: logger,
            whileLeading: work
        )
    }

    @Test("one of two replicas leads; when it stops, the other takes over within the lease duration")
    func failover() async throws {
        try await withCluster { fixture in
            try await fixture.namespace("fledge-system")
            var logger = Logger(label: "election")
            logger.logLevel = .critical
            let running = Mutex<[String]>([])
            func elector(_ identity: String) -> LeaderElector {
                Self.elector(fixture, identity, logger: logger) {
                    running.withLock { $0.append(identity) }
                    try await gracefulShutdown()
                }
            }
            let first = elector("a")
            let second = elector("b")
            let (firstReplica, secondReplica) = try await Self.start(first, then: second, logger: logger)
            // Leadership is marked before the leader's work starts: wait (up to 20 s on a busy host) for both.
            for _ in 0..<400 where !(first.isLeader && running.withLock({ $0 == ["a"] })) {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(first.isLeader)
            #expect(!second.isLeader)
            #expect(running.withLock { $0 } == ["a"])
            let lease = try await fixture.client.get(
                "/apis/coordination.k8s.io/v1/namespaces/fledge-system/leases/fledge-leader"
            )
            #expect(lease["spec", "holderIdentity"] == "a")
            let stopped = ContinuousClock.now
            try await firstReplica.stop()
            var tookOver = false
            while ContinuousClock.now - stopped < .seconds(5) {
                // Leadership is marked before the leader's work starts: wait for both.
                if second.isLeader, running.withLock({ $0.contains("b") }) {
                    tookOver = true
                    break
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(tookOver)
            #expect(running.withLock { $0 } == ["a", "b"])
            try await secondReplica.stop()
        }
    }

    @Test("a leader that cannot renew stops leading by its renew deadline, before another replica may take the lease")
    func partitionedLeader() async throws {
        let partitioned = Mutex(false)
        let faults: @Sendable (APIRequest) -> APIError? = { request in
            // Replica a's Lease writes fail, as on a partitioned network.
            guard partitioned.withLock({ $0 }), request.method == "PUT", request.path.contains("/leases/"),
                String(decoding: request.body, as: UTF8.self).contains("\"holderIdentity\":\"a\"")
            else { return nil }
            return APIError(code: 500, reason: "InternalError", message: "etcdserver: request timed out (injected)")
        }
        try await withCluster(DevClusterConfiguration(speed: 50, faults: faults)) { fixture in
            try await fixture.namespace("fledge-system")
            var logger = Logger(label: "election")
            logger.logLevel = .critical
            func elector(_ identity: String) -> LeaderElector {
                Self.elector(fixture, identity, logger: logger) { try await gracefulShutdown() }
            }
            let first = elector("a")
            let second = elector("b")
            let (firstReplica, secondReplica) = try await Self.start(first, then: second, logger: logger)
            try await Task.sleep(for: .milliseconds(500))
            #expect(first.isLeader && !second.isLeader)
            partitioned.withLock { $0 = true }
            var both = false
            var firstStopped = false
            var secondLeads = false
            let start = ContinuousClock.now
            while ContinuousClock.now - start < .seconds(6), !secondLeads {
                if first.isLeader && second.isLeader { both = true }
                if !first.isLeader { firstStopped = true }
                secondLeads = second.isLeader
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(firstStopped)
            #expect(secondLeads, "b takes over once the lease has expired")
            #expect(!both, "two leaders at once")
            try await firstReplica.stop()
            try await secondReplica.stop()
        }
    }

    @Test("a lease another node keeps renewing is not taken however far its clock is behind ours")
    func clockSkew() async throws {
        try await withCluster { fixture in
            try await fixture.namespace("fledge-system")
            let clock = ManualClock()
            let leases = "/apis/coordination.k8s.io/v1/namespaces/fledge-system/leases"
            // The other node's clock runs an hour behind: every renewTime it writes looks stale to us.
            func renewTime(_ offset: Int) -> JSONValue {
                .string(LeaderElector.microTime(clock.now().addingTimeInterval(Double(offset - 3600))))
            }
            _ = try await fixture.client.create(
                leases,
                [
                    "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": ["name": "fledge-leader", "namespace": "fledge-system"],
                    "spec": ["holderIdentity": "other", "leaseDurationSeconds": 12, "renewTime": renewTime(0)],
                ]
            )
            let elector = LeaderElector(
                client: fixture.client,
                configuration: LeaderElectionConfiguration(namespace: "fledge-system", identity: "me"),
                clock: clock,
                logger: Logger(label: "election") { _ in SwiftLogNoOpLogHandler() },
                whileLeading: {}
            )
            #expect(try await elector.tryAcquireOrRenew() == false, "first sight: the lease is held")
            for step in 1...3 {
                // The holder renews every 10 s of our time: the record changes, so it stays held.
                clock.advance(by: .seconds(10))
                var lease = try await fixture.client.get("\(leases)/fledge-leader")
                lease.setMember(["spec", "renewTime"], renewTime(step * 10))
                _ = try await fixture.client.update("\(leases)/fledge-leader", lease)
                #expect(try await elector.tryAcquireOrRenew() == false, "renewed \(step) times: still held")
            }
            // The holder stops renewing: 12 s of our own time after we last saw the record change, it is ours.
            clock.advance(by: .seconds(11))
            #expect(try await elector.tryAcquireOrRenew() == false)
            clock.advance(by: .seconds(2))
            #expect(try await elector.tryAcquireOrRenew() == true)
            let lease = try await fixture.client.get("\(leases)/fledge-leader")
            #expect(lease["spec", "holderIdentity"] == "me")
        }
    }
}
