import Admission
import CanaryModel
import Foundation
import JSONValue
import KubeClient
import Logging
import ServiceLifecycle

/// Passes release hints from a replica that does not run the worker to the one that does, through the API server:
/// each Canary of the hint gets the annotation `fledge.dev/release-hint: <template hash>/<time>`, which the leader's
/// Canary informer sees at once (the time makes a hint for a template seen before a change too). The API server
/// sends a Deployment's review to any replica, so without this a release reviewed by a non-leader would start only
/// at the Canary's next interval.
public final class HintForwarder: Service, Sendable {
    /// The annotation a forwarded hint sets on the Canary; the worker runs the Canary when its value changes.
    public static let annotation = "fledge.dev/release-hint"

    let client: KubeClient
    let hints: ReleaseHints
    let isLeader: @Sendable () -> Bool
    let logger: Logger

    /// - Parameter isLeader: whether this replica runs the worker now (its hints need no forwarding).
    public init(client: KubeClient, hints: ReleaseHints, isLeader: @escaping @Sendable () -> Bool, logger: Logger) {
        self.client = client
        self.hints = hints
        self.isLeader = isLeader
        self.logger = logger
    }

    public func run() async throws {
        let stream = hints.subscribe()
        await withDiscardingTaskGroup { group in
            group.addTask {
                await withDiscardingTaskGroup { forwards in
                    for await hint in stream where !self.isLeader() {
                        forwards.addTask { await self.forward(hint) }
                    }
                }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }

    func forward(_ hint: ReleaseHint) async {
        // After the write is stored: the leader's tick must see the new template.
        _ = await hint.awaitTemplate(client: client)
        for canary in hint.canaries {
            do {
                _ = try await client.patch(
                    "\(KubeAccess.canaries(hint.namespace))/\(canary)",
                    [
                        "metadata": [
                            "annotations": [
                                .init(stringLiteral: Self.annotation): .string(
                                    "\(hint.templateHash)/\(UInt64(Date().timeIntervalSince1970 * 1e9))"
                                )
                            ]
                        ]
                    ],
                    type: .merge
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
    /// Waits until the Deployment carries the hint's template, reading it every 25 ms for at most 2 s of real time.
    ///
    /// The admission gate publishes a hint while the API server has not yet stored the write it is reviewing; a tick
    /// that read the old template would find nothing new. A write refused after admission never shows its template;
    /// the wait then just ends. Returns how many reads it took.
    func awaitTemplate(client: KubeClient) async -> Int {
        let path = "\(KubeAccess.deployments(namespace))/\(name)"
        let started = ContinuousClock.now
        var reads = 0
        while ContinuousClock.now - started < .seconds(2), !Task.isCancelled {
            reads += 1
            guard let deployment = try? await client.getIfPresent(path) else { break }
            if PodTemplateHash.ofWorkload(deployment) == templateHash { break }
            try? await Task.sleep(for: .milliseconds(25))
        }
        return reads
    }
}
