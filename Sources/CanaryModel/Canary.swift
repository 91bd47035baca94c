import JSONValue
import KubeModels

/// `flagger.app/v1beta1` `Canary`: how a workload is released progressively.
///
/// Every type keeps the members it does not model (``PreservesUnknownFields``), so a Canary decoded with
/// `JSONValueDecoder` and encoded with `JSONValueEncoder` is the same JSON.
public struct Canary: KubeResource, Hashable, PreservesUnknownFields {
    public static let apiVersion = "flagger.app/v1beta1"
    public static let kind = "Canary"
    public static let group = "flagger.app"
    public static let version = "v1beta1"
    public static let plural = "canaries"
    public static let namespaced = true

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: CanarySpec
    public var status: CanaryStatus?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case apiVersion, kind, metadata, spec, status
    }

    public init(metadata: ObjectMeta, spec: CanarySpec, status: CanaryStatus? = nil) {
        self.apiVersion = Self.apiVersion
        self.kind = Self.kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// `name.namespace`, the way Flagger names a canary in events and logs.
    public var qualifiedName: String { "\(metadata.name ?? "").\(metadata.namespace ?? "")" }
}

/// `spec` of a Canary.
public struct CanarySpec: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var provider: String?
    public var metricsServer: String?
    public var targetRef: LocalObjectReference
    public var ingressRef: LocalObjectReference?
    public var routeRef: LocalObjectReference?
    public var upstreamRef: LocalObjectReference?
    public var autoscalerRef: AutoscalerReference?
    public var service: CanaryService?
    public var analysis: CanaryAnalysis?
    /// Deprecated alias of `analysis` from Flagger's early API.
    public var canaryAnalysis: CanaryAnalysis?
    public var progressDeadlineSeconds: Int?
    public var skipAnalysis: Bool?
    public var revertOnDeletion: Bool?
    public var suspend: Bool?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case provider, metricsServer, targetRef, ingressRef, routeRef, upstreamRef, autoscalerRef, service, analysis
        case canaryAnalysis, progressDeadlineSeconds, skipAnalysis, revertOnDeletion, suspend
    }

    public init(targetRef: LocalObjectReference, service: CanaryService? = nil, analysis: CanaryAnalysis? = nil) {
        self.targetRef = targetRef
        self.service = service
        self.analysis = analysis
    }

    /// The analysis in effect: `analysis`, else the deprecated `canaryAnalysis`.
    public var effectiveAnalysis: CanaryAnalysis? { analysis ?? canaryAnalysis }
}

/// A reference to an object in the Canary's namespace.
public struct LocalObjectReference: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var apiVersion: String?
    public var kind: String?
    public var name: String
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case apiVersion, kind, name }

    public init(apiVersion: String? = nil, kind: String? = nil, name: String) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
    }
}

/// `spec.autoscalerRef`.
public struct AutoscalerReference: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var apiVersion: String?
    public var kind: String?
    public var name: String
    public var primaryScalerQueries: [String: String]?
    public var primaryScalerReplicas: ScalerReplicas?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case apiVersion, kind, name, primaryScalerQueries, primaryScalerReplicas
    }
}

/// Replica bounds for the primary's autoscaler.
public struct ScalerReplicas: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var minReplicas: Int?
    public var maxReplicas: Int?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case minReplicas, maxReplicas }
}

/// `spec.service`: the services and routing the controller creates.
public struct CanaryService: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var name: String?
    public var port: Int?
    public var portName: String?
    public var targetPort: IntOrString?
    public var appProtocol: String?
    public var portDiscovery: Bool?
    public var timeout: String?
    public var hosts: [String]?
    public var gateways: [String]?
    public var gatewayRefs: [GatewayReference]?
    public var delegation: Bool?
    public var trafficPolicy: JSONValue?
    public var match: [JSONValue]?
    public var rewrite: JSONValue?
    public var retries: JSONValue?
    public var headers: JSONValue?
    public var mirror: [JSONValue]?
    public var corsPolicy: JSONValue?
    public var backends: [String]?
    public var apex: CustomMetadata?
    public var primary: CustomMetadata?
    public var canary: CustomMetadata?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case name, port, portName, targetPort, appProtocol, portDiscovery, timeout, hosts, gateways, gatewayRefs
        case delegation, trafficPolicy, match, rewrite, retries, headers, mirror, corsPolicy, backends
        case apex, primary, canary
    }

    public init(name: String? = nil, port: Int? = nil) {
        self.name = name
        self.port = port
    }
}

/// A Gateway API parent reference (`service.gatewayRefs[]`).
public struct GatewayReference: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var group: String?
    public var kind: String?
    public var namespace: String?
    public var name: String
    public var sectionName: String?
    public var port: Int?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case group, kind, namespace, name, sectionName, port }
}

/// Labels and annotations added to a generated object.
public struct CustomMetadata: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var labels: [String: String]?
    public var annotations: [String: String]?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case labels, annotations }
}

