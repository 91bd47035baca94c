import Foundation
import JSONValue
import KubeClient
import KubeModels
import Synchronization

/// The worker's door to the API server: the KubeClient calls it makes, counted, with paths built in one place.
public final class KubeAccess: Sendable {
    public let client: KubeClient
    private let calls = Mutex(0)

    public init(client: KubeClient) { self.client = client }

    /// API requests made so far.
    public var callCount: Int { calls.withLock { $0 } }

    func count() { calls.withLock { $0 += 1 } }

    /// One request, counted, retried when worth it: 429 after its Retry-After, 5xx and an unreachable server, three
    /// attempts in all from 100 ms, so a passing API server hiccup does not cost the release a whole interval. Writes
    /// are safe to repeat: patches set absolute values, and a repeated create finds the object (AlreadyExists); updates
    /// retry only 429 (see ``update(_:_:)``).
    func call<T: Sendable>(
        retryingOn reasons: Set<KubeAPIError.Reason> = KubeClient.retriable,
        _ operation: () async throws -> T
    ) async throws -> T {
        try await client.retrying(attempts: 3, initialDelay: .milliseconds(100), on: reasons) {
            count()
            return try await operation()
        }
    }

    func get(_ path: String) async throws -> JSONValue? {
        try await call { try await client.getIfPresent(path) }
    }

    func create(_ collection: String, _ object: JSONValue) async throws -> JSONValue {
        try await call { try await client.create(collection, object) }
    }

    func mergePatch(_ path: String, _ patch: JSONValue) async throws -> JSONValue {
        try await call { try await client.patch(path, patch, type: .merge) }
    }

    /// A PUT is retried only on 429, which the server answers before doing anything: after a 5xx or a lost
    /// response it may have been applied, and a repeat would fail on the resourceVersion it changed.
    func update(_ path: String, _ object: JSONValue) async throws -> JSONValue {
        try await call(retryingOn: [.tooManyRequests]) { try await client.update(path, object) }
    }

    func list(_ collection: String) async throws -> [JSONValue] {
        try await call { try await client.listAll(collection) }
    }

    /// Creates the object, or replaces what is there when it differs (keeping the server's fields).
    func apply(
        _ collection: String,
        name: String,
        _ desired: JSONValue,
        checkExisting: (JSONValue) throws -> Void = { _ in },
        same: (JSONValue, JSONValue) -> Bool
    ) async throws
        -> JSONValue
    {
        try await apply(
            collection,
            name: name,
            desired,
            existing: try await get("\(collection)/\(APIPath.segment(name))"),
            checkExisting: checkExisting,
            same: same
        )
    }

    /// ``apply(_:name:_:same:)`` with the object already read (nil: absent), saving a request. A conflict (someone
    /// wrote in between) or an object created meanwhile is read again and applied again, three attempts in all.
    func apply(
        _ collection: String,
        name: String,
        _ desired: JSONValue,
        existing: JSONValue?,
        checkExisting: (JSONValue) throws -> Void = { _ in },
        same: (JSONValue, JSONValue) -> Bool
    ) async throws
        -> JSONValue
    {
        var current = existing
        var attempt = 0
        while true {
            attempt += 1
            do {
                if let current {
                    // An object found (or created meanwhile by someone else) is updated only when the caller
                    // accepts it: the worker never adopts what it did not create.
                    try checkExisting(current)
                    if same(current, desired) { return current }
                    var merged = desired
                    merged.setMember(["metadata", "resourceVersion"], current["metadata", "resourceVersion"])
                    return try await update("\(collection)/\(APIPath.segment(name))", merged)
                }
                return try await create(collection, desired)
            } catch let error as KubeAPIError
                where attempt < 3 && (error.reason == .conflict || error.reason == .alreadyExists)
            {
                current = try await get("\(collection)/\(APIPath.segment(name))")
            }
        }
    }

    /// Paths of the kinds the worker touches; names are escaped path segments (``APIPath``), so a hostile name can
    /// never reach another path. Without a name, the collection.
    static func deployments(_ namespace: String, _ name: String? = nil) -> String {
        path("apps", "v1", "deployments", namespace, name)
    }
    static func services(_ namespace: String, _ name: String? = nil) -> String {
        path("", "v1", "services", namespace, name)
    }
    static func configMaps(_ namespace: String, _ name: String? = nil) -> String {
        path("", "v1", "configmaps", namespace, name)
    }
    static func secrets(_ namespace: String, _ name: String? = nil) -> String {
        path("", "v1", "secrets", namespace, name)
    }
    static func events(_ namespace: String, _ name: String? = nil) -> String {
        path("", "v1", "events", namespace, name)
    }
    static func canaries(_ namespace: String, _ name: String? = nil) -> String {
        path("flagger.app", "v1beta1", "canaries", namespace, name)
    }
    static func hpas(_ namespace: String, _ name: String? = nil) -> String {
        path("autoscaling", "v2", "horizontalpodautoscalers", namespace, name)
    }

    static func path(
        _ group: String,
        _ version: String,
        _ plural: String,
        _ namespace: String,
        _ name: String?
    )
        -> String
    {
        guard let name else {
            return APIPath.collection(group: group, version: version, plural: plural, namespace: namespace)
        }
        return APIPath.object(group: group, version: version, plural: plural, namespace: namespace, name: name)
    }
}
