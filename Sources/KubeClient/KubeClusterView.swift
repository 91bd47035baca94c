import Foundation
import JSONValue
import KubeModels
import Synchronization

/// Paths of the resources the admission gate looks up.
public enum ResourcePaths {
    /// The collection path of a kind in a namespace, for the kinds Fledge reads.
    public static func collection(kind: String, namespace: String) -> String? {
        switch kind {
        case "Deployment":
            return APIPath.collection(group: "apps", version: "v1", plural: "deployments", namespace: namespace)
        case "DaemonSet":
            return APIPath.collection(group: "apps", version: "v1", plural: "daemonsets", namespace: namespace)
        case "Canary":
            return APIPath.collection(
                group: "flagger.app",
                version: "v1beta1",
                plural: "canaries",
                namespace: namespace
            )
        case "MetricTemplate":
            return APIPath.collection(
                group: "flagger.app",
                version: "v1beta1",
                plural: "metrictemplates",
                namespace: namespace
            )
        case "AlertProvider":
            return APIPath.collection(
                group: "flagger.app",
                version: "v1beta1",
                plural: "alertproviders",
                namespace: namespace
            )
        default: return nil
        }
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
    private let cache = Mutex<[String: (at: ContinuousClock.Instant, items: [JSONValue])]>([:])

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

    /// The Canary objects of a namespace.
    public func canaries(in namespace: String) async throws -> [JSONValue] {
        let now = self.now()
        if let cached = cache.withLock({ $0[namespace] }), now - cached.at < ttl { return cached.items }
        let path = APIPath.collection(
            group: "flagger.app",
            version: "v1beta1",
            plural: "canaries",
            namespace: namespace
        )
        let items = try await client.listAll(path)
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

    /// Whether an object exists.
    public func exists(kind: String, namespace: String, name: String) async throws -> Bool {
        guard let collection = ResourcePaths.collection(kind: kind, namespace: namespace) else { return true }
        return try await client.getIfPresent(collection + "/" + APIPath.segment(name)) != nil
    }
}
