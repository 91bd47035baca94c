import JSONValue

/// One column of a `meta.k8s.io/v1` Table (`TableColumnDefinition`).
public struct TableColumn: Sendable, Hashable {
    /// The header kubectl prints, upper-cased (`Name`, `Up-to-date`).
    public var name: String
    /// The OpenAPI type of the cells: `string`, `integer`, `number`, `boolean` or `date`.
    public var type: String
    /// A format hint; `name` marks the column kubectl prefixes with `kind.group/` when several kinds are printed.
    public var format: String
    /// What the column shows.
    public var description: String
    /// `0` for the default view, higher for `-o wide` only.
    public var priority: Int

    /// A column definition.
    public init(name: String, type: String, format: String = "", description: String = "", priority: Int = 0) {
        self.name = name
        self.type = type
        self.format = format
        self.description = description
        self.priority = priority
    }

    /// The column as the apiserver serialises it; every member is always present.
    public var json: JSONValue {
        [
            "name": .string(name), "type": .string(type), "format": .string(format),
            "description": .string(description), "priority": .int(Int64(priority)),
        ]
    }
}

/// One entry of a CRD version's `additionalPrinterColumns`.
public struct PrinterColumn: Sendable, Hashable {
    /// The header.
    public var name: String
    /// `string`, `integer`, `number`, `boolean` or `date`.
    public var type: String
    /// The optional format hint.
    public var format: String
    /// The optional description; empty means the apiserver's generated one.
    public var description: String
    /// `0` for the default view, higher for `-o wide` only.
    public var priority: Int
    /// The JSONPath evaluated against each object, e.g. `.status.phase`.
    public var jsonPath: String

    /// A printer column.
    public init(
        name: String,
        type: String,
        format: String = "",
        description: String = "",
        priority: Int = 0,
        jsonPath: String
    ) {
        self.name = name
        self.type = type
        self.format = format
        self.description = description
        self.priority = priority
        self.jsonPath = jsonPath
    }
}

/// What each row's `object` holds, from the `includeObject` query parameter of a Table request.
public enum TableIncludeObject: String, Sendable, Hashable {
    /// `None`: rows carry no object.
    case none = "None"
    /// `Metadata` (the default): a `PartialObjectMetadata` with the object's full metadata.
    case metadata = "Metadata"
    /// `Object`: the whole object, as `kubectl get --sort-by` asks.
    case object = "Object"
}

/// Column descriptions, worded as the apiserver's Go API documentation words them.
enum ColumnDoc {
    static let name =
        "Name must be unique within a namespace. Is required when creating resources, although some resources may "
        + "allow a client to request the generation of an appropriate name automatically. Name is primarily intended "
        + "for creation idempotence and configuration definition. Cannot be updated. More info: "
        + "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
    static let creationTimestamp =
        "CreationTimestamp is a timestamp representing the server time when this object was created. It is not "
        + "guaranteed to be set in happens-before order across separate operations. Clients may not set this value. "
        + "It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. "
        + "More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
    static let containers = "Names of each container in the template."
    static let images = "Images referenced by each container in the template."
    static let webhooks = "Webhooks indicates the number of webhooks registered in this configuration"

    static let podIP =
        "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated."
    static let nodeName =
        "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by "
        + "the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes "
        + "responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod "
        + "to be scheduled on a specific node. "
        + "https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename"
    static let nominatedNodeName =
        "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled "
        + "right away as preemption victims receive their graceful termination periods. This field does not "
        + "guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if "
        + "other nodes become available sooner. Scheduler may also decide to give the resources on this node to a "
        + "higher priority pod that is created after preemption. As a result, this field may be different than "
        + "PodSpec.nodeName when the pod is scheduled."
    static let readinessGates =
        "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its "
        + "containers are ready AND all conditions specified in the readiness gates have status equal to \"True\" "
        + "More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates"

    static let serviceType =
        "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, "
        + "ClusterIP, NodePort, and LoadBalancer. \"ClusterIP\" allocates a cluster-internal IP address for "
        + "load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by "
        + "manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is \"None\", no virtual "
        + "IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. "
        + "\"NodePort\" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as "
        + "the clusterIP. \"LoadBalancer\" builds on NodePort and creates an external load-balancer (if supported in "
        + "the current cloud) which routes to the same endpoints as the clusterIP. \"ExternalName\" aliases this "
        + "service to the specified externalName. Several other fields do not apply to ExternalName services. More "
        + "info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types"
    static let clusterIP =
        "clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified "
        + "manually, is in-range (as per system configuration), and is not in use, it will be allocated to the "
        + "service; otherwise creation of the service will fail. This field may not be changed through updates "
        + "unless the type field is also being changed to ExternalName (which requires this field to be blank) or "
        + "the type field is being changed from ExternalName (in which case this field may optionally be specified, "
        + "as describe above).  Valid values are \"None\", empty string (\"\"), or a valid IP address. Setting this "
        + "to \"None\" makes a \"headless service\" (no virtual IP), which is useful when direct endpoint connections "
        + "are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and "
        + "LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. "
        + "This field will be wiped when updating a Service to type ExternalName. More info: "
        + "https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies"
    static let externalIPs =
        "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this "
        + "service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic "
        + "arrives at a node with this IP.  A common example is external load-balancers that are not part of the "
        + "Kubernetes system."
    static let servicePorts =
        "The list of ports that are exposed by this service. More info: "
        + "https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies"
    static let serviceSelector =
        "Route service traffic to pods with label keys and values matching this selector. If empty or not present, "
        + "the service is assumed to have an external process managing its endpoints, which Kubernetes will not "
        + "modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More "
        + "info: https://kubernetes.io/docs/concepts/services-networking/service/"

