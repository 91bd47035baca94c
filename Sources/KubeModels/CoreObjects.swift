import JSONValue

/// `v1` `Service` (named so, not `Service`, beside ServiceLifecycle's protocol).
public struct KubeService: KubeResource, Hashable, PreservesUnknownFields {
    public static let group = ""
    public static let version = "v1"
    public static let kind = "Service"
    public static let plural = "services"
    public static let namespaced = true

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: ServiceSpec?
    public var status: JSONValue?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case apiVersion, kind, metadata, spec, status }

    public init(metadata: ObjectMeta, spec: ServiceSpec?) {
        apiVersion = Self.apiVersion()
        kind = Self.kind
        self.metadata = metadata
        self.spec = spec
    }
}

/// `spec` of a Service.
public struct ServiceSpec: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var type: String?
    public var selector: [String: String]?
    public var ports: [ServicePort]?
    public var clusterIP: String?
    public var trafficDistribution: String?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case type, selector, ports, clusterIP, trafficDistribution
    }

    public init(type: String? = nil, selector: [String: String]? = nil, ports: [ServicePort]? = nil) {
        self.type = type
        self.selector = selector
        self.ports = ports
    }
}

/// A port of a Service.
public struct ServicePort: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var name: String?
    public var port: Int32?
    public var targetPort: IntOrString?
    public var `protocol`: String?
    public var appProtocol: String?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case name, port, targetPort, `protocol`, appProtocol }

    public init(name: String?, port: Int32, targetPort: IntOrString?, protocol: String? = "TCP") {
        self.name = name
        self.port = port
        self.targetPort = targetPort
        self.protocol = `protocol`
    }
}

/// `v1` `ConfigMap`.
public struct ConfigMap: KubeResource, Hashable, PreservesUnknownFields {
    public static let group = ""
    public static let version = "v1"
    public static let kind = "ConfigMap"
    public static let plural = "configmaps"
    public static let namespaced = true
    public static let cacheable = false

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var data: [String: String]?
    public var binaryData: [String: String]?
    public var immutable: Bool?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case apiVersion, kind, metadata, data, binaryData, immutable
    }

    public init(metadata: ObjectMeta, data: [String: String]? = nil) {
        apiVersion = Self.apiVersion()
        kind = Self.kind
        self.metadata = metadata
        self.data = data
    }
}

/// `v1` `Secret`.
public struct Secret: KubeResource, Hashable, PreservesUnknownFields {
    public static let group = ""
    public static let version = "v1"
    public static let kind = "Secret"
    public static let plural = "secrets"
    public static let namespaced = true
    public static let cacheable = false

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    /// Base64 values, as the API serves them.
    public var data: [String: String]?
    public var stringData: [String: String]?
    public var type: String?
    public var immutable: Bool?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case apiVersion, kind, metadata, data, stringData, type, immutable
    }

    public init(metadata: ObjectMeta, data: [String: String]? = nil) {
        apiVersion = Self.apiVersion()
        kind = Self.kind
        self.metadata = metadata
        self.data = data
    }
}

/// `v1` `Event`.
public struct Event: KubeResource, Hashable, PreservesUnknownFields {
    public static let group = ""
    public static let version = "v1"
    public static let kind = "Event"
    public static let plural = "events"
    public static let namespaced = true

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var involvedObject: ObjectReference
    public var reason: String?
    public var message: String?
    public var type: String?
    public var count: Int32?
    public var firstTimestamp: String?
    public var lastTimestamp: String?
    public var source: EventSource?
    public var reportingComponent: String?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case apiVersion, kind, metadata, involvedObject, reason, message, type, count, firstTimestamp, lastTimestamp
        case source, reportingComponent
    }

    public init(metadata: ObjectMeta, involvedObject: ObjectReference) {
        apiVersion = Self.apiVersion()
        kind = Self.kind
        self.metadata = metadata
        self.involvedObject = involvedObject
    }
}

/// What an Event is about.
public struct ObjectReference: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var apiVersion: String?
    public var kind: String?
    public var name: String?
    public var namespace: String?
    public var uid: String?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case apiVersion, kind, name, namespace, uid }

    public init(apiVersion: String?, kind: String?, name: String?, namespace: String?, uid: String?) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.uid = uid
    }
}

/// Who reported an Event.
public struct EventSource: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var component: String?
    public var host: String?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case component, host }

    public init(component: String?) { self.component = component }
}

/// `coordination.k8s.io/v1` `Lease`.
public struct Lease: KubeResource, Hashable, PreservesUnknownFields {
    public static let group = "coordination.k8s.io"
    public static let version = "v1"
    public static let kind = "Lease"
    public static let plural = "leases"
    public static let namespaced = true

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: LeaseSpec?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case apiVersion, kind, metadata, spec }

    public init(metadata: ObjectMeta, spec: LeaseSpec) {
        apiVersion = Self.apiVersion()
        kind = Self.kind
        self.metadata = metadata
        self.spec = spec
    }
}

/// `spec` of a Lease.
public struct LeaseSpec: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var holderIdentity: String?
    /// Lenient: another writer may have put anything there.
    public var leaseDurationSeconds: LenientInt?
    public var acquireTime: String?
    public var renewTime: String?
    public var leaseTransitions: LenientInt?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case holderIdentity, leaseDurationSeconds, acquireTime, renewTime, leaseTransitions
    }

    public init() {}
}

/// A page of a LIST.
public struct KubeList<Item: Codable & Sendable>: Codable, Sendable {
    public var items: [Item]
    public var metadata: ListMeta?

    public init(items: [Item], metadata: ListMeta? = nil) {
        self.items = items
        self.metadata = metadata
    }
}

/// `metadata` of a list.
public struct ListMeta: Codable, Sendable, Hashable {
    public var resourceVersion: String?
    public var `continue`: String?
}
