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
///
/// Whether another replica's lease has expired is judged by this replica's own clock, as client-go does: the time it
/// first saw the Lease record as it is now, plus the lease duration. The `renewTime` another node wrote is never
/// compared with the local clock, so clock skew between nodes cannot make two leaders. Give it a KubeClient of its
/// own, so a flood of other requests cannot hold up a renewal.
public final class LeaderElector: Service, Sendable {
    let client: KubeClient
    let configuration: LeaderElectionConfiguration
    let clock: any ReleaseClock
    let leading: @Sendable () async throws -> Void
    let logger: Logger
    private let state = Mutex((isLeader: false, transitions: 0))
    /// The Lease record last seen (holder, renew time, transitions) and when this replica first saw it.
    private let observed = Mutex<(record: String, at: Date)?>(nil)

    public init(
        client: KubeClient,
        configuration: LeaderElectionConfiguration,
        clock: any ReleaseClock = ScaledClock(),
        logger: Logger,
        whileLeading: @escaping @Sendable () async throws -> Void
    ) {
        self.client = client
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        leading = whileLeading
    }

    public var isLeader: Bool { state.withLock { $0.isLeader } }

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
                try? await clock.sleep(for: configuration.retryPeriod)
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
                let clock = self.clock
                var lastRenewal = clock.now()
                var wait = self.configuration.renewPeriod
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    try? await clock.sleep(for: wait)
                    let deadline = lastRenewal.addingTimeInterval(Self.seconds(self.configuration.renewDeadline))
                    // The Lease's renewTime is taken before the request: count the deadline from then too.
                    let attempted = clock.now()
                    switch await self.renew(before: deadline) {
                    case .renewed:
                        lastRenewal = attempted
                        wait = self.configuration.renewPeriod
                    case .heldByAnother:
                        self.logger.warning("lost the lease to another replica")
                        return
                    case .failed:
                        let left = deadline.timeIntervalSince(clock.now())
                        if left <= 0 {
                            self.logger.warning(
                                "lost the lease: not renewed within the renew deadline",
                                metadata: ["renewDeadline": "\(self.configuration.renewDeadline)"]
                            )
                            return
                        }
                        wait = min(self.configuration.retryPeriod, .milliseconds(Int64(left * 1000)))
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
    func renew(before deadline: Date) async -> Renewal {
        let left = deadline.timeIntervalSince(clock.now())
        guard left > 0 else { return .failed }
        return await withTaskGroup(of: Renewal?.self) { group in
            group.addTask {
                do { return try await self.tryAcquireOrRenew() ? .renewed : .heldByAnother } catch { return .failed }
            }
            group.addTask {
                try? await self.clock.sleep(for: .milliseconds(Int64(left * 1000)))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failed
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
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
        let now = clock.now()
        let seconds = Int(configuration.leaseDuration.components.seconds)
        let name = configuration.leaseName
        let namespace = configuration.namespace
        guard var lease = try await client.get(Lease.self, namespace: namespace, name: name) else {
            var spec = LeaseSpec()
            spec.holderIdentity = configuration.identity
            spec.leaseDurationSeconds = LenientInt(seconds)
            spec.acquireTime = Self.microTime(now)
            spec.renewTime = Self.microTime(now)
            spec.leaseTransitions = LenientInt(0)
            do {
                _ = try await client.create(Lease(metadata: ObjectMeta(name: name, namespace: namespace), spec: spec))
                return true
            } catch let error as KubeAPIError where error.reason == .alreadyExists {
                return false
            }
        }
        var spec = lease.spec ?? LeaseSpec()
        let holder = spec.holderIdentity ?? ""
        // Another replica's numbers are read clamped: a hostile one neither traps nor holds the lease forever.
        let transitions = spec.leaseTransitions?.value(in: 0...Int(Int32.max)) ?? 0
        let record = [
            holder, spec.renewTime ?? "", spec.acquireTime ?? "", spec.leaseTransitions?.raw.serialized() ?? "",
        ].joined(separator: "|")
        // Expiry by this replica's clock: the lease expires a lease duration after the record last changed here.
        let firstSeen = observed.withLock { observed in
            if observed?.record != record { observed = (record, now) }
            return observed?.at ?? now
        }
        let duration = Double(spec.leaseDurationSeconds?.value(in: 1...3600) ?? seconds)
        let expired = now.timeIntervalSince(firstSeen) > duration
        guard holder == configuration.identity || holder.isEmpty || expired else { return false }
        spec.holderIdentity = configuration.identity
        spec.leaseDurationSeconds = LenientInt(seconds)
        spec.renewTime = Self.microTime(now)
        if holder != configuration.identity {
            spec.acquireTime = Self.microTime(now)
            spec.leaseTransitions = LenientInt(min(transitions, Int(Int32.max) - 1) + 1)
        }
        lease.spec = spec
        do {
            _ = try await client.update(lease)
            return true
        } catch let error as KubeAPIError where error.reason == .conflict {
            return false
        }
    }

    /// Gives the lease up on the way out so the next replica need not wait for it to expire.
    func release() async {
        let name = configuration.leaseName
        guard var lease = try? await client.get(Lease.self, namespace: configuration.namespace, name: name),
            lease.spec?.holderIdentity == configuration.identity
        else { return }
        lease.spec?.holderIdentity = ""
        _ = try? await client.update(lease)
    }
}
