import JSONValue

// Patch metadata of the built-in kinds, from the `patchStrategy` / `patchMergeKey` struct tags of k8s.io/api.
// Fields without a tag are left out: objects without metadata merge and lists without metadata are replaced, which
// is what an untagged field does. Lists tagged only `+listType=atomic` are listed as `.atomic` for the record.

extension PatchMeta {
    /// `metav1.ObjectMeta`: finalizers merge as a set, owner references by uid.
    public static let objectMeta = PatchMeta.object([
        "finalizers": .primitiveSet,
        "ownerReferences": .merge(on: "uid"),
    ])

    /// `core/v1.Container` and `EphemeralContainerCommon`, which carry the same tags.
    public static let container = PatchMeta.object([
        "ports": .merge(on: "containerPort"),
        "env": .merge(on: "name"),
        "volumeMounts": .merge(on: "mountPath"),
        "volumeDevices": .merge(on: "devicePath"),
        "resizePolicy": .atomic,
    ])

    /// `core/v1.PodSpec`.
    public static let podSpec = PatchMeta.object([
        "volumes": .merge(on: "name", retainKeys: true),
        "initContainers": .merge(on: "name", container),
        "containers": .merge(on: "name", container),
        "ephemeralContainers": .merge(on: "name", container),
        "imagePullSecrets": .merge(on: "name"),
        "hostAliases": .merge(on: "ip"),
        "topologySpreadConstraints": .merge(on: "topologyKey"),
        "schedulingGates": .merge(on: "name"),
        "resourceClaims": .merge(on: "name", retainKeys: true),
    ])

    /// `core/v1.PodStatus`.
    static let podStatus = PatchMeta.object([
        "conditions": .merge(on: "type"),
        "podIPs": .merge(on: "ip"),
        "hostIPs": .merge(on: "ip"),
        "resourceClaimStatuses": .merge(on: "name", retainKeys: true),
        // The container status lists carry no strategy and are replaced whole, so their elements' tags
        // (volumeMounts by mountPath, allocatedResourcesStatus by name) never apply.
        "initContainerStatuses": .atomic,
        "containerStatuses": .atomic,
        "ephemeralContainerStatuses": .atomic,
    ])

    /// `core/v1.PodTemplateSpec`.
    public static let podTemplateSpec = PatchMeta.object(["metadata": objectMeta, "spec": podSpec])

    /// A status whose only tagged field is `conditions`, merged by type.
    static let conditionsStatus = PatchMeta.object(["conditions": .merge(on: "type")])

    /// `core/v1.PersistentVolumeClaim`.
    static let persistentVolumeClaim = PatchMeta.object(["metadata": objectMeta, "status": conditionsStatus])

    /// `batch/v1.JobSpec`.
    static let jobSpec = PatchMeta.object(["template": podTemplateSpec])

    /// A kind whose only tagged field is in its metadata.
    static let metadataOnly = PatchMeta.object(["metadata": objectMeta])

    /// A workload with a pod template and conditions in its status; `spec` adds to the template.
    static func workload(spec: [String: PatchMeta] = [:]) -> PatchMeta {
        .object([
            "metadata": objectMeta,
            "spec": .object(spec.merging(["template": podTemplateSpec]) { mine, _ in mine }),
            "status": conditionsStatus,
        ])
    }
}

extension StrategicMergePatch {
    /// Patch metadata of the built-in kinds; nil for kinds without (custom resources must be refused by the caller).
    public static func meta(group: String, version: String, kind: String) -> PatchMeta? {
        builtinMetadata["\(group)/\(version)/\(kind)"]
    }

    static let builtinMetadata: [String: PatchMeta] = [
        "/v1/Pod": .object(["metadata": .objectMeta, "spec": .podSpec, "status": .podStatus]),
        "/v1/PodTemplate": .object(["metadata": .objectMeta, "template": .podTemplateSpec]),
        "/v1/ReplicationController": .workload(),
        "/v1/Service": .object([
            "metadata": .objectMeta,
            "spec": .object(["ports": .merge(on: "port")]),
            "status": .conditionsStatus,
        ]),
        "/v1/Namespace": .object(["metadata": .objectMeta, "status": .conditionsStatus]),
        "/v1/Node": .object([
            "metadata": .objectMeta,
            "spec": .object(["podCIDRs": .primitiveSet]),
            "status": .object(["conditions": .merge(on: "type"), "addresses": .merge(on: "type")]),
        ]),
        "/v1/PersistentVolumeClaim": .persistentVolumeClaim,
        "/v1/ConfigMap": .metadataOnly,
        "/v1/Secret": .metadataOnly,
        "/v1/ServiceAccount": .object(["metadata": .objectMeta, "secrets": .merge(on: "name")]),
        "/v1/Event": .metadataOnly,
        "events.k8s.io/v1/Event": .metadataOnly,
        "coordination.k8s.io/v1/Lease": .metadataOnly,
        "apps/v1/Deployment": .workload(spec: ["strategy": .object([:], retainKeys: true)]),
        "apps/v1/ReplicaSet": .workload(),
        "apps/v1/StatefulSet": .workload(spec: ["volumeClaimTemplates": .atomic]),
        "apps/v1/DaemonSet": .workload(),
        "batch/v1/Job": .object(["metadata": .objectMeta, "spec": .jobSpec, "status": .conditionsStatus]),
        "batch/v1/CronJob": .object([
            "metadata": .objectMeta,
            "spec": .object(["jobTemplate": .object(["metadata": .objectMeta, "spec": .jobSpec])]),
        ]),
        "autoscaling/v1/HorizontalPodAutoscaler": .metadataOnly,
        "autoscaling/v2/HorizontalPodAutoscaler": .object([
            "metadata": .objectMeta,
            "spec": .object(["metrics": .atomic]),
            "status": .object(["conditions": .merge(on: "type"), "currentMetrics": .atomic]),
        ]),
    ]
}
