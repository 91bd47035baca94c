import JSONValue

// Typed models of the workload objects the worker reads and writes. Each models the members Fledge uses and keeps
// every other member (``PreservesUnknownFields``), so writing one back changes nothing Fledge did not mean to.

/// `apps/v1` `Deployment`.
public struct Deployment: KubeResource, Hashable, PreservesUnknownFields {
    public static let group = "apps"
    public static let version = "v1"
    public static let kind = "Deployment"
    public static let plural = "deployments"
    public static let namespaced = true

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: DeploymentSpec?
    public var status: DeploymentStatus?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case apiVersion, kind, metadata, spec, status }

    public init(metadata: ObjectMeta, spec: DeploymentSpec? = nil) {
        apiVersion = Self.apiVersion()
        kind = Self.kind
        self.metadata = metadata
        self.spec = spec
    }
}

/// `spec` of a Deployment.
public struct DeploymentSpec: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var replicas: Int32?
    public var selector: LabelSelector?
    public var template: PodTemplateSpec?
    public var strategy: JSONValue?
    public var minReadySeconds: Int32?
    public var progressDeadlineSeconds: Int32?
    public var revisionHistoryLimit: Int32?
    public var paused: Bool?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case replicas, selector, template, strategy, minReadySeconds, progressDeadlineSeconds, revisionHistoryLimit
        case paused
    }

    public init(replicas: Int32? = nil, selector: LabelSelector? = nil, template: PodTemplateSpec? = nil) {
        self.replicas = replicas
        self.selector = selector
        self.template = template
    }
}

/// `status` of a Deployment, as the deployment controller writes it.
public struct DeploymentStatus: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var observedGeneration: Int64?
    public var replicas: Int32?
    public var updatedReplicas: Int32?
    public var readyReplicas: Int32?
    public var availableReplicas: Int32?
    public var unavailableReplicas: Int32?
    public var conditions: [Condition]?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case observedGeneration, replicas, updatedReplicas, readyReplicas, availableReplicas, unavailableReplicas
        case conditions
    }

    public init() {}
}

/// A status condition (`type`, `status`, `reason`, `message`, times).
public struct Condition: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var type: String
    public var status: String
    public var reason: String?
    public var message: String?
    public var lastUpdateTime: String?
    public var lastTransitionTime: String?
    public var observedGeneration: Int64?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case type, status, reason, message, lastUpdateTime, lastTransitionTime, observedGeneration
    }

    public init(type: String, status: String, reason: String? = nil, message: String? = nil) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
    }
}

/// `metav1.LabelSelector`.
public struct LabelSelector: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var matchLabels: [String: String]?
    public var matchExpressions: [JSONValue]?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case matchLabels, matchExpressions }

    public init(matchLabels: [String: String]? = nil) { self.matchLabels = matchLabels }
}

/// `PodTemplateSpec`: the pods a workload runs.
public struct PodTemplateSpec: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var metadata: ObjectMeta?
    public var spec: PodSpec?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case metadata, spec }

    public init(metadata: ObjectMeta? = nil, spec: PodSpec? = nil) {
        self.metadata = metadata
        self.spec = spec
    }
}

/// `PodSpec`, to the depth Fledge reads: containers (ports, env and envFrom references) and volumes (ConfigMap,
/// Secret and projected sources).
public struct PodSpec: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var containers: [Container]?
    public var initContainers: [Container]?
    public var volumes: [Volume]?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case containers, initContainers, volumes }

    public init(containers: [Container]? = nil) { self.containers = containers }
}

/// A container of a pod.
public struct Container: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var name: String?
    public var image: String?
    public var ports: [ContainerPort]?
    public var env: [EnvVar]?
    public var envFrom: [EnvFromSource]?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case name, image, ports, env, envFrom }

    public init(name: String, image: String) {
        self.name = name
        self.image = image
    }
}

/// A port a container declares.
public struct ContainerPort: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var name: String?
    public var containerPort: Int32?
    public var `protocol`: String?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case name, containerPort, `protocol` }

    public init() {}
}

/// An environment variable, possibly from a ConfigMap or Secret key.
public struct EnvVar: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var name: String?
    public var value: String?
    public var valueFrom: EnvVarSource?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case name, value, valueFrom }

    public init() {}
}

/// Where an environment variable's value comes from.
public struct EnvVarSource: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var configMapKeyRef: KeyReference?
    public var secretKeyRef: KeyReference?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case configMapKeyRef, secretKeyRef }

    public init() {}
}

/// A key of a named ConfigMap or Secret.
public struct KeyReference: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var name: String?
    public var key: String?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case name, key }

    public init() {}
}

/// Environment variables from a whole ConfigMap or Secret.
public struct EnvFromSource: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var prefix: String?
    public var configMapRef: NameReference?
    public var secretRef: NameReference?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case prefix, configMapRef, secretRef }

    public init() {}
}

/// A reference to an object by name in the same namespace.
public struct NameReference: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var name: String?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case name }

    public init(name: String?) { self.name = name }
}

/// A pod volume; Fledge reads ConfigMap, Secret and projected sources.
public struct Volume: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var name: String?
    public var configMap: NameReference?
    public var secret: SecretVolumeSource?
    public var projected: ProjectedVolumeSource?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case name, configMap, secret, projected }

    public init() {}
}

/// A Secret volume (named by `secretName`).
public struct SecretVolumeSource: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var secretName: String?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case secretName }

    public init() {}
}

/// A projected volume's sources.
public struct ProjectedVolumeSource: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var sources: [VolumeProjection]?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case sources }

    public init() {}
}

/// One source of a projected volume.
public struct VolumeProjection: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var configMap: NameReference?
    public var secret: NameReference?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case configMap, secret }

    public init() {}
}

/// `autoscaling/v2` `HorizontalPodAutoscaler`.
public struct HorizontalPodAutoscaler: KubeResource, Hashable, PreservesUnknownFields {
    public static let group = "autoscaling"
    public static let version = "v2"
    public static let kind = "HorizontalPodAutoscaler"
    public static let plural = "horizontalpodautoscalers"
    public static let namespaced = true

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: HPASpec?
    public var status: JSONValue?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case apiVersion, kind, metadata, spec, status }

    public init(metadata: ObjectMeta, spec: HPASpec?) {
        apiVersion = Self.apiVersion()
        kind = Self.kind
        self.metadata = metadata
        self.spec = spec
    }
}

/// `spec` of an HPA.
public struct HPASpec: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var scaleTargetRef: ScaleTargetReference?
    public var minReplicas: Int32?
    public var maxReplicas: Int32?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case scaleTargetRef, minReplicas, maxReplicas }

    public init() {}
}

/// What an HPA scales.
public struct ScaleTargetReference: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var apiVersion: String?
    public var kind: String?
    public var name: String?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case apiVersion, kind, name }

    public init() {}
}
