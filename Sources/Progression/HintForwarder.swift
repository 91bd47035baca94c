import CanaryModel
import Foundation
import JSONValue
import KubeClient
import KubeModels
import Logging
import ServiceLifecycle

/// Passes release hints from a replica that does not run the worker to the one that does, through the API server:
/// each Canary of the hint gets the annotation `fledge.dev/release-hint: <template hash>/<time>`, which the leader's
/// Canary informer sees at once (the time makes a hint for a template seen before a change too). The API server
/// sends a Deployment's review to any replica, so without this a release reviewed by a non-leader would start only
/// at the Canary's next interval.
///
/// It reads nothing: the leader waits for the template to be stored. Forwards for one Deployment run one at a time
/// (a burst keeps only the newest), and at most 16 Deployments at once, so a flood of reviews costs the API server
/// little.
public final class HintForwarder: Service, Sendable {
    /// The annotation a forwarded hint sets on the Canary; the worker runs the Canary when its value changes.
    public static let annotation = "fledge.dev/release-hint"

    let client: KubeClient
    let hints: ReleaseHints
    let isLeader: @Sendable () -> Bool
    let logger: Logger
    let clock: any ReleaseClock
    let pending = Coalescer<ReleaseHint>(limit: 16)

    /// - Parameter isLeader: whether this replica runs the worker now (its hints need no forwarding).
    public init(
        client: KubeClient,
        hints: ReleaseHints,
        isLeader: @escaping @Sendable () -> Bool,
        clock: any ReleaseClock = ScaledClock(),
        logger: Logger
    ) {
        self.client = client
        self.hints = hints
        self.isLeader = isLeader
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        let stream = hints.subscribe()
        await withDiscardingTaskGroup { group in
            group.addTask {
                await withDiscardingTaskGroup { forwards in
                    for await hint in stream where !self.isLeader() {
                        let key = "\(hint.namespace)/\(hint.name)"
                        guard self.pending.submit(key, hint) else { continue }
                        forwards.addTask { await self.pending.run(key, hint) { await self.forward($0) } }
                    }
                }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }

    /// The annotation's value for a hint: the template hash and the time it was forwarded.
    static func annotationValue(templateHash: String, at date: Date) -> String {
        "\(templateHash)/\(UInt64(max(date.timeIntervalSince1970, 0) * 1e9))"
    }

    /// The template hash of an annotation value, when it is one this forwarder wrote.
    static func templateHash(ofAnnotation value: String) -> String? {
        let parts = value.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 16,
            parts[0].utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else { return nil }
        return String(parts[0])
    }

    func forward(_ hint: ReleaseHint) async {
        for canary in hint.canaries {
            do {
                _ = try await client.patch(
                    Canary.self,
                    namespace: hint.namespace,
                    name: canary,
                    [
                        "metadata": [
                            "annotations": [
                                .init(stringLiteral: Self.annotation): .string(
                                    Self.annotationValue(templateHash: hint.templateHash, at: clock.now())
                                )
                            ]
                        ]
                    ]
                )
                logger.debug("release hint forwarded", metadata: ["canary": "\(canary).\(hint.namespace)"])
            } catch {
                logger.warning(
                    "cannot forward a release hint; the worker finds the release at its next interval",
                    metadata: ["canary": "\(canary).\(hint.namespace)", "error": "\(error)"]
                )
            }
        }
    }
}

extension ReleaseHint {
    /// Waits until the Deployment carries the hint's template: reads it at once, then after 25, 50, 100, … ms of
    /// `clock`'s time, at most 8 reads (about 3 s).
    ///
    /// The admission gate publishes a hint while the API server has not yet stored the write it is reviewing; a tick
    /// that read the old template would find nothing new. A write refused after admission never shows its template;
    /// the wait then just ends. Returns how many reads it took.
    func awaitTemplate(client: KubeClient, clock: any ReleaseClock) async -> Int {
        var reads = 0
        var pause = Duration.milliseconds(25)
        while reads < 8, !Task.isCancelled {
            reads += 1
            guard let deployment = try? await client.get(Deployment.self, namespace: namespace, name: name) else {
                break
            }
            if PodTemplateHash.of(deployment) == templateHash { break }
            guard reads < 8 else { break }
            try? await clock.sleep(for: pause)
            pause *= 2
        }
        return reads
    }
}
