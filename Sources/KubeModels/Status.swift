import JSONValue

/// `metav1.Status`: how Kubernetes reports a failed request.
public struct Status: Codable, Sendable, Hashable {
    public var kind: String? = "Status"
    public var apiVersion: String? = "v1"
    public var metadata: JSONValue? = .object([:])
    public var status: String?
    public var message: String?
    public var reason: String?
    public var details: StatusDetails?
    public var code: Int?

    public init(
        status: String? = "Failure",
        message: String? = nil,
        reason: String? = nil,
        details: StatusDetails? = nil,
        code: Int? = nil
    ) {
        self.status = status
        self.message = message
        self.reason = reason
        self.details = details
        self.code = code
    }

    /// A 422 `Invalid` status listing field errors the way kube-apiserver words them:
    /// `Canary.flagger.app "podinfo" is invalid: [spec.a: …, spec.b: …]`.
    public static func invalid(kind: String, group: String, name: String, errors: [FieldError]) -> Status {
        let qualified = group.isEmpty ? kind : "\(kind).\(group)"
        return Status(
            message: "\(qualified) \"\(name)\" is invalid: \(errors.aggregateDescription)",
            reason: "Invalid",
            details: StatusDetails(
                name: name,
                group: group,
                kind: kind,
                causes: errors.prefix([FieldError].reportedLimit).map {
                    StatusCause(reason: $0.kind.rawValue, message: $0.causeMessage, field: $0.field)
                }
            ),
            code: 422
        )
    }
}

/// `metav1.StatusDetails`.
public struct StatusDetails: Codable, Sendable, Hashable {
    public var name: String?
    public var group: String?
    public var kind: String?
    public var uid: String?
    public var causes: [StatusCause]?
    public var retryAfterSeconds: Int?

    public init(
        name: String? = nil,
        group: String? = nil,
        kind: String? = nil,
        causes: [StatusCause]? = nil,
        retryAfterSeconds: Int? = nil
    ) {
        self.name = name
        self.group = group
        self.kind = kind
        self.causes = causes
        self.retryAfterSeconds = retryAfterSeconds
    }
}

/// `metav1.StatusCause`: one field-level reason.
public struct StatusCause: Codable, Sendable, Hashable {
    public var reason: String?
    public var message: String?
    public var field: String?

    public init(reason: String? = nil, message: String? = nil, field: String? = nil) {
        self.reason = reason
        self.message = message
        self.field = field
    }
}

extension FieldError {
    /// The error without its field path, as kube-apiserver puts it in a `StatusCause`.
    public var causeMessage: String {
        var copy = self
        copy.field = ""
        return copy.description
    }
}
