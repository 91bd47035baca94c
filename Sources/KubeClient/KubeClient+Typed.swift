import JSONValue
import KubeModels

/// The client's typed API: every path derived from the ``KubeResource`` type, every body a model.
extension KubeClient {
    /// The object, or nil when it does not exist.
    public func get<R: KubeResource>(
        _ type: R.Type,
        namespace: String?,
        name: String,
        version: String = R.version
    ) async throws -> R? {
        guard let json = try await getIfPresent(R.path(namespace: namespace, name: name, version: version)) else {
            return nil
        }
        return try Self.decode(R.self, json)
    }

    /// Every object of the collection (following `continue` tokens), in `namespace` or in all when nil.
    public func list<R: KubeResource>(
        _ type: R.Type,
        namespace: String?,
        version: String = R.version,
        labelSelector: String? = nil
    ) async throws -> [R] {
        try await listAll(R.collectionPath(namespace: namespace, version: version), labelSelector: labelSelector).map {
            try Self.decode(R.self, $0)
        }
    }

    /// Creates the object; returns it as stored.
    public func create<R: KubeResource>(_ object: R, version: String = R.version) async throws -> R {
        let stored = try await create(
            R.collectionPath(namespace: object.metadata.namespace, version: version),
            try JSONValueEncoder().encode(object)
        )
        return try Self.decode(R.self, stored)
    }

    /// Replaces the object (its resourceVersion guards against lost updates: a stale one is a 409 Conflict).
    public func update<R: KubeResource>(_ object: R, version: String = R.version) async throws -> R {
        let stored = try await update(object.path(version: version), try JSONValueEncoder().encode(object))
        return try Self.decode(R.self, stored)
    }

    /// Patches the object (or its `subresource`, e.g. `status`).
    public func patch<R: KubeResource>(
        _ type: R.Type,
        namespace: String?,
        name: String,
        _ patch: JSONValue,
        type patchType: PatchType = .merge,
        subresource: String? = nil,
        version: String = R.version
    ) async throws -> R {
        var path = R.path(namespace: namespace, name: name, version: version)
        if let subresource { path += "/" + APIPath.segment(subresource) }
        return try Self.decode(R.self, try await self.patch(path, patch, type: patchType))
    }

    /// Deletes the object; returns normally when it is gone or was already gone.
    public func delete<R: KubeResource>(
        _ type: R.Type,
        namespace: String?,
        name: String,
        version: String = R.version,
        propagation: PropagationPolicy = .background
    ) async throws {
        try await delete(R.path(namespace: namespace, name: name, version: version), propagation: propagation)
    }

    /// Watches the collection (see ``watch(_:resourceVersion:labelSelector:fieldSelector:timeoutSeconds:)``).
    public func watch<R: KubeResource>(
        _ type: R.Type,
        namespace: String?,
        version: String = R.version,
        resourceVersion: String? = nil,
        timeoutSeconds: Int = 300
    ) -> WatchSequence {
        watch(
            R.collectionPath(namespace: namespace, version: version),
            resourceVersion: resourceVersion,
            timeoutSeconds: timeoutSeconds
        )
    }

    /// An object decoded from what the server sent; a body that does not fit the model is a server error naming
    /// the member at fault, never a trap.
    static func decode<R: KubeResource>(_ type: R.Type, _ json: JSONValue) throws -> R {
        do {
            return try JSONValueDecoder().decode(R.self, from: json)
        } catch let error as DecodingError {
            throw KubeAPIError(
                reason: .serverError,
                code: 200,
                message: "\(R.kind) \(json["metadata", "namespace"]?.stringValue ?? "")/"
                    + "\(json["metadata", "name"]?.stringValue ?? ""): \(error.fieldPath): \(error.problem)"
            )
        }
    }
}
