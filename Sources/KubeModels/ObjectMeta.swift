import JSONValue

/// `metav1.ObjectMeta`: the members every Kubernetes object has under `metadata`.
public struct ObjectMeta: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var name: String?
    public var generateName: String?
    public var namespace: String?
    public var uid: String?
    public var resourceVersion: String?
    public var generation: Int64?
    public var creationTimestamp: String?
    public var deletionTimestamp: String?
    public var deletionGracePeriodSeconds: Int64?
    public var labels: [String: String]?
    public var annotations: [String: String]?
    public var ownerReferences: [OwnerReference]?
    public var finalizers: [String]?
    public var managedFields: [JSONValue]?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case name, generateName, namespace, uid, resourceVersion, generation, creationTimestamp, deletionTimestamp
        case deletionGracePeriodSeconds, labels, annotations, ownerReferences, finalizers, managedFields
    }

    public init(name: String? = nil, namespace: String? = nil) {
        self.name = name
        self.namespace = namespace
    }
}

/// `metav1.OwnerReference`.
public struct OwnerReference: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var uid: String
    public var controller: Bool?
    public var blockOwnerDeletion: Bool?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case apiVersion, kind, name, uid, controller, blockOwnerDeletion
    }

    public init(apiVersion: String, kind: String, name: String, uid: String, controller: Bool? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
    }
}

/// A group, version and kind.
public struct GroupVersionKind: Codable, Sendable, Hashable {
    public var group: String
    public var version: String
    public var kind: String

    public init(group: String, version: String, kind: String) {
        self.group = group
        self.version = version
        self.kind = kind
    }
}

/// A group, version and resource (plural name).
public struct GroupVersionResource: Codable, Sendable, Hashable {
    public var group: String
    public var version: String
    public var resource: String

    public init(group: String, version: String, resource: String) {
        self.group = group
        self.version = version
        self.resource = resource
    }
}
