extension ProtobufFieldSchema {
    static func string(_ name: String, _ emission: ProtobufEmission = .omitEmpty) -> Self {
        Self(name: name, kind: .string, shape: .single(emission))
    }

    static func bool(_ name: String, _ emission: ProtobufEmission = .omitEmpty) -> Self {
        Self(name: name, kind: .bool, shape: .single(emission))
    }

    static func int32(_ name: String, _ emission: ProtobufEmission = .omitEmpty) -> Self {
        Self(name: name, kind: .int32, shape: .single(emission))
    }

    static func int64(_ name: String, _ emission: ProtobufEmission = .omitEmpty) -> Self {
        Self(name: name, kind: .int64, shape: .single(emission))
    }

    static func time(_ name: String, _ emission: ProtobufEmission = .omitEmpty) -> Self {
        Self(name: name, kind: .time, shape: .single(emission))
    }

    static func intOrString(_ name: String) -> Self {
        Self(name: name, kind: .intOrString, shape: .single(.whenPresent))
    }

    static func quantity(_ name: String) -> Self {
        Self(name: name, kind: .quantity, shape: .single(.whenPresent))
    }

    static func message(
        _ name: String,
        _ schema: ProtobufMessageSchema,
        _ emission: ProtobufEmission = .whenPresent
    ) -> Self {
        Self(name: name, kind: .message(schema), shape: .single(emission))
    }

    static func repeated(_ name: String, _ kind: ProtobufValueKind) -> Self {
        Self(name: name, kind: kind, shape: .repeated)
    }

    static func map(_ name: String, _ value: ProtobufValueKind) -> Self {
        let entry = ProtobufMessageSchema(
            name + "Entry",
            [
                1: Self(name: "key", kind: .string, shape: .single(.whenPresent)),
                2: Self(name: "value", kind: value, shape: .single(.whenPresent)),
            ]
        )
        return Self(name: name, kind: value, shape: .map(entry: entry))
    }

    static func inline(_ schema: ProtobufMessageSchema) -> Self {
        Self(name: schema.name, kind: .message(schema), shape: .inline)
    }
}

/// The supported subset of k8s.io/api and k8s.io/apimachinery `generated.proto`, by field number.
///
/// Emission follows the Go JSON tags: plain `omitempty` scalars use `.omitEmpty`; pointers, nested structs and
/// fields without `omitempty` (such as `Container.name` or `ContainerPort.containerPort`) use `.whenPresent`.
/// Fields not listed here are skipped.
enum KubernetesProtobufSchemas {
    /// Top-level kinds by `apiVersion/kind`.
    static let kinds: [String: ProtobufMessageSchema] = [
        "v1/Namespace": namespace,
        "v1/ConfigMap": configMap,
        "v1/Secret": secret,
        "v1/ServiceAccount": serviceAccount,
        "apps/v1/Deployment": deployment,
    ]

    /// The schema for `kind` under any `apiVersion`: client-go registers `DeleteOptions` in every group version
    /// (`v1`, `apps/v1`, `meta.k8s.io/v1`, …) and sends it as protobuf on DELETE.
    static func schema(apiVersion: String, kind: String) -> ProtobufMessageSchema? {
        if kind == "DeleteOptions" { return deleteOptions }
        return kinds[apiVersion + "/" + kind]
    }

    // MARK: meta/v1

    static let ownerReference = ProtobufMessageSchema(
        "OwnerReference",
        [
            5: .string("apiVersion", .whenPresent),
            1: .string("kind", .whenPresent),
            3: .string("name", .whenPresent),
            4: .string("uid", .whenPresent),
            6: .bool("controller", .whenPresent),
            7: .bool("blockOwnerDeletion", .whenPresent),
        ]
    )

    static let objectMeta = ProtobufMessageSchema(
        "ObjectMeta",
        [
            1: .string("name"),
            2: .string("generateName"),
            3: .string("namespace"),
            4: .string("selfLink"),
            5: .string("uid"),
            6: .string("resourceVersion"),
            7: .int64("generation"),
            // Go sends a zero creationTimestamp as null; it is dropped here, which the API server treats the same.
            8: .time("creationTimestamp"),
            9: .time("deletionTimestamp", .whenPresent),
            10: .int64("deletionGracePeriodSeconds", .whenPresent),
            11: .map("labels", .string),
            12: .map("annotations", .string),
            13: .repeated("ownerReferences", .message(ownerReference)),
            14: .repeated("finalizers", .string),
        ]
    )

    static let labelSelectorRequirement = ProtobufMessageSchema(
        "LabelSelectorRequirement",
        [
            1: .string("key", .whenPresent),
            2: .string("operator", .whenPresent),
            3: .repeated("values", .string),
        ]
    )

    static let labelSelector = ProtobufMessageSchema(
        "LabelSelector",
        [
            1: .map("matchLabels", .string),
            2: .repeated("matchExpressions", .message(labelSelectorRequirement)),
        ]
    )

