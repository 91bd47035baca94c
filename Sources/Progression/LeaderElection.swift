import Foundation
import JSONValue
import KubeClient
import KubeModels
import Logging
import ServiceLifecycle
import Synchronization

/// Settings of leader election through a `coordination.k8s.io/v1` Lease.
public struct LeaderElectionConfiguration: Sendable {
    public var namespace: String
    public var leaseName: String
    /// This replica's name (the pod name in a cluster).
    public var identity: String
    /// How long a lease stays valid without renewal: the failover time.
    public var leaseDuration: Duration
    /// How often the holder renews.
    public var renewPeriod: Duration
    /// How often a candidate retries.
    public var retryPeriod: Duration

    public init(
        namespace: String,
        leaseName: String = "fledge-leader",
        identity: String,
        leaseDuration: Duration = .seconds(15),
        renewPeriod: Duration = .seconds(5),
        retryPeriod: Duration = .seconds(2)
    ) {
        self.namespace = namespace
        self.leaseName = leaseName
        self.identity = identity
        self.leaseDuration = leaseDuration
        self.renewPeriod = renewPeriod
        self.retryPeriod = retryPeriod
    }
}

/// Runs a service only while this replica holds the Lease: every replica serves admission, one runs the worker.
/// A holder that cannot renew within the lease duration stops the service; another replica takes over once the
/// lease expires (failover within `leaseDuration` plus one retry period).
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
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    try? await Task.sleep(for: self.configuration.renewPeriod)
                    if (try? await self.tryAcquireOrRenew()) == true {
                        lastRenewal = ContinuousClock.now
                    } else if ContinuousClock.now - lastRenewal >= self.configuration.leaseDuration {
                        self.logger.warning("lost the lease")
                        return
                    }
                }
            }
            await group.next()
            group.cancelAll()
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
