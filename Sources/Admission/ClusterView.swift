import CanaryModel
import KubeModels

/// What the admission gate needs to know about the cluster beyond the object under review.
///
/// With `--admission-only` there is none and cross-object checks are skipped.
public protocol ClusterView: Sendable {
    /// The Canaries in `namespace`, as (name, target kind, target name).
    func canaries(in namespace: String) async throws -> [CanaryTarget]
    /// Whether an object of `kind` (`Deployment`, `DaemonSet`, `MetricTemplate`, `AlertProvider`) exists.
    func exists(kind: String, namespace: String, name: String) async throws -> Bool
}

/// A Canary and the workload it targets.
public struct CanaryTarget: Sendable, Hashable {
    public var name: String
    public var targetKind: String
    public var targetName: String

    public init(name: String, targetKind: String, targetName: String) {
        self.name = name
        self.targetKind = targetKind
        self.targetName = targetName
    }

    public init?(_ canary: Canary) {
        guard let name = canary.metadata.name else { return nil }
        self.init(
            name: name,
            targetKind: canary.spec.targetRef.kind ?? "Deployment",
            targetName: canary.spec.targetRef.name
        )
    }
}
