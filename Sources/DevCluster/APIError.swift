import JSONValue
import KubeModels

/// A failed request, carried as the `Status` kube-apiserver would send, worded the same so kubectl prints the same
/// messages.
public struct APIError: Error, Sendable {
    public var status: Status

    public init(_ status: Status) { self.status = status }

    public init(code: Int, reason: String, message: String, details: StatusDetails? = nil) {
        status = Status(message: message, reason: reason, details: details, code: code)
    }

    public var code: Int { status.code ?? 500 }

    static func notFound(_ type: ResourceType, _ name: String) -> APIError {
        APIError(
            code: 404,
            reason: "NotFound",
            message: "\(type.qualifiedResource) \"\(name)\" not found",
            details: StatusDetails(name: name, group: type.group, kind: type.resource)
        )
    }

    static func namespaceNotFound(_ namespace: String) -> APIError {
        APIError(
            code: 404,
            reason: "NotFound",
            message: "namespaces \"\(namespace)\" not found",
            details: StatusDetails(name: namespace, group: "", kind: "namespaces")
        )
    }

    static func alreadyExists(_ type: ResourceType, _ name: String) -> APIError {
        APIError(
            code: 409,
            reason: "AlreadyExists",
            message: "\(type.qualifiedResource) \"\(name)\" already exists",
            details: StatusDetails(name: name, group: type.group, kind: type.resource)
        )
    }

    static func conflict(_ type: ResourceType, _ name: String) -> APIError {
        APIError(
            code: 409,
            reason: "Conflict",
            message: "Operation cannot be fulfilled on \(type.qualifiedResource) \"\(name)\": the object has been "
                + "modified; please apply your changes to the latest version and try again",
            details: StatusDetails(name: name, group: type.group, kind: type.resource)
        )
    }

    static func invalid(_ type: ResourceType, _ name: String, _ errors: [FieldError]) -> APIError {
        APIError(Status.invalid(kind: type.kind, group: type.group, name: name, errors: errors))
    }

    static func badRequest(_ message: String) -> APIError {
        APIError(code: 400, reason: "BadRequest", message: message)
    }

    static func forbidden(_ type: ResourceType, _ name: String, _ why: String) -> APIError {
        APIError(
            code: 403,
            reason: "Forbidden",
            message: "\(type.qualifiedResource) \"\(name)\" is forbidden: \(why)",
            details: StatusDetails(name: name, group: type.group, kind: type.resource)
        )
    }

    static let notFoundPath = APIError(
        code: 404,
        reason: "NotFound",
        message: "the server could not find the requested resource"
    )

    static let methodNotAllowed = APIError(
        code: 405,
        reason: "MethodNotAllowed",
        message: "the server does not allow this method on the requested resource"
    )

    static func unsupportedMediaType(_ contentType: String, accepted: [String]) -> APIError {
        APIError(
            code: 415,
            reason: "UnsupportedMediaType",
            message: "the body of the request was in an unknown format - accepted media types include: "
                + accepted.joined(separator: ", ")
        )
    }

    static func expired(requested: Int64, current: Int64) -> APIError {
        APIError(
            code: 410,
            reason: "Expired",
            message: "too old resource version: \(requested) (\(current))"
        )
    }

    static func internalError(_ message: String) -> APIError {
        APIError(code: 500, reason: "InternalError", message: "Internal error occurred: \(message)")
    }

    /// The Status as JSON.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
            "message": .string(status.message ?? ""), "reason": .string(status.reason ?? ""),
            "code": .int(Int64(code)),
        ]
        if let details = status.details {
            var detailMembers: [String: JSONValue] = [:]
            if let name = details.name { detailMembers["name"] = .string(name) }
            if let group = details.group { detailMembers["group"] = .string(group) }
            if let kind = details.kind { detailMembers["kind"] = .string(kind) }
            if let uid = details.uid { detailMembers["uid"] = .string(uid) }
            if let retry = details.retryAfterSeconds { detailMembers["retryAfterSeconds"] = .int(Int64(retry)) }
            if let causes = details.causes {
                detailMembers["causes"] = .array(
                    causes.map { cause in
                        var members: [String: JSONValue] = [:]
                        if let reason = cause.reason { members["reason"] = .string(reason) }
                        if let message = cause.message { members["message"] = .string(message) }
                        if let field = cause.field { members["field"] = .string(field) }
                        return .object(members)
                    }
                )
            }
            members["details"] = .object(detailMembers)
        }
        return .object(members)
    }
}
