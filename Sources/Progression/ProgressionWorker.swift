import CanaryModel
import Foundation
import JSONValue
import KubeClient
import KubeModels
import Logging
import ServiceLifecycle
import Synchronization

/// The progression worker: every Canary on one timer heap, ticked at its interval by the ``Releaser``; an informer
/// on Canaries adds and removes them, and release hints from the admission gate run a Canary at once.
public final class ProgressionWorker: Service, Sendable {
    let releaser: Releaser
    let client: KubeClient
    let informer: Informer<Canary>
    let hints: ReleaseHints?
    let clock: any ReleaseClock
    let logger: Logger
    let schedule = Schedule()
    /// How many Canaries tick at the same time.
    let concurrency: Int
    /// How many of those may be in one namespace.
    let perNamespace: Int
    /// How many ticks run now.
    let runningTicks = Mutex(0)
    /// The last forwarded hint seen on each Canary (``HintForwarder``).
    let forwardedHints = Mutex<[String: String]>([:])
    /// Hints being followed, one per Deployment at a time, at most 64 Deployments at once.
    let following = Coalescer<ReleaseHint>(limit: 64)

    public init(
        releaser: Releaser,
        client: KubeClient,
        hints: ReleaseHints?,
        clock: any ReleaseClock,
        concurrency: Int = 32,
        perNamespace: Int? = nil,
        logger: Logger
    ) {
        self.releaser = releaser
        self.client = client
        let namespace = releaser.configuration.namespace
        informer = Informer<Canary>(client: client, namespace: namespace, logger: logger)
        // The Canaries the worker watches answer the Releaser's reads too.
        releaser.kube.cache?.adopt(informer)
        self.hints = hints
        self.clock = clock
        self.concurrency = max(concurrency, 1)
        // A quarter of the slots by default: one namespace's slow ticks leave the others three quarters.
        self.perNamespace = max(perNamespace ?? concurrency / 4, 1)
        self.logger = logger
    }

    /// Canaries on the timer heap.
    public var scheduledCount: Int { schedule.count }

    static func key(_ namespace: String, _ name: String) -> String { "\(namespace)/\(name)" }

