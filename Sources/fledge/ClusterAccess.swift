import Admission
import CanaryModel
import JSONValue
import KubeClient

/// The admission gate's view of a real cluster, through the API server.
struct KubeClusterView: ClusterView {
    let lister: CachedCanaryLister

    func canaries(in namespace: String) async throws -> [CanaryTarget] {
        try await lister.canaries(in: namespace).compactMap { object in
            guard let name = object["metadata", "name"]?.stringValue,
                let targetName = object["spec", "targetRef", "name"]?.stringValue
            else { return nil }
            let kind = object["spec", "targetRef", "kind"]?.stringValue ?? "Deployment"
            return CanaryTarget(name: name, targetKind: kind, targetName: targetName)
        }
    }

    func exists(kind: String, namespace: String, name: String) async throws -> Bool {
        try await lister.exists(kind: kind, namespace: namespace, name: name)
    }
}