    /// `meta/v1.DeleteOptions`, the body client-go sends with a DELETE.
    static let deleteOptions = ProtobufMessageSchema(
        "DeleteOptions",
        [
            1: .int64("gracePeriodSeconds", .whenPresent),
            2: .message(
                "preconditions",
                ProtobufMessageSchema(
                    "Preconditions",
                    [1: .string("uid", .whenPresent), 2: .string("resourceVersion", .whenPresent)]
                )
            ),
            3: .bool("orphanDependents", .whenPresent),
            4: .string("propagationPolicy", .whenPresent),
            5: .repeated("dryRun", .string),
            6: .bool("ignoreStoreReadErrorWithClusterBreakingPotential", .whenPresent),
        ]
    )

    // MARK: core/v1 objects

    static let namespace = ProtobufMessageSchema(
        "Namespace",
        [
            1: .message("metadata", objectMeta),
            2: .message("spec", ProtobufMessageSchema("NamespaceSpec", [1: .repeated("finalizers", .string)])),
            3: .message("status", ProtobufMessageSchema("NamespaceStatus", [1: .string("phase")])),
        ]
    )

    static let configMap = ProtobufMessageSchema(
        "ConfigMap",
        [
            1: .message("metadata", objectMeta),
            2: .map("data", .string),
            3: .map("binaryData", .bytes),
            4: .bool("immutable", .whenPresent),
        ]
    )

    static let secret = ProtobufMessageSchema(
        "Secret",
        [
            1: .message("metadata", objectMeta),
            2: .map("data", .bytes),
            3: .string("type"),
            4: .map("stringData", .string),
            5: .bool("immutable", .whenPresent),
        ]
    )

    static let objectReference = ProtobufMessageSchema(
        "ObjectReference",
        [
            1: .string("kind"),
            2: .string("namespace"),
            3: .string("name"),
            4: .string("uid"),
            5: .string("apiVersion"),
            6: .string("resourceVersion"),
            7: .string("fieldPath"),
        ]
    )

    static let localObjectReference = ProtobufMessageSchema("LocalObjectReference", [1: .string("name")])

    static let serviceAccount = ProtobufMessageSchema(
        "ServiceAccount",
        [
            1: .message("metadata", objectMeta),
            2: .repeated("secrets", .message(objectReference)),
            3: .repeated("imagePullSecrets", .message(localObjectReference)),
            4: .bool("automountServiceAccountToken", .whenPresent),
        ]
    )

    // MARK: core/v1 pod template

    static let containerPort = ProtobufMessageSchema(
        "ContainerPort",
        [
            1: .string("name"),
            2: .int32("hostPort"),
            3: .int32("containerPort", .whenPresent),
            4: .string("protocol"),
            5: .string("hostIP"),
        ]
    )

    static let keySelectorFields: [Int: ProtobufFieldSchema] = [
        1: .inline(localObjectReference),
        2: .string("key", .whenPresent),
        3: .bool("optional", .whenPresent),
    ]

    static let envVarSource = ProtobufMessageSchema(
        "EnvVarSource",
        [
            1: .message(
                "fieldRef",
                ProtobufMessageSchema(
                    "ObjectFieldSelector",
                    [1: .string("apiVersion"), 2: .string("fieldPath", .whenPresent)]
                )
            ),
            2: .message(
                "resourceFieldRef",
                ProtobufMessageSchema(
                    "ResourceFieldSelector",
                    [1: .string("containerName"), 2: .string("resource", .whenPresent), 3: .quantity("divisor")]
                )
            ),
            3: .message("configMapKeyRef", ProtobufMessageSchema("ConfigMapKeySelector", keySelectorFields)),
            4: .message("secretKeyRef", ProtobufMessageSchema("SecretKeySelector", keySelectorFields)),
        ]
    )

    static let envVar = ProtobufMessageSchema(
        "EnvVar",
        [
            1: .string("name", .whenPresent),
            2: .string("value"),
            3: .message("valueFrom", envVarSource),
        ]
    )

    static let envSourceFields: [Int: ProtobufFieldSchema] = [
        1: .inline(localObjectReference),
        2: .bool("optional", .whenPresent),
    ]

    static let envFromSource = ProtobufMessageSchema(
        "EnvFromSource",
        [
            1: .string("prefix"),
            2: .message("configMapRef", ProtobufMessageSchema("ConfigMapEnvSource", envSourceFields)),
            3: .message("secretRef", ProtobufMessageSchema("SecretEnvSource", envSourceFields)),
        ]
    )

    static let resourceRequirements = ProtobufMessageSchema(
        "ResourceRequirements",
        [
            1: .map("limits", .quantity),
            2: .map("requests", .quantity),
        ]
    )

    static let seccompProfile = ProtobufMessageSchema(
        "SeccompProfile",
        [
            1: .string("type", .whenPresent),
            2: .string("localhostProfile", .whenPresent),
        ]
    )

