import CanaryModel
import Foundation
import JSONValue
import KubeClient
import KubeModels
import Synchronization

/// The worker's door to the API server: typed reads answered from its informer caches when it has them (so a tick
/// with nothing to do makes no request), writes put back into those caches (so the next read sees them), every
/// request counted.
public final class KubeAccess: Sendable {
    public let client: KubeClient
    /// The informers, when the worker runs them; without (a test ticking by hand) every read is a GET.
    let cache: ClusterCache?
    /// Whether Secrets are read through an informer (``ProgressionConfiguration/watchSecrets``).
    let watchSecrets: Bool
    private let calls = Mutex(0)

    init(client: KubeClient, cache: ClusterCache? = nil, watchSecrets: Bool = false) {
        self.client = client
        self.cache = cache
        self.watchSecrets = watchSecrets
    }

    /// API requests made so far.
    public var callCount: Int { calls.withLock { $0 } }

    func count() { calls.withLock { $0 += 1 } }

    /// One request, counted, retried when worth it: 429 after its Retry-After, 5xx and an unreachable server, three
    /// attempts in all from 100 ms, so a passing API server hiccup does not cost the release a whole interval. Writes
    /// are safe to repeat: patches set absolute values, and a repeated create finds the object (AlreadyExists); updates
    /// retry only 429 (see ``update(_:version:)``).
    func call<T: Sendable>(
        retryingOn reasons: Set<KubeAPIError.Reason> = KubeClient.retriable,
        _ operation: () async throws -> T
    ) async throws -> T {
        try await client.retrying(attempts: 3, initialDelay: .milliseconds(100), on: reasons) {
            count()
            return try await operation()
        }
    }

    // MARK: Typed reads and writes

    /// The object, from the cache when one holds it (or knows it is absent), else by one GET whose answer the cache
    /// keeps. An object the model cannot read is an error naming the member at fault.
    func get<R: KubeResource>(
        _ type: R.Type,
        _ namespace: String,
        _ name: String,
        version: String = R.version,
        cached: Bool = true
    )
        async throws -> R?
    {
        guard cached else {
            return try await call { try await client.get(R.self, namespace: namespace, name: name, version: version) }
        }
        let informer = cache?.informer(R.self, version: version)
        switch informer?.entry(namespace: namespace, name: name) {
        case .present(let object): return object
        case .absent: return nil
        case .unreadable(let why): throw ReleaseError("\(R.kind) \(name).\(namespace) cannot be read: \(why)")
        case nil: cache?.include(namespace)
        }
        let object = try await call { try await client.get(R.self, namespace: namespace, name: name, version: version) }
        if let object { informer?.upsert(object) } else { informer?.markAbsent(namespace: namespace, name: name) }
        return object
    }

    /// Creates the object; the cache keeps what was stored.
    func create<R: KubeResource>(_ object: R, version: String = R.version) async throws -> R {
        let stored = try await call { try await client.create(object, version: version) }
        cache?.informer(R.self, version: version)?.upsert(stored)
        return stored
    }

    /// A PUT is retried only on 429, which the server answers before doing anything: after a 5xx or a lost
    /// response it may have been applied, and a repeat would fail on the resourceVersion it changed.
    func update<R: KubeResource>(_ object: R, version: String = R.version) async throws -> R {
        let stored = try await call(retryingOn: [.tooManyRequests]) {
            try await client.update(object, version: version)
        }
        cache?.informer(R.self, version: version)?.upsert(stored)
        return stored
    }

    /// A JSON merge patch (of the object or a subresource); the cache keeps the result.
    @discardableResult
    func mergePatch<R: KubeResource>(
        _ type: R.Type,
        _ namespace: String,
        _ name: String,
        _ patch: JSONValue,
        subresource: String? = nil,
        version: String = R.version
    ) async throws -> R {
        let stored = try await call {
            try await client.patch(
                R.self,
                namespace: namespace,
                name: name,
                patch,
                type: .merge,
                subresource: subresource,
                version: version
            )
        }
        cache?.informer(R.self, version: version)?.upsert(stored)
        return stored
    }

    /// Creates the object, or replaces what is there when `same` says it differs (keeping the server's fields). An
    /// existing object is only replaced when `checkExisting` accepts it (the worker never adopts what it did not
    /// create). A conflict (someone wrote in between) or an object created meanwhile is read again and applied
    /// again, three attempts in all.
    @discardableResult
    func apply<R: KubeResource>(
        _ desired: R,
        existing: R?? = nil,
        version: String = R.version,
        checkExisting: (R) throws -> Void = { _ in },
        same: (R, R) -> Bool
    ) async throws -> R {
        let namespace = desired.metadata.namespace ?? ""
        let name = desired.metadata.name ?? ""
        var current: R? =
            if let existing { existing } else { try await get(R.self, namespace, name, version: version) }
        var attempt = 0
        while true {
            attempt += 1
            do {
                if let found = current {
                    try checkExisting(found)
                    if same(found, desired) { return found }
                    var merged = desired
                    merged.metadata.resourceVersion = found.metadata.resourceVersion
                    return try await update(merged, version: version)
                }
                return try await create(desired, version: version)
            } catch let error as KubeAPIError
                where attempt < 3 && (error.reason == .conflict || error.reason == .alreadyExists)
            {
                current = try await call {
                    try await client.get(R.self, namespace: namespace, name: name, version: version)
                }
            }
        }
    }

    /// Creates an Event (Events are never cached).
    func createEvent(_ event: Event) async throws {
        _ = try await call { try await client.create(event) }
    }

    /// Bumps a recorded Event's count.
    func patchEvent(_ namespace: String, _ name: String, _ patch: JSONValue) async throws {
        _ = try await call { try await client.patch(Event.path(namespace: namespace, name: name), patch, type: .merge) }
    }
}
