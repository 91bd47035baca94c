import Foundation
import JSONValue

/// Simulated pods: one Running Pod per replica, so `kubectl get pods` and `kubectl logs deploy/NAME` find them as
/// they would in a cluster. They run nothing; their log says so. Unlike kube-controller-manager's they are owned by
/// the Deployment itself (no ReplicaSets), which garbage-collects them with it.
extension DeploymentController {
    static let templateHashLabel = "pod-template-hash"

    /// Makes the deployment's pods match `replicas` of the current template, the first `ready` of them Ready.
    func syncPods(_ deployment: JSONValue, replicas: Int64, ready: Int64) {
        guard let type = cluster.registry.lookup(group: "", version: "v1", resource: "pods"),
            let namespace = deployment["metadata", "namespace"]?.stringValue,
            let name = deployment["metadata", "name"]?.stringValue,
            let uid = deployment["metadata", "uid"]?.stringValue,
            deployment["metadata", "deletionTimestamp"] == nil
        else { return }
        let template = deployment["spec", "template"] ?? [:]
        let hash = Self.templateHash(template)
        let owned = cluster.store.list(resource: DevCluster.bucket(type), namespace: namespace).items.filter { pod in
            (pod["metadata", "ownerReferences"]?.arrayValue ?? []).contains { $0["uid"]?.stringValue == uid }
        }
        let wanted = max(0, min(replicas, 1000))
        var kept: [JSONValue] = []
        for pod in owned.sorted(by: {
            ($0["metadata", "name"]?.stringValue ?? "") < ($1["metadata", "name"]?.stringValue ?? "")
        }) {
            let current = pod["metadata", "labels", Self.templateHashLabel]?.stringValue == hash
            if current, kept.count < wanted {
                kept.append(pod)
            } else if let podName = pod["metadata", "name"]?.stringValue {
                _ = try? cluster.deleteObject(
                    type,
                    cluster.key(type, namespace: namespace, name: podName),
                    policy: .background
                )
            }
        }
        while kept.count < wanted {
            let pod = Self.pod(deployment, template: template, hash: hash, namespace: namespace, name: name, uid: uid)
            let podName = pod["metadata", "name"]?.stringValue ?? ""
            let key = cluster.key(type, namespace: namespace, name: podName)
            let object = cluster.defaulted(type, cluster.systemFields(pod), old: nil)
            guard let created = try? cluster.store.create(key, { _ in object }) else { continue }
            kept.append(created)
        }
        for (index, pod) in kept.enumerated() {
            guard let podName = pod["metadata", "name"]?.stringValue else { continue }
            let status = Self.podStatus(template, ready: Int64(index) < ready, previous: pod["status"])
            guard pod["status"] != status else { continue }
            _ = try? cluster.store.update(cluster.key(type, namespace: namespace, name: podName), expected: nil) {
                object,
                _ in DevCluster.with(object, ["status"], status)
            }
        }
    }

    static func pod(
        _ deployment: JSONValue,
        template: JSONValue,
        hash: String,
        namespace: String,
        name: String,
        uid: String
    ) -> JSONValue {
        var labels = template["metadata", "labels"]?.objectValue ?? [:]
        labels[templateHashLabel] = .string(hash)
        var metadata: [String: JSONValue] = [
            "name": .string("\(name)-\(hash)-\(DevCluster.randomSuffix())"), "namespace": .string(namespace),
            "labels": .object(labels),
            "ownerReferences": [
                [
                    "apiVersion": "apps/v1", "kind": "Deployment", "name": .string(name), "uid": .string(uid),
                    "controller": true, "blockOwnerDeletion": true,
                ]
            ],
        ]
        if let annotations = template["metadata", "annotations"] { metadata["annotations"] = annotations }
        var spec = template["spec"] ?? [:]
        spec.setMember(["nodeName"], "playground")
        return ["apiVersion": "v1", "kind": "Pod", "metadata": .object(metadata), "spec": spec]
    }

    static func podStatus(_ template: JSONValue, ready: Bool, previous: JSONValue?) -> JSONValue {
        let containers = template["spec", "containers"]?.arrayValue ?? []
        let readyText: JSONValue = ready ? "True" : "False"
        let since = previous?["startTime"] ?? .string(DevCluster.timestamp())
        func condition(_ type: String, _ status: JSONValue) -> JSONValue {
            let old = (previous?["conditions"]?.arrayValue ?? []).first { $0["type"]?.stringValue == type }
            let transition =
                old?["status"] == status ? old?["lastTransitionTime"] ?? since : .string(DevCluster.timestamp())
            return ["type": .string(type), "status": status, "lastTransitionTime": transition]
        }
        return [
            "phase": "Running", "hostIP": "127.0.0.1", "podIP": "127.0.0.1", "startTime": since,
            "conditions": [
                condition("PodScheduled", "True"), condition("Initialized", "True"),
                condition("ContainersReady", readyText), condition("Ready", readyText),
            ],
            "containerStatuses": .array(
                containers.map { container in
                    [
                        "name": container["name"] ?? "", "image": container["image"] ?? "", "ready": .bool(ready),
                        "started": true, "restartCount": 0, "state": ["running": ["startedAt": since]],
                    ]
                }
            ),
        ]
    }

    /// A stable 10-character hash of a pod template, in the alphabet Kubernetes uses for generated names.
    static func templateHash(_ template: JSONValue) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in template.serializedBytes() {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        var text = ""
        for _ in 0..<10 {
            text.append(alphabet[Int(hash % UInt64(alphabet.count))])
            hash /= UInt64(alphabet.count)
        }
        return text
    }
}

extension DevCluster {
    /// `GET pods/NAME/log`: a simulated pod runs nothing, so its log is one line saying so and where to look.
    func podLog(_ path: ResourcePath, name: String, _ request: APIRequest) throws -> APIResponse {
        guard request.method == "GET" else { throw APIError.methodNotAllowed }
        guard let type = registry.lookup(group: "", version: "v1", resource: "pods") else {
            throw APIError.notFoundPath
        }
        guard let pod = store.get(key(type, namespace: path.namespace, name: name)) else {
            throw APIError.notFound(type, name)
        }
        let containers = pod["spec", "containers"]?.arrayValue ?? []
        let container =
            request.query["container"]
            ?? containers.first?["name"]?.stringValue ?? ""
        guard containers.contains(where: { $0["name"]?.stringValue == container }) else {
            throw APIError.badRequest("container \(container) is not valid for pod \(name)")
        }
        let namespace = path.namespace ?? "default"
        let text = """
            fledge playground: pod \(name) is simulated; container \(container) runs nowhere and writes no log. \
            Its behaviour comes from the playground.fledge.dev annotations on its pod template; \
            the release's story is in `kubectl get events -n \(namespace)`.

            """
        return APIResponse(status: 200, contentType: "text/plain", body: .bytes(Array(text.utf8)))
    }
}
