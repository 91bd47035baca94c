import JSONValue

/// A failed call to the Kubernetes API, as the dashboard and the release commands tell it to a person.
public struct ClusterError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// 403: the user's RBAC refuses the call.
        case forbidden
        /// 401: the credentials were not accepted.
        case unauthorized
        case notFound
        case conflict
        /// 410: the watch's resourceVersion is too old; list again.
        case gone
        case invalid
        /// No answer: the API server cannot be reached.
        case unreachable
        case other
    }

    public var kind: Kind
    /// The HTTP status, or 0 when there was no answer.
    public var code: Int
    /// The API server's message (its `Status.message`), or what went wrong on the way.
    public var message: String

    public init(kind: Kind, code: Int, message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// One event of a watch.
public struct ClusterWatchEvent: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
        case bookmark = "BOOKMARK"
    }

    public var kind: Kind
    public var object: JSONValue

    public init(kind: Kind, object: JSONValue) {
        self.kind = kind
        self.object = object
    }
}

/// The Kubernetes calls the dashboard and the release commands make, as the user: get, list, watch and merge
/// patch. Every error thrown is a ``ClusterError``.
///
/// One adapter (``KubeClientCluster``) maps it onto the client; tests give a fake.
public protocol DashboardCluster: Sendable {
    /// GETs one object.
    func get(_ path: String) async throws -> JSONValue
    /// LISTs a collection (every page), returning the items and the list's resourceVersion to watch from.
    func list(_ path: String, fieldSelector: String?) async throws -> (items: [JSONValue], resourceVersion: String?)
    /// Watches a collection from `resourceVersion`, calling `onEvent` for each event, until the server ends the
    /// watch (normal return) or it fails (``ClusterError``, `.gone` when the version is too old).
    func watch(
        _ path: String,
        resourceVersion: String?,
        fieldSelector: String?,
        onEvent: (ClusterWatchEvent) async throws -> Void
    ) async throws
    /// Applies an RFC 7396 merge patch to one object and returns the stored object.
    func mergePatch(_ path: String, _ patch: JSONValue) async throws -> JSONValue
}
