import JSONValue
import KubeModels

/// One kind of object the embedded API server serves: where it lives in the URL space, what discovery says about
/// it, and how its writes are checked.
public struct ResourceType: Sendable {
    public var group: String
    public var version: String
    public var kind: String
    /// The plural resource name in URLs, e.g. `deployments`.
    public var resource: String
    public var singular: String
    public var namespaced: Bool
    public var shortNames: [String]
    public var categories: [String]
    /// Whether `/status` is a subresource (then writes to the main resource keep the stored status).
    public var hasStatus: Bool
    /// Where the scale subresource reads and writes replicas, when there is one.
    public var scale: ScaleSubresource?
    /// The structural schema writes are validated and pruned against (custom resources).
    public var schema: StructuralSchema?
    /// The raw OpenAPI v3 schema, for `default:` values.
    public var openAPIV3: JSONValue?
    /// Printer columns of a custom resource; `nil` for built-in kinds, which print like kube-apiserver's.
    public var printerColumns: [PrinterColumn]?
    /// Whether this type came from a CustomResourceDefinition.
    public var isCustom: Bool
    /// The version objects of this kind are stored in (a CRD's `storage: true` version); nil when it is this one.
    /// Versions convert with strategy `None`: only `apiVersion` changes.
    public var storageVersion: String?

    public init(
        group: String,
        version: String,
        kind: String,
        resource: String,
        singular: String? = nil,
        namespaced: Bool = true,
        shortNames: [String] = [],
        categories: [String] = [],
        hasStatus: Bool = false,
        scale: ScaleSubresource? = nil,
        schema: StructuralSchema? = nil,
        openAPIV3: JSONValue? = nil,
        printerColumns: [PrinterColumn]? = nil,
        isCustom: Bool = false,
        storageVersion: String? = nil
    ) {
        self.group = group
        self.version = version
        self.kind = kind
        self.resource = resource
        self.singular = singular ?? kind.lowercased()
        self.namespaced = namespaced
        self.shortNames = shortNames
        self.categories = categories
        self.hasStatus = hasStatus
        self.scale = scale
        self.schema = schema
        self.openAPIV3 = openAPIV3
        self.printerColumns = printerColumns
        self.isCustom = isCustom
        self.storageVersion = storageVersion == version ? nil : storageVersion
    }

    /// `apps/v1`, or `v1` for the core group.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    /// The `apiVersion` stored objects of this kind carry.
    public var storageAPIVersion: String {
        let stored = storageVersion ?? version
        return group.isEmpty ? stored : "\(group)/\(stored)"
    }
    /// `deployments.apps`, or `namespaces` for the core group: how kube-apiserver names the resource in messages.
    public var qualifiedResource: String { group.isEmpty ? resource : "\(resource).\(group)" }
    /// `Deployment.apps`, as in 422 messages.
    public var qualifiedKind: String { group.isEmpty ? kind : "\(kind).\(group)" }
    public var listKind: String { "\(kind)List" }
    public var gvr: GroupVersionResource { GroupVersionResource(group: group, version: version, resource: resource) }
    public var gvk: GroupVersionKind { GroupVersionKind(group: group, version: version, kind: kind) }
    /// The URL prefix of this group-version: `/api/v1` or `/apis/apps/v1`.
    public var groupVersionPath: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }

    /// The eight verbs kube-apiserver lists for an ordinary resource.
    public static let standardVerbs = [
        "create", "delete", "deletecollection", "get", "list", "patch", "update", "watch",
    ]
}

/// The paths of a scale subresource, as a CRD declares them.
public struct ScaleSubresource: Sendable, Hashable {
    public var specReplicasPath: String
    public var statusReplicasPath: String
    public var labelSelectorPath: String?

    public init(specReplicasPath: String, statusReplicasPath: String, labelSelectorPath: String? = nil) {
        self.specReplicasPath = specReplicasPath
        self.statusReplicasPath = statusReplicasPath
        self.labelSelectorPath = labelSelectorPath
    }