    public func run() async throws {
        let changes = informer.changes()
        let hintStream = hints?.subscribe()
        // Hints from this replica's admission gate and forwarded ones (the Canary annotation) are followed alike.
        let (toFollow, follower) = AsyncStream.makeStream(of: ReleaseHint.self, bufferingPolicy: .bufferingNewest(1024))
        await withDiscardingTaskGroup { group in
            group.addTask {
                await withDiscardingTaskGroup { following in
                    for await hint in toFollow { self.submit(hint, in: &following) }
                }
            }
            group.addTask { try? await self.informer.run() }
            if let cache = self.releaser.kube.cache { group.addTask { try? await cache.run() } }
            group.addTask {
                for await change in changes {
                    let key = Self.key(change.namespace, change.name)
                    if change.kind == .delete || change.object?.status == nil {
                        // Arrivals and departures only: status writes do not change the count.
                        let count = self.informer.objects.filter { $0.metadata.namespace == change.namespace }.count
                        self.releaser.recorder.metrics.total(change.namespace, count: count)
                    }
                    switch change.kind {
                    case .delete:
                        self.schedule.remove(key)
                        _ = self.forwardedHints.withLock { $0.removeValue(forKey: key) }
                    case .upsert:
                        guard let canary = change.object else {
                            // A Canary the model cannot read: its tick says why.
                            self.schedule.schedule(key, at: self.clock.now(), interval: .seconds(60), earliest: true)
                            continue
                        }
                        if let forwarded = canary.metadata.annotations?[HintForwarder.annotation],
                            self.forwardedHints.withLock({ $0.updateValue(forwarded, forKey: key) }) != forwarded
                        {
                            // A hint another replica received (HintForwarder): run once its template is stored.
                            if let hash = HintForwarder.templateHash(ofAnnotation: forwarded),
                                case let target = canary.spec.targetRef.name
                            {
                                follower.yield(
                                    ReleaseHint(
                                        namespace: change.namespace,
                                        name: target,
                                        canaries: [change.name],
                                        templateHash: hash
                                    )
                                )
                            } else {
                                self.schedule.schedule(
                                    key,
                                    at: self.clock.now(),
                                    interval: .seconds(60),
                                    earliest: true
                                )
                            }
                            continue
                        }
                        let analysis = canary.spec.effectiveAnalysis
                        // A new or edited Canary runs now; its own status writes do not reschedule it.
                        let generation = canary.metadata.generation
                        let observed = canary.status?.observedGeneration
                        let deleting = canary.metadata.deletionTimestamp != nil
                        if observed == nil || generation != observed || canary.status?.phase == nil || deleting {
                            self.schedule.schedule(
                                key,
                                at: self.clock.now(),
                                interval: analysis?.tickInterval ?? .seconds(60),
                                earliest: true
                            )
                        } else {
                            self.schedule.schedule(
                                key,
                                at: self.clock.now().addingTimeInterval(
                                    Self.seconds(analysis?.tickInterval ?? .seconds(60))
                                ),
                                interval: analysis?.tickInterval ?? .seconds(60),
                                earliest: true
                            )
                        }
                    }
                }
            }
            if let hintStream {
                group.addTask {
                    for await hint in hintStream {
                        if let scope = self.releaser.configuration.namespace, scope != hint.namespace { continue }
                        follower.yield(hint)
                    }
                }
            }
            group.addTask { await self.loop() }
            // Runs until shutdown (or cancellation), then stops every child.
            try? await gracefulShutdown()
            follower.finish()
            group.cancelAll()
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Follows a hint unless one for the same Deployment is being followed (then it runs next, replacing any other
    /// waiting) or 64 Deployments are.
    func submit(_ hint: ReleaseHint, in group: inout DiscardingTaskGroup) {
        let key = Self.key(hint.namespace, hint.name)
        guard following.submit(key, hint) else { return }
        group.addTask { await self.following.run(key, hint) { await self.follow($0) } }
    }

    /// Runs the Canaries of a release hint at once, once the hint's template is stored (see
    /// ``ReleaseHint/awaitTemplate(client:clock:)``).
    func follow(_ hint: ReleaseHint) async {
        let attempts = await hint.awaitTemplate(client: client, clock: clock)
        for canary in hint.canaries {
            logger.debug(
                "release hint",
                metadata: [
                    "canary": "\(canary).\(hint.namespace)", "templateHash": "\(hint.templateHash)",
                    "reads": "\(attempts)",
                ]
            )
            schedule.schedule(Self.key(hint.namespace, canary), at: clock.now(), interval: .seconds(60))
        }
    }

    /// Keeps up to `concurrency` ticks running: a Canary starts as soon as it is due and a slot is free, so one slow
    /// tick (a webhook taking its full timeout) never holds back the others.
    func loop() async {
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                let free = concurrency - runningTicks.withLock { $0 }
                guard free > 0 else {
                    // A finishing tick signals the waker.
                    await schedule.waker.signalled()
                    continue
                }
                let (due, next) = schedule.takeDue(now: clock.now(), limit: free, perNamespace: perNamespace)
                if !due.isEmpty {
                    runningTicks.withLock { $0 += due.count }
                    for entry in due {
                        group.addTask {
                            await self.run(entry)
                            self.runningTicks.withLock { $0 -= 1 }
                            self.schedule.waker.signal()
                        }
                    }
                    continue
                }
                let wait = next.map { max($0.timeIntervalSince(clock.now()), 0) } ?? 3600
                await schedule.waker.wait(for: .milliseconds(Int64(wait * 1000) + 1), clock: clock)
            }
        }
    }

    /// One tick, cancelled when it runs longer than the configured tick timeout (it runs again at its next
    /// interval; all its state is in the Canary's status).
    func tickWithDeadline(namespace: String, name: String) async -> TickOutcome {
        let timeout = releaser.configuration.tickTimeout
        let outcome = await Self.withDeadline(timeout, clock: clock) {
            await self.releaser.tick(namespace: namespace, name: name)
        }
        guard let outcome else {
            logger.warning(
                "tick cancelled: it ran longer than the tick timeout \(timeout); it runs again at its next interval",
                metadata: ["canary": "\(name).\(namespace)"]
            )
            return .idle
        }
        return outcome
    }

    /// `work`'s result, or nil when `timeout` of `clock`'s time passed first (then `work` is cancelled and awaited).
    static func withDeadline<T: Sendable>(
        _ timeout: Duration,
        clock: any ReleaseClock,
        _ work: @escaping @Sendable () async -> T
    ) async -> T? {
        await withTaskGroup(of: T?.self) { group in
            group.addTask { await work() }
            group.addTask {
                try? await clock.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    func run(_ entry: Schedule.Entry) async {
        let parts = entry.key.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return }
        let outcome = await tickWithDeadline(namespace: parts[0], name: parts[1])
        let again = schedule.finished(entry.key)
        guard outcome != .gone else { return }
        if again {
            schedule.schedule(entry.key, at: clock.now(), interval: entry.interval, earliest: true)
            return
        }
        let interval =
            informer.get(namespace: parts[0], name: parts[1])?.spec.effectiveAnalysis?.tickInterval ?? entry.interval
        schedule.schedule(
            entry.key,
            at: clock.now().addingTimeInterval(Self.seconds(interval)),
            interval: interval,
            earliest: true
        )
    }
}
