import AsyncHTTPClient
import Foundation
import JSONValue
import KubeModels
import NIOCore
import NIOHTTP1

/// The PATCH flavours the API server accepts.
public enum PatchType: Sendable, Equatable {
    /// RFC 7396 JSON merge patch.
    case merge
    /// RFC 6902 JSON patch.
    case json
    /// Kubernetes strategic merge patch (built-in kinds only).
    case strategicMerge
    /// Server-side apply, owned by `fieldManager`; `force` takes fields from other managers.
    case apply(fieldManager: String, force: Bool)

    var contentType: String {
        switch self {
        case .merge: return "application/merge-patch+json"
        case .json: return "application/json-patch+json"
        case .strategicMerge: return "application/strategic-merge-patch+json"
        case .apply: return "application/apply-patch+yaml"
        }
    }
}

/// How dependents are deleted with their owner.
public enum PropagationPolicy: String, Sendable {
    case background = "Background"
    case foreground = "Foreground"
    case orphan = "Orphan"
}

extension KubeClient {
    /// POST a new object into a collection; returns the stored object.
    public func create(_ collectionPath: String, _ object: JSONValue) async throws -> JSONValue {
        try await request(.POST, collectionPath, body: object)
    }

    /// PUT an object (its `metadata.resourceVersion` guards against lost updates: a stale one is a 409 Conflict).
    public func update(_ path: String, _ object: JSONValue) async throws -> JSONValue {
        try await request(.PUT, path, body: object)
    }

    /// PUT an object's `status` subresource.
    public func updateStatus(_ path: String, _ object: JSONValue) async throws -> JSONValue {
        try await request(.PUT, path + "/status", body: object)
    }

    /// PATCH an object with `patch` of the given type.
    public func patch(_ path: String, _ patch: JSONValue, type: PatchType) async throws -> JSONValue {
        var target = path
        if case .apply(let fieldManager, let force) = type {
            target += "?fieldManager=\(Self.escape(fieldManager))&force=\(force)"
        }
        return try await request(.PATCH, target, body: patch, contentType: type.contentType)
    }

    /// DELETE an object; returns normally when it is gone or was already gone.
    public func delete(_ path: String, propagation: PropagationPolicy = .background) async throws {
        let options: JSONValue = [
            "kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": .string(propagation.rawValue),
        ]
        do {
            _ = try await request(.DELETE, path, body: options)
        } catch let error as KubeAPIError where error.reason == .notFound {
            return
        }
    }

    /// Read-modify-write with optimistic concurrency: GETs the object, applies `change`, PUTs it back with the
    /// resourceVersion it read, and starts over on a 409 Conflict, up to `attempts` times.
    public func modify(
        _ path: String,
        attempts: Int = 5,
        change: (inout JSONValue) throws -> Void
    ) async throws -> JSONValue {
        var attempt = 0
        while true {
            attempt += 1
            var object = try await get(path)
            try change(&object)
            do {
                return try await update(path, object)
            } catch let error as KubeAPIError where error.reason == .conflict && attempt < attempts {
                continue
            }
        }
    }

    /// The failures worth retrying for a request that is safe to repeat: 429, 5xx and an unreachable server.
    public static let retriable: Set<KubeAPIError.Reason> = [.tooManyRequests, .serverError, .unreachable]

    /// Runs `operation`, retrying the failures in `reasons` (by default ``retriable``; a 429 after its
    /// `Retry-After`) with exponential backoff from `initialDelay`, at most `attempts` times in all.
    public func retrying<T: Sendable>(
        attempts: Int = 4,
        initialDelay: Duration = .milliseconds(200),
        on reasons: Set<KubeAPIError.Reason> = KubeClient.retriable,
        _ operation: () async throws -> T
    ) async throws -> T {
        var delay = initialDelay
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await operation()
            } catch let error as KubeAPIError
                where attempt < attempts
                && reasons.contains(error.reason)
            {
                let wait = error.retryAfterSeconds.map { Duration.seconds($0) } ?? delay
                try await Task.sleep(for: min(wait, .seconds(30)))
                delay *= 2
            }
        }
    }
}