    static let deployment = ScaleSubresource(
        specReplicasPath: ".spec.replicas",
        statusReplicasPath: ".status.replicas",
        labelSelectorPath: ".status.selector"
    )
}

extension ResourceType {
    /// The built-in kinds the embedded cluster serves.
    public static let builtins: [ResourceType] = [
        ResourceType(
            group: "",
            version: "v1",
            kind: "Namespace",
            resource: "namespaces",
            namespaced: false,
            shortNames: ["ns"],
            hasStatus: true
        ),
        ResourceType(
            group: "",
            version: "v1",
            kind: "Service",
            resource: "services",
            shortNames: ["svc"],
            categories: ["all"],
            hasStatus: true
        ),
        ResourceType(group: "", version: "v1", kind: "ConfigMap", resource: "configmaps", shortNames: ["cm"]),
        ResourceType(group: "", version: "v1", kind: "Secret", resource: "secrets"),
        ResourceType(group: "", version: "v1", kind: "Event", resource: "events", shortNames: ["ev"]),
        ResourceType(
            group: "",
            version: "v1",
            kind: "ServiceAccount",
            resource: "serviceaccounts",
            shortNames: ["sa"]
        ),
        ResourceType(
            group: "",
            version: "v1",
            kind: "Pod",
            resource: "pods",
            shortNames: ["po"],
            categories: ["all"],
            hasStatus: true
        ),
        ResourceType(group: "", version: "v1", kind: "Endpoints", resource: "endpoints", shortNames: ["ep"]),
        ResourceType(
            group: "apps",
            version: "v1",
            kind: "Deployment",
            resource: "deployments",
            shortNames: ["deploy"],
            categories: ["all"],
            hasStatus: true,
            scale: .deployment
        ),
        ResourceType(
            group: "apps",
            version: "v1",
            kind: "DaemonSet",
            resource: "daemonsets",
            shortNames: ["ds"],
            categories: ["all"],
            hasStatus: true
        ),
        ResourceType(
            group: "apps",
            version: "v1",
            kind: "ReplicaSet",
            resource: "replicasets",
            shortNames: ["rs"],
            categories: ["all"],
            hasStatus: true,
            scale: .deployment
        ),
        ResourceType(group: "coordination.k8s.io", version: "v1", kind: "Lease", resource: "leases"),
        ResourceType(
            group: "autoscaling",
            version: "v2",
            kind: "HorizontalPodAutoscaler",
            resource: "horizontalpodautoscalers",
            shortNames: ["hpa"],
            categories: ["all"],
            hasStatus: true
        ),
        ResourceType(
            group: "apiextensions.k8s.io",
            version: "v1",
            kind: "CustomResourceDefinition",
            resource: "customresourcedefinitions",
            namespaced: false,
            shortNames: ["crd", "crds"],
            hasStatus: true
        ),
        ResourceType(
            group: "admissionregistration.k8s.io",
            version: "v1",
            kind: "MutatingWebhookConfiguration",
            resource: "mutatingwebhookconfigurations",
            namespaced: false
        ),
        ResourceType(
            group: "admissionregistration.k8s.io",
            version: "v1",
            kind: "ValidatingWebhookConfiguration",
            resource: "validatingwebhookconfigurations",
            namespaced: false
        ),
        ResourceType(
            group: "rbac.authorization.k8s.io",
            version: "v1",
            kind: "ClusterRole",
            resource: "clusterroles",
            namespaced: false
        ),
        ResourceType(
            group: "rbac.authorization.k8s.io",
            version: "v1",
            kind: "ClusterRoleBinding",
            resource: "clusterrolebindings",
            namespaced: false
        ),
        ResourceType(group: "rbac.authorization.k8s.io", version: "v1", kind: "Role", resource: "roles"),
        ResourceType(group: "rbac.authorization.k8s.io", version: "v1", kind: "RoleBinding", resource: "rolebindings"),
        ResourceType(
            group: "policy",
            version: "v1",
            kind: "PodDisruptionBudget",
            resource: "poddisruptionbudgets",
            shortNames: ["pdb"],
            hasStatus: true
        ),
    ]
}