    static let securityContext = ProtobufMessageSchema(
        "SecurityContext",
        [
            1: .message(
                "capabilities",
                ProtobufMessageSchema("Capabilities", [1: .repeated("add", .string), 2: .repeated("drop", .string)])
            ),
            2: .bool("privileged", .whenPresent),
            4: .int64("runAsUser", .whenPresent),
            5: .bool("runAsNonRoot", .whenPresent),
            6: .bool("readOnlyRootFilesystem", .whenPresent),
            7: .bool("allowPrivilegeEscalation", .whenPresent),
            8: .int64("runAsGroup", .whenPresent),
            11: .message("seccompProfile", seccompProfile),
        ]
    )

    static let container = ProtobufMessageSchema(
        "Container",
        [
            1: .string("name", .whenPresent),
            2: .string("image"),
            3: .repeated("command", .string),
            4: .repeated("args", .string),
            5: .string("workingDir"),
            6: .repeated("ports", .message(containerPort)),
            7: .repeated("env", .message(envVar)),
            8: .message("resources", resourceRequirements),
            13: .string("terminationMessagePath"),
            14: .string("imagePullPolicy"),
            15: .message("securityContext", securityContext),
            16: .bool("stdin"),
            17: .bool("stdinOnce"),
            18: .bool("tty"),
            19: .repeated("envFrom", .message(envFromSource)),
            20: .string("terminationMessagePolicy"),
        ]
    )

    static let podSecurityContext = ProtobufMessageSchema(
        "PodSecurityContext",
        [
            2: .int64("runAsUser", .whenPresent),
            3: .bool("runAsNonRoot", .whenPresent),
            4: .repeated("supplementalGroups", .int64),
            5: .int64("fsGroup", .whenPresent),
            6: .int64("runAsGroup", .whenPresent),
            9: .string("fsGroupChangePolicy", .whenPresent),
            10: .message("seccompProfile", seccompProfile),
        ]
    )

    static let podSpec = ProtobufMessageSchema(
        "PodSpec",
        [
            2: .repeated("containers", .message(container)),
            3: .string("restartPolicy"),
            4: .int64("terminationGracePeriodSeconds", .whenPresent),
            5: .int64("activeDeadlineSeconds", .whenPresent),
            6: .string("dnsPolicy"),
            7: .map("nodeSelector", .string),
            8: .string("serviceAccountName"),
            9: .string("serviceAccount"),
            10: .string("nodeName"),
            11: .bool("hostNetwork"),
            12: .bool("hostPID"),
            13: .bool("hostIPC"),
            14: .message("securityContext", podSecurityContext),
            15: .repeated("imagePullSecrets", .message(localObjectReference)),
            16: .string("hostname"),
            17: .string("subdomain"),
            19: .string("schedulerName"),
            20: .repeated("initContainers", .message(container)),
            21: .bool("automountServiceAccountToken", .whenPresent),
            24: .string("priorityClassName"),
            25: .int32("priority", .whenPresent),
            27: .bool("shareProcessNamespace", .whenPresent),
            29: .string("runtimeClassName", .whenPresent),
            30: .bool("enableServiceLinks", .whenPresent),
        ]
    )

    static let podTemplateSpec = ProtobufMessageSchema(
        "PodTemplateSpec",
        [
            1: .message("metadata", objectMeta),
            2: .message("spec", podSpec),
        ]
    )

    // MARK: apps/v1

    static let deploymentStrategy = ProtobufMessageSchema(
        "DeploymentStrategy",
        [
            1: .string("type"),
            2: .message(
                "rollingUpdate",
                ProtobufMessageSchema(
                    "RollingUpdateDeployment",
                    [1: .intOrString("maxUnavailable"), 2: .intOrString("maxSurge")]
                )
            ),
        ]
    )

    static let deploymentCondition = ProtobufMessageSchema(
        "DeploymentCondition",
        [
            1: .string("type", .whenPresent),
            2: .string("status", .whenPresent),
            6: .time("lastUpdateTime"),
            7: .time("lastTransitionTime"),
            4: .string("reason"),
            5: .string("message"),
        ]
    )

    static let deploymentStatus = ProtobufMessageSchema(
        "DeploymentStatus",
        [
            1: .int64("observedGeneration"),
            2: .int32("replicas"),
            3: .int32("updatedReplicas"),
            7: .int32("readyReplicas"),
            4: .int32("availableReplicas"),
            5: .int32("unavailableReplicas"),
            6: .repeated("conditions", .message(deploymentCondition)),
            8: .int32("collisionCount", .whenPresent),
        ]
    )

    static let deploymentSpec = ProtobufMessageSchema(
        "DeploymentSpec",
        [
            1: .int32("replicas", .whenPresent),
            2: .message("selector", labelSelector),
            3: .message("template", podTemplateSpec),
            4: .message("strategy", deploymentStrategy),
            5: .int32("minReadySeconds"),
            6: .int32("revisionHistoryLimit", .whenPresent),
            7: .bool("paused"),
            9: .int32("progressDeadlineSeconds", .whenPresent),
        ]
    )

    static let deployment = ProtobufMessageSchema(
        "Deployment",
        [
            1: .message("metadata", objectMeta),
            2: .message("spec", deploymentSpec),
            // A new Deployment's status is all zeros; it is dropped then instead of being sent as {}.
            3: .message("status", deploymentStatus, .omitEmpty),
        ]
    )
}