/// `spec.analysis`: how traffic moves and what is checked at each step.
public struct CanaryAnalysis: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var interval: String?
    public var iterations: Int?
    public var mirror: Bool?
    public var mirrorWeight: Int?
    public var maxWeight: Int?
    public var stepWeight: Int?
    public var stepWeights: [Int]?
    public var stepWeightPromotion: Int?
    public var threshold: Int?
    public var primaryReadyThreshold: Int?
    public var canaryReadyThreshold: Int?
    public var alerts: [CanaryAlert]?
    public var metrics: [CanaryMetric]?
    public var webhooks: [CanaryWebhook]?
    public var match: [JSONValue]?
    public var sessionAffinity: JSONValue?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case interval, iterations, mirror, mirrorWeight, maxWeight, stepWeight, stepWeights, stepWeightPromotion
        case threshold, primaryReadyThreshold, canaryReadyThreshold, alerts, metrics, webhooks, match
        case sessionAffinity
    }

    public init() {}
}

/// `analysis.metrics[]`: one check run at every step.
public struct CanaryMetric: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var name: String
    public var interval: String?
    /// Deprecated: the minimum for `request-success-rate`, the maximum for anything else.
    public var threshold: Double?
    public var thresholdRange: ThresholdRange?
    public var query: String?
    public var templateRef: CrossNamespaceReference?
    public var templateVariables: [String: String]?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case name, interval, threshold, thresholdRange, query, templateRef, templateVariables
    }

    public init(name: String) { self.name = name }
}

/// The range a metric's value must stay within.
public struct ThresholdRange: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var min: Double?
    public var max: Double?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case min, max }

    public init(min: Double? = nil, max: Double? = nil) {
        self.min = min
        self.max = max
    }
}

/// A reference to an object by name, in the given namespace or the Canary's.
public struct CrossNamespaceReference: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var name: String
    public var namespace: String?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case name, namespace }

    public init(name: String, namespace: String? = nil) {
        self.name = name
        self.namespace = namespace
    }
}

/// `analysis.webhooks[]`: an HTTP call made at a point of the release.
public struct CanaryWebhook: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var name: String
    public var type: String?
    public var url: String
    public var timeout: String?
    public var muteAlert: Bool?
    public var retries: Int?
    public var disableTLS: Bool?
    public var metadata: [String: String]?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case name, type, url, timeout, muteAlert, retries, disableTLS, metadata
    }

    public init(name: String, type: String? = nil, url: String) {
        self.name = name
        self.type = type
        self.url = url
    }
}

/// `analysis.alerts[]`.
public struct CanaryAlert: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var name: String
    public var severity: String?
    public var providerRef: CrossNamespaceReference
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case name, severity, providerRef }
}

/// `status` of a Canary, written by the controller.
public struct CanaryStatus: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var phase: CanaryPhase?
    public var failedChecks: Int?
    public var canaryWeight: Int?
    public var iterations: Int?
    public var previousIterations: Int?
    public var trackedConfigs: [String: String]?
    public var lastAppliedSpec: String?
    public var lastPromotedSpec: String?
    public var lastTransitionTime: String?
    public var conditions: [CanaryCondition]?
    public var observedGeneration: Int64?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case phase, failedChecks, canaryWeight, iterations, previousIterations, trackedConfigs, lastAppliedSpec
        case lastPromotedSpec, lastTransitionTime, conditions, observedGeneration
    }

    public init(phase: CanaryPhase? = nil) { self.phase = phase }
}

/// The phases of a Canary, as Flagger names them.
public enum CanaryPhase: String, Codable, Sendable, Hashable, CaseIterable {
    case initializing = "Initializing"
    case initialized = "Initialized"
    case waiting = "Waiting"
    case progressing = "Progressing"
    case waitingPromotion = "WaitingPromotion"
    case promoting = "Promoting"
    case finalising = "Finalising"
    case succeeded = "Succeeded"
    case failed = "Failed"
    case terminating = "Terminating"
    case terminated = "Terminated"

    /// Whether a release is under way: the phases during which `targetRef`, `service.name` and `provider` are frozen.
    public var isReleaseInProgress: Bool {
        switch self {
        case .progressing, .waitingPromotion, .promoting, .finalising: return true
        default: return false
        }
    }
}

/// A condition of a Canary; Flagger writes one, of type `Promoted`.
public struct CanaryCondition: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var type: String
    public var status: String
    public var lastUpdateTime: String?
    public var lastTransitionTime: String?
    public var reason: String?
    public var message: String?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case type, status, lastUpdateTime, lastTransitionTime, reason, message
    }

    public init(type: String, status: String, message: String? = nil, lastTransitionTime: String? = nil) {
        self.type = type
        self.status = status
        self.message = message
        self.lastTransitionTime = lastTransitionTime
    }
}
