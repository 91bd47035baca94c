import Foundation
import JSONValue
import ServiceLifecycle
import Synchronization

/// A simulated Deployment controller: status follows the spec after ``DevClusterConfiguration/rolloutDelay``
/// (divided by the speed), as kube-controller-manager's would once the pods came up. A pod template annotated
/// `playground.fledge.dev/ready: "false"` never becomes available and reports `ProgressDeadlineExceeded` after the
/// deployment's `progressDeadlineSeconds`.
public final class DeploymentController: Service, Sendable {
    public static let readyAnnotation = "playground.fledge.dev/ready"

    let cluster: DevCluster
    let changes = AsyncStream<ObjectKey>.makeStream()
    /// Per deployment, the template and generation the simulated pods run.
    let rollouts = Mutex<[ObjectKey: (template: JSONValue, since: ContinuousClock.Instant)]>([:])

    public init(cluster: DevCluster) {
        self.cluster = cluster
        let continuation = changes.continuation
        cluster.store.addListener { event in
            guard event.resource == "apps/deployments", event.kind != .deleted, event.kind != .bookmark else { return }
            continuation.yield(ObjectKey(resource: event.resource, namespace: event.namespace, name: event.name))
        }
    }

    var delay: Duration { cluster.configuration.rolloutDelay / max(cluster.configuration.speed, 0.001) }

    public func run() async throws {
        // Deployments stored before the controller started.
        for item in cluster.store.list(resource: "apps/deployments", namespace: nil).items {
            if let name = item["metadata", "name"]?.stringValue {
                changes.continuation.yield(
                    ObjectKey(
                        resource: "apps/deployments",
                        namespace: item["metadata", "namespace"]?.stringValue ?? "",
                        name: name
                    )
                )
            }
        }
        await withDiscardingTaskGroup { group in
            group.addTask {
                await withGracefulShutdownHandler {
                    while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
                } onGracefulShutdown: {
                    self.changes.continuation.finish()
                }
            }
            for await key in changes.stream.cancelOnGracefulShutdown() {
                guard let followUp = reconcile(key) else { continue }
                group.addTask {
                    try? await Task.sleep(for: followUp)
                    _ = self.reconcile(key)
                }
            }
            group.cancelAll()
        }
    }

    /// Moves one deployment's status toward its spec; returns when to look again, if the rollout is still going.
    func reconcile(_ key: ObjectKey) -> Duration? {
        guard let deployment = cluster.store.get(key) else {
            rollouts.withLock { $0[key] = nil }
            return nil
        }
        let generation = deployment["metadata", "generation"]?.intValue ?? 1
        let replicas = deployment["spec", "replicas"]?.intValue ?? 1
        let template = deployment["spec", "template"] ?? .null
        let now = ContinuousClock.now
        let rollout = rollouts.withLock { rollouts in
            if let current = rollouts[key], current.template == template { return current }
            let started = (template: template, since: now)
            rollouts[key] = started
            return started
        }
        let elapsed = now - rollout.since
        let neverReady = template["metadata", "annotations", Self.readyAnnotation]?.stringValue == "false"
        let deadline =
            Duration.seconds(deployment["spec", "progressDeadlineSeconds"]?.intValue ?? 600)
            / max(cluster.configuration.speed, 0.001)
        let previous = deployment["status"] ?? [:]
        var available: Int64
        var followUp: Duration?
        var progressing: (status: String, reason: String, message: String)
        let name = key.name
        if neverReady {
            available = 0
            if elapsed >= deadline {
                progressing = ("False", "ProgressDeadlineExceeded", "ReplicaSet \"\(name)\" has timed out progressing.")
            } else {
                progressing = ("True", "ReplicaSetUpdated", "ReplicaSet \"\(name)\" is progressing.")
                followUp = deadline - elapsed
            }
        } else if elapsed >= delay || replicas == 0 {
            available = replicas
            progressing = ("True", "NewReplicaSetAvailable", "ReplicaSet \"\(name)\" has successfully progressed.")
        } else {
            available = 0
            progressing = ("True", "ReplicaSetUpdated", "ReplicaSet \"\(name)\" is progressing.")
            followUp = delay - elapsed
        }
        let availableStatus = available >= replicas ? "True" : "False"
        let timestamp = DevCluster.timestamp()
        func condition(_ type: String, _ status: String, _ reason: String, _ message: String) -> JSONValue {
            let old = (previous["conditions"]?.arrayValue ?? []).first { $0["type"]?.stringValue == type }
            let transition =
                old?["status"]?.stringValue == status
                ? old?["lastTransitionTime"] ?? .string(timestamp) : .string(timestamp)
            return [
                "type": .string(type), "status": .string(status), "reason": .string(reason),
                "message": .string(message),
                "lastUpdateTime": old?["reason"]?.stringValue == reason
                    ? old?["lastUpdateTime"] ?? .string(timestamp) : .string(timestamp),
                "lastTransitionTime": transition,
            ]
        }
        var status: [String: JSONValue] = [
            "observedGeneration": .int(generation),
            "replicas": .int(replicas),
            "updatedReplicas": .int(replicas),
            "readyReplicas": .int(available),
            "availableReplicas": .int(available),
            "conditions": [
                condition(
                    "Available",
                    availableStatus,
                    availableStatus == "True" ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                    availableStatus == "True"
                        ? "Deployment has minimum availability." : "Deployment does not have minimum availability."
                ),
                condition("Progressing", progressing.status, progressing.reason, progressing.message),
            ],
        ]
        if available < replicas { status["unavailableReplicas"] = .int(replicas - available) }
        if available == 0 { status["readyReplicas"] = nil; status["availableReplicas"] = nil }
        let newStatus = JSONValue.object(status)
        syncPods(deployment, replicas: replicas, ready: available)
        if Self.sameStatus(previous, newStatus) { return followUp }
        _ = try? cluster.store.update(key, expected: deployment["metadata", "resourceVersion"]?.stringValue) {
            object,
            _ in
            DevCluster.with(object, ["status"], newStatus)
        }
        return followUp
    }

    /// Equal apart from timestamps, so a no-op reconcile writes nothing.
    static func sameStatus(_ a: JSONValue, _ b: JSONValue) -> Bool {
        func strip(_ value: JSONValue) -> JSONValue {
            var copy = value
            if let conditions = value["conditions"]?.arrayValue {
                copy.setMember(
                    ["conditions"],
                    .array(
                        conditions.map {
                            DevCluster.with(DevCluster.with($0, ["lastUpdateTime"], nil), ["lastTransitionTime"], nil)
                        }
                    )
                )
            }
            return copy
        }
        return strip(a) == strip(b)
    }
}
