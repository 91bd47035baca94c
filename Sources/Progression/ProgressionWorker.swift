import Admission
import CanaryModel
import Foundation
import JSONValue
import KubeClient
import KubeModels
import Logging
import ServiceLifecycle

/// The progression worker: every Canary on one timer heap, ticked at its interval by the ``Releaser``; an informer
/// on Canaries adds and removes them, and release hints from the admission gate run a Canary at once.
public final class ProgressionWorker: Service, Sendable {
    let releaser: Releaser
    let informer: Informer
    let hints: ReleaseHints?
    let clock: any ReleaseClock
    let logger: Logger
    let schedule = Schedule()
    /// How many Canaries tick at the same time.
    let concurrency: Int

    public init(
        releaser: Releaser,
        client: KubeClient,
        hints: ReleaseHints?,
        clock: any ReleaseClock,
        concurrency: Int = 32,
        logger: Logger
    ) {
        self.releaser = releaser
        let namespace = releaser.configuration.namespace
        informer = Informer(
            client: client,
            path: namespace.map { KubeAccess.canaries($0) } ?? "/apis/flagger.app/v1beta1/canaries",
            logger: logger
        )
        self.hints = hints
        self.clock = clock
        self.concurrency = max(concurrency, 1)
        self.logger = logger
    }

    /// Canaries on the timer heap.
    public var scheduledCount: Int { schedule.count }

    static func key(_ namespace: String, _ name: String) -> String { "\(namespace)/\(name)" }

    public func run() async throws {
        let changes = informer.changes()
        let hintStream = hints?.subscribe()
        await withDiscardingTaskGroup { group in
            group.addTask { try? await self.informer.run() }
            group.addTask {
                for await change in changes {
                    let key = Self.key(change.namespace, change.name)
                    if change.kind == .delete || change.object["status"] == nil {
                        // Arrivals and departures only: status writes do not change the count.
                        let count = self.informer.objects.filter {
                            $0["metadata", "namespace"]?.stringValue == change.namespace
                        }.count
                        self.releaser.recorder.metrics.total(change.namespace, count: count)
                    }
                    switch change.kind {
                    case .delete:
                        self.schedule.remove(key)
                    case .upsert:
                        let analysis = (try? JSONValueDecoder().decode(Canary.self, from: change.object))?.spec
                            .effectiveAnalysis
                        // A new or edited Canary runs now; its own status writes do not reschedule it.
                        let generation = change.object["metadata", "generation"]?.intValue
                        let observed = change.object["status", "observedGeneration"]?.intValue
                        let deleting = change.object["metadata", "deletionTimestamp"] != nil
                        if observed == nil || generation != observed || change.object["status", "phase"] == nil
                            || deleting
                        {
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
                        for canary in hint.canaries {
                            self.logger.debug(
                                "release hint",
                                metadata: [
                                    "canary": "\(canary).\(hint.namespace)", "templateHash": "\(hint.templateHash)",
                                ]
                            )
                            self.schedule.schedule(
                                Self.key(hint.namespace, canary),
                                at: self.clock.now(),
                                interval: .seconds(60)
                            )
                        }
                    }
                }
            }
            group.addTask { await self.loop() }
            // Runs until shutdown (or cancellation), then stops every child.
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Ticks whatever is due, then sleeps until the next entry or a wake-up.
    func loop() async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let (due, next) = schedule.takeDue(now: clock.now())
            if !due.isEmpty {
                await withTaskGroup(of: Void.self) { group in
                    var running = 0
                    for entry in due {
                        if running >= concurrency {
                            await group.next()
                            running -= 1
                        }
                        running += 1
                        group.addTask { await self.run(entry) }
                    }
                    await group.waitForAll()
                }
                continue
            }
            let wait = next.map { max($0.timeIntervalSince(clock.now()), 0) } ?? 3600
            await schedule.waker.wait(for: .milliseconds(Int64(wait * 1000) + 1), clock: clock)
        }
    }

    func run(_ entry: Schedule.Entry) async {
        let parts = entry.key.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return }
        let outcome = await releaser.tick(namespace: parts[0], name: parts[1])
        let again = schedule.finished(entry.key)
        guard outcome != .gone else { return }
        if again {
            schedule.schedule(entry.key, at: clock.now(), interval: entry.interval, earliest: true)
            return
        }
        let interval =
            informer.get(namespace: parts[0], name: parts[1])
            .flatMap { try? JSONValueDecoder().decode(Canary.self, from: $0) }?.spec.effectiveAnalysis?.tickInterval
            ?? entry.interval
        schedule.schedule(
            entry.key,
            at: clock.now().addingTimeInterval(Self.seconds(interval)),
            interval: interval,
            earliest: true
        )
    }
}
