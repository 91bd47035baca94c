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

    func get(_ path: String) async throws -> JSONValue? {
        count()
        return try await client.getIfPresent(path)
    }

    func create(_ collection: String, _ object: JSONValue) async throws -> JSONValue {
        count()
        return try await client.create(collection, object)
    }

    func mergePatch(_ path: String, _ patch: JSONValue) async throws -> JSONValue {
        count()
        return try await client.patch(path, patch, type: .merge)
    }

    func update(_ path: String, _ object: JSONValue) async throws -> JSONValue {
        count()
        return try await client.update(path, object)
    }

    func list(_ collection: String) async throws -> [JSONValue] {
        count()
        return try await client.listAll(collection)
    }

    /// Creates the object, or replaces what is there when it differs (keeping the server's fields).
    func apply(
        _ collection: String,
        name: String,
        _ desired: JSONValue,
        same: (JSONValue, JSONValue) -> Bool
    ) async throws
        -> JSONValue
    {
        if let existing = try await get("\(collection)/\(name)") {
            if same(existing, desired) { return existing }
            var merged = desired
            merged.setMember(["metadata", "resourceVersion"], existing["metadata", "resourceVersion"])
            return try await update("\(collection)/\(name)", merged)
        }
        do {
            return try await create(collection, desired)
        } catch let error as KubeAPIError where error.reason == .alreadyExists {
            return try await get("\(collection)/\(name)") ?? desired
        }
    }

    static func deployments(_ namespace: String) -> String { "/apis/apps/v1/namespaces/\(namespace)/deployments" }
    static func services(_ namespace: String) -> String { "/api/v1/namespaces/\(namespace)/services" }
    static func configMaps(_ namespace: String) -> String { "/api/v1/namespaces/\(namespace)/configmaps" }
    static func secrets(_ namespace: String) -> String { "/api/v1/namespaces/\(namespace)/secrets" }
    static func events(_ namespace: String) -> String { "/api/v1/namespaces/\(namespace)/events" }
    static func canaries(_ namespace: String) -> String { "/apis/flagger.app/v1beta1/namespaces/\(namespace)/canaries" }
    static func hpas(_ namespace: String) -> String {
        "/apis/autoscaling/v2/namespaces/\(namespace)/horizontalpodautoscalers"
    }
}
