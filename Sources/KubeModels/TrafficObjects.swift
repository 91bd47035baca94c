import JSONValue

/// SMI `TrafficSplit` (`split.smi-spec.io` v1alpha1, v1alpha2 or v1alpha3: one model, the version given per call).
///
/// Weights are ``LenientInt``: v1alpha1 writes them as quantity strings, later versions as integers, and whoever may
/// edit the object may write anything the CRD lets through.
public struct TrafficSplit: KubeResource, Hashable, PreservesUnknownFields {
    public static let group = "split.smi-spec.io"
    public static let version = "v1alpha1"
    public static let kind = "TrafficSplit"
    public static let plural = "trafficsplits"
    public static let namespaced = true

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: TrafficSplitSpec?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case apiVersion, kind, metadata, spec }

    public init(metadata: ObjectMeta, spec: TrafficSplitSpec, version: String = Self.version) {
        apiVersion = Self.apiVersion(version)
        kind = Self.kind
        self.metadata = metadata
        self.spec = spec
    }
}

/// `spec` of a TrafficSplit.
public struct TrafficSplitSpec: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var service: String?
    public var backends: [TrafficSplitBackend]?
    public var matches: [JSONValue]?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case service, backends, matches }

    public init(service: String?, backends: [TrafficSplitBackend]) {
        self.service = service
        self.backends = backends
    }
}

/// One backend of a TrafficSplit.
public struct TrafficSplitBackend: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var service: String?
    public var weight: LenientInt?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case service, weight }

    public init(service: String, weight: LenientInt) {
        self.service = service
        self.weight = weight
    }
}

/// Gateway API `HTTPRoute` (`gateway.networking.k8s.io` v1 or v1beta1: one model, the version given per call).
public struct HTTPRoute: KubeResource, Hashable, PreservesUnknownFields {
    public static let group = "gateway.networking.k8s.io"
    public static let version = "v1"
    public static let kind = "HTTPRoute"
    public static let plural = "httproutes"
    public static let namespaced = true

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: HTTPRouteSpec?
    public var status: JSONValue?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case apiVersion, kind, metadata, spec, status }

    public init(metadata: ObjectMeta, spec: HTTPRouteSpec, version: String = Self.version) {
        apiVersion = Self.apiVersion(version)
        kind = Self.kind
        self.metadata = metadata
        self.spec = spec
    }
}

/// `spec` of an HTTPRoute. Matches, filters and parent references are kept as JSON: Fledge writes them from the
/// Canary's spec and compares them whole.
public struct HTTPRouteSpec: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var parentRefs: [JSONValue]?
    public var hostnames: [String]?
    public var rules: [HTTPRouteRule]?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case parentRefs, hostnames, rules }

    public init() {}
}

/// One rule of an HTTPRoute.
public struct HTTPRouteRule: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var matches: [JSONValue]?
    public var filters: [JSONValue]?
    public var backendRefs: [HTTPBackendReference]?
    public var timeouts: JSONValue?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case matches, filters, backendRefs, timeouts }

    public init() {}
}

/// A backend of an HTTPRoute rule.
public struct HTTPBackendReference: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var group: String?
    public var kind: String?
    public var name: String?
    public var namespace: String?
    public var port: LenientInt?
    public var weight: LenientInt?
    public var filters: [JSONValue]?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case group, kind, name, namespace, port, weight, filters }

    public init(name: String) { self.name = name }
}
