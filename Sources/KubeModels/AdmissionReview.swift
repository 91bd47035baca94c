import JSONValue

/// `admission.k8s.io/v1` (or `v1beta1`) `AdmissionReview`: what the API server sends a webhook and what it expects
/// back.
public struct AdmissionReview: Codable, Sendable {
    public var apiVersion: String
    public var kind: String
    public var request: AdmissionRequest?
    public var response: AdmissionResponse?

    public init(apiVersion: String, request: AdmissionRequest? = nil, response: AdmissionResponse? = nil) {
        self.apiVersion = apiVersion
        self.kind = "AdmissionReview"
        self.request = request
        self.response = response
    }

    /// The API versions of AdmissionReview a webhook answers in.
    public static let supportedVersions = ["admission.k8s.io/v1", "admission.k8s.io/v1beta1"]
}

/// The operation an admission request is about.
public enum AdmissionOperation: String, Codable, Sendable {
    case create = "CREATE"
    case update = "UPDATE"
    case delete = "DELETE"
    case connect = "CONNECT"
}

/// `authentication.k8s.io/v1` `UserInfo`.
public struct UserInfo: Codable, Sendable, Hashable {
    public var username: String?
    public var uid: String?
    public var groups: [String]?
    public var extra: [String: [String]]?

    public init(username: String? = nil, uid: String? = nil, groups: [String]? = nil) {
        self.username = username
        self.uid = uid
        self.groups = groups
    }
}

/// `AdmissionRequest`.
public struct AdmissionRequest: Codable, Sendable {
    public var uid: String
    public var kind: GroupVersionKind
    public var resource: GroupVersionResource
    public var subResource: String?
    public var requestKind: GroupVersionKind?
    public var requestResource: GroupVersionResource?
    public var requestSubResource: String?
    public var name: String?
    public var namespace: String?
    public var operation: AdmissionOperation
    public var userInfo: UserInfo
    public var object: JSONValue?
    public var oldObject: JSONValue?
    public var dryRun: Bool?
    public var options: JSONValue?

    public init(
        uid: String,
        kind: GroupVersionKind,
        resource: GroupVersionResource,
        subResource: String? = nil,
        name: String? = nil,
        namespace: String? = nil,
        operation: AdmissionOperation,
        userInfo: UserInfo = UserInfo(),
        object: JSONValue? = nil,
        oldObject: JSONValue? = nil,
        dryRun: Bool? = nil
    ) {
        self.uid = uid
        self.kind = kind
        self.resource = resource
        self.subResource = subResource
        self.name = name
        self.namespace = namespace
        self.operation = operation
        self.userInfo = userInfo
        self.object = object
        self.oldObject = oldObject
        self.dryRun = dryRun
    }
}

/// `AdmissionResponse`.
public struct AdmissionResponse: Codable, Sendable {
    public var uid: String
    public var allowed: Bool
    public var status: Status?
    public var patch: String?
    public var patchType: String?
    public var auditAnnotations: [String: String]?
    public var warnings: [String]?

    public init(
        uid: String,
        allowed: Bool,
        status: Status? = nil,
        patch: String? = nil,
        patchType: String? = nil,
        warnings: [String]? = nil
    ) {
        self.uid = uid
        self.allowed = allowed
        self.status = status
        self.patch = patch
        self.patchType = patchType
        self.warnings = warnings
    }
}
