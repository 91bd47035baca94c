import Admission
import CanaryModel
import JSONValue
import KubeClient
import KubeModels
import Synchronization

/// The admission gate's view of a real cluster, through the API server: the Canaries of a namespace from a
/// short-lived cache, and whether a referenced object exists.
public struct KubeClusterView: ClusterView {
    let lister: CachedCanaryLister

    public init(lister: CachedCanaryLister) { self.lister = lister }

    public func canaries(in namespace: String) async throws -> [CanaryTarget] {
        try await lister.canaries(in: namespace).compactMap(CanaryTarget.init)
    }

    public func exists(kind: String, namespace: String, name: String) async throws -> Bool {
        try await lister.exists(kind: kind, namespace: namespace, name: name)
    }
}

/// Canary lookups for the admission gate, answered from a short-lived per-namespace cache so a burst of writes costs
/// one LIST. The cache holds at most ``maximumNamespaces`` namespaces (expired ones go first, then the oldest), so
/// reviews naming ever new namespaces cannot grow it.
public final class CachedCanaryLister: Sendable {
    let client: KubeClient
    let ttl: Duration
    let now: @Sendable () -> ContinuousClock.Instant
    /// The most namespaces cached at once.
    public static let maximumNamespaces = 1024
    private let cache = Mutex<[String: (at: ContinuousClock.Instant, items: [Canary])]>([:])

    public init(
        client: KubeClient,
        ttl: Duration = .seconds(2),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        self.client = client
        self.ttl = ttl
        self.now = now
    }

    /// How many namespaces are cached now.
    public var cachedNamespaces: Int { cache.withLock { $0.count } }

    /// The Canaries of a namespace.
    public func canaries(in namespace: String) async throws -> [Canary] {
        let now = self.now()
        if let cached = cache.withLock({ $0[namespace] }), now - cached.at < ttl { return cached.items }
        // A Canary the model cannot read (stored before a schema check) cannot name a target: it is left out.
        let items = try await client.listAll(Canary.collectionPath(namespace: namespace)).compactMap {
            try? JSONValueDecoder().decode(Canary.self, from: $0)
        }
        cache.withLock { cache in
            if cache[namespace] == nil, cache.count >= Self.maximumNamespaces {
                cache = cache.filter { now - $0.value.at < ttl }
                if cache.count >= Self.maximumNamespaces,
                    let oldest = cache.min(by: { $0.value.at < $1.value.at })?.key
                {
                    cache[oldest] = nil
                }
            }
            cache[namespace] = (now, items)
        }
        return items
    }

    /// Forgets a namespace's cached list (after a Canary there was written).
    public func invalidate(_ namespace: String) { _ = cache.withLock { $0.removeValue(forKey: namespace) } }

    /// Whether an object of a kind a Canary references exists; true for kinds it cannot check.
    public func exists(kind: String, namespace: String, name: String) async throws -> Bool {
        let path: String
        switch kind {
        case Deployment.kind: path = Deployment.path(namespace: namespace, name: name)
        case "DaemonSet":
            path = APIPath.object(group: "apps", version: "v1", plural: "daemonsets", namespace: namespace, name: name)
        case MetricTemplate.kind: path = MetricTemplate.path(namespace: namespace, name: name)
        case AlertProvider.kind: path = AlertProvider.path(namespace: namespace, name: name)
        default: return true
        }
        return try await client.getIfPresent(path) != nil
    }
}
