import Foundation
import JSONValue
import KubeClient
import KubeModels
import Logging
import ServiceLifecycle
import Synchronization

/// Settings of leader election through a `coordination.k8s.io/v1` Lease, with client-go's semantics: the holder
/// renews every `renewPeriod`, and gives up leading when it has not renewed for `renewDeadline`, which is shorter than
/// `leaseDuration`, so it has stopped before any other replica may take the lease. Failover after a crash takes at most
/// `leaseDuration` plus one `retryPeriod`.
public struct LeaderElectionConfiguration: Sendable {
    public var namespace: String
    public var leaseName: String
    /// This replica's name (the pod name in a cluster).
    public var identity: String
    /// How long a lease stays valid without renewal.
    public var leaseDuration: Duration
    /// How long the holder keeps leading without a successful renewal; less than `leaseDuration`.
    public var renewDeadline: Duration
    /// How often the holder renews.
    public var renewPeriod: Duration
    /// How often a candidate retries, and the holder after a failed renewal.
    public var retryPeriod: Duration

    public init(
        namespace: String,
        leaseName: String = "fledge-leader",
        identity: String,
        leaseDuration: Duration = .seconds(12),
        renewDeadline: Duration? = nil,
        renewPeriod: Duration = .seconds(2),
        retryPeriod: Duration = .seconds(2)
    ) {
        self.namespace = namespace
        self.leaseName = leaseName
        self.identity = identity
        self.leaseDuration = leaseDuration
        self.renewDeadline = min(renewDeadline ?? leaseDuration * 2 / 3, leaseDuration)
        self.renewPeriod = renewPeriod
        self.retryPeriod = retryPeriod
    }
}

/// Runs a service only while this replica holds the Lease: every replica serves admission, one runs the worker.
/// A holder that cannot renew within `renewDeadline` stops the service, before the lease expires; another replica takes
/// over once it has expired (failover within `leaseDuration` plus one retry period).
public final class LeaderElector: Service, Sendable {
    let client: KubeClient
    let configuration: LeaderElectionConfiguration
    let leading: @Sendable () async throws -> Void
    let logger: Logger
    private let state = Mutex((isLeader: false, transitions: 0))

    public init(
        client: KubeClient,
        configuration: LeaderElectionConfiguration,
        logger: Logger,
        whileLeading: @escaping @Sendable () async throws -> Void
    ) {
        self.client = client
        self.configuration = configuration
        self.logger = logger
        leading = whileLeading
    }

    public var isLeader: Bool { state.withLock { $0.isLeader } }

    var path: String {
        "/apis/coordination.k8s.io/v1/namespaces/\(configuration.namespace)/leases/\(configuration.leaseName)"
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if (try? await tryAcquireOrRenew()) == true {
                state.withLock {
                    $0.isLeader = true
                    $0.transitions += 1
                }
                logger.info(
                    "became leader",
                    metadata: ["lease": "\(configuration.leaseName)", "identity": "\(configuration.identity)"]
                )
                await lead()
                state.withLock { $0.isLeader = false }
                logger.info("stopped leading", metadata: ["lease": "\(configuration.leaseName)"])
                await release()
            } else {
                try? await Task.sleep(for: configuration.retryPeriod)
            }
        }
    }

    /// Runs the service while renewing; returns when renewal fails for a lease duration or on shutdown.
    func lead() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do { try await self.leading() } catch {
                    self.logger.error("the leader's service failed", metadata: ["error": "\(error)"])
                }
            }
            group.addTask {
                var lastRenewal = ContinuousClock.now
                var wait = self.configuration.renewPeriod
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    try? await Task.sleep(for: wait)
                    let deadline = lastRenewal + self.configuration.renewDeadline
                    // The Lease's renewTime is taken before the request: count the deadline from then too.
                    let attempted = ContinuousClock.now
                    switch await self.renew(before: deadline) {
                    case .renewed:
                        lastRenewal = attempted
                        wait = self.configuration.renewPeriod
                    case .heldByAnother:
                        self.logger.warning("lost the lease to another replica")
                        return
                    case .failed:
                        if ContinuousClock.now >= deadline {
                            self.logger.warning(
                                "lost the lease: not renewed within the renew deadline",
                                metadata: ["renewDeadline": "\(self.configuration.renewDeadline)"]
                            )
                            return
                        }
                        wait = min(self.configuration.retryPeriod, deadline - ContinuousClock.now)
                    }
                }
            }
            await group.next()
            group.cancelAll()
        }
    }

    enum Renewal { case renewed, heldByAnother, failed }

    /// One renewal, abandoned at `deadline` (a request hanging on a partitioned network must not keep a leader
    /// leading past its renew deadline).
    func renew(before deadline: ContinuousClock.Instant) async -> Renewal {
        await withTaskGroup(of: Renewal?.self) { group in
            group.addTask {
                do { return try await self.tryAcquireOrRenew() ? .renewed : .heldByAnother } catch { return .failed }
            }
            group.addTask {
                try? await Task.sleep(until: deadline, clock: .continuous)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failed
        }
    }

    static func microTime(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    static func parse(_ text: String?) -> Date? {
        guard let text else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    /// Takes the lease when free or expired, renews it when held; false when another replica holds it.
    func tryAcquireOrRenew() async throws -> Bool {
        let now = Date()
        let seconds = Int64(configuration.leaseDuration.components.seconds)
        guard let lease = try await client.getIfPresent(path) else {
            let created: JSONValue = [
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": ["name": .string(configuration.leaseName), "namespace": .string(configuration.namespace)],
                "spec": [
                    "holderIdentity": .string(configuration.identity), "leaseDurationSeconds": .int(seconds),
                    "acquireTime": .string(Self.microTime(now)), "renewTime": .string(Self.microTime(now)),
                    "leaseTransitions": 0,
                ],
            ]
            do {
                _ = try await client.create(
                    "/apis/coordination.k8s.io/v1/namespaces/\(configuration.namespace)/leases",
                    created
                )
                return true
            } catch let error as KubeAPIError where error.reason == .alreadyExists {
                return false
            }
        }
        let holder = lease["spec", "holderIdentity"]?.stringValue ?? ""
        let renewed = Self.parse(lease["spec", "renewTime"]?.stringValue) ?? .distantPast
        let duration = Double(lease["spec", "leaseDurationSeconds"]?.intValue ?? seconds)
        let expired = now.timeIntervalSince(renewed) > duration
        guard holder == configuration.identity || holder.isEmpty || expired else { return false }
        var updated = lease
        updated.setMember(["spec", "holderIdentity"], .string(configuration.identity))
        updated.setMember(["spec", "leaseDurationSeconds"], .int(seconds))
        updated.setMember(["spec", "renewTime"], .string(Self.microTime(now)))
        if holder != configuration.identity {
            updated.setMember(["spec", "acquireTime"], .string(Self.microTime(now)))
            updated.setMember(
                ["spec", "leaseTransitions"],
                .int((lease["spec", "leaseTransitions"]?.intValue ?? 0) + 1)
            )
        }
        do {
            _ = try await client.update(path, updated)
            return true
        } catch let error as KubeAPIError where error.reason == .conflict {
            return false
        }
    }

    /// Gives the lease up on the way out so the next replica need not wait for it to expire.
    func release() async {
        guard var lease = try? await client.getIfPresent(path),
            lease["spec", "holderIdentity"]?.stringValue == configuration.identity
        else { return }
        lease.setMember(["spec", "holderIdentity"], .string(""))
        _ = try? await client.update(path, lease)
    }
}