    static let configMapData =
        "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. "
        + "Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not "
        + "overlap with the keys in the BinaryData field, this is enforced during validation process."
    static let secretType =
        "Used to facilitate programmatic handling of secret data. More info: "
        + "https://kubernetes.io/docs/concepts/configuration/secret/#secret-types"
    static let secretData =
        "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The "
        + "serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly "
        + "non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4"
    static let serviceAccountSecrets =
        "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are "
        + "allowed to use. Pods are only limited to this list if this service account has a "
        + "\"kubernetes.io/enforce-mountable-secrets\" annotation set to \"true\". The "
        + "\"kubernetes.io/enforce-mountable-secrets\" annotation is deprecated since v1.32. Prefer separate "
        + "namespaces to isolate access to mounted secrets. This field should not be used to find auto-generated "
        + "service account token secrets for use outside of pods. Instead, tokens can be requested directly using "
        + "the TokenRequest API, or service account token secrets can be manually created. More info: "
        + "https://kubernetes.io/docs/concepts/configuration/secret"

    static let deploymentUpdated =
        "Total number of non-terminated pods targeted by this deployment that have the desired template spec."
    static let deploymentAvailable =
        "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."
    static let deploymentSelector =
        "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by "
        + "this deployment."

    static let daemonSetDesired =
        "The total number of nodes that should be running the daemon pod (including nodes correctly running the "
        + "daemon pod). More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/"
    static let daemonSetCurrent =
        "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod. More "
        + "info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/"
    static let daemonSetReady =
        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running "
        + "and ready."
    static let daemonSetUpdated = "The total number of nodes that are running updated daemon pod"
    static let daemonSetAvailable =
        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running "
        + "and available (ready for at least spec.minReadySeconds)"
    static let nodeSelector =
        "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a "
        + "node's labels for the pod to be scheduled on that node. More info: "
        + "https://kubernetes.io/docs/concepts/configuration/assign-pod-node/"
    static let daemonSetSelector =
        "A label query over pods that are managed by the daemon set. Must match in order to be controlled. If empty, "
        + "defaulted to labels on Pod template. More info: "
        + "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors"

    static let leaseHolder =
        "holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is "
        + "used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field."

    static let hpaReference =
        "scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be "
        + "collected, as well as to actually change the replica count."
    static let hpaMetrics =
        "metrics contains the specifications for which to use to calculate the desired replica count (the maximum "
        + "replica count across all metrics will be used).  The desired replica count is calculated multiplying the "
        + "ratio between the target value and the current value by the current number of pods.  Ergo, metrics used "
        + "must decrease as the pod count is increased, and vice-versa.  See the individual metric source types for "
        + "more information about how each type of metric must respond."
    static let hpaMinReplicas =
        "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.  It "
        + "defaults to 1 pod.  minReplicas is allowed to be 0 if the alpha feature gate HPAScaleToZero is enabled and "
        + "at least one Object or External metric is configured.  Scaling is active as long as at least one metric "
        + "value is available."
    static let hpaMaxReplicas =
        "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It cannot "
        + "be less that minReplicas."
    static let hpaCurrentReplicas =
        "currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the "
        + "autoscaler."

    static let eventLastSeen = "The time at which the most recent occurrence of this event was recorded."
    static let eventType = "Type of this event (Normal, Warning), new types could be added in the future"
    static let eventReason =
        "This should be a short, machine understandable string that gives the reason for the transition into the "
        + "object's current status."
    static let eventObject = "The object that this event is about."
    static let eventSubobject =
        "If referring to a piece of an object instead of an entire object, this string should contain a valid "
        + "JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object "
        + "reference is to a container within a pod, this would take on a value like: \"spec.containers{name}\" "
        + "(where \"name\" refers to the name of the container that triggered the event) or if no container name is "
        + "specified \"spec.containers[2]\" (container with index 2 in this pod). This syntax is chosen only to have "
        + "some well-defined way of referencing a part of an object."
    static let eventSource = "The component reporting this event. Should be a short machine understandable string."
    static let eventMessage = "A human-readable description of the status of this operation."
    static let eventFirstSeen =
        "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)"
    static let eventCount = "The number of times this event has occurred."
}
