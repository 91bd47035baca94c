import CanaryModel
import Crypto
import JSONValue
import KubeClient
import KubeModels
import Logging
import ServiceLifecycle
import Synchronization

/// The worker's view of the cluster: one informer per kind (and version) it reads, started the first time it is
/// asked for, each keeping only the objects of namespaces the worker has looked in.
///
/// A read the cache cannot answer yet (the informer still listing, a namespace just looked in) is one GET whose
/// answer the cache keeps (``KubeAccess``); from then on the watch keeps it current, so a tick with nothing to do
/// reads nothing from the API server.
public final class ClusterCache: Service, Sendable {
    let client: KubeClient
    let logger: Logger
    /// Namespaces whose objects are kept (the worker's Canaries live there); all when nil.
    private let scope = Mutex<Set<String>>([])
    /// Informers by kind and version, type-erased.
    private let informers = Mutex<[String: any Sendable]>([:])
    private let starts: AsyncStream<any Service>
    private let startContinuation: AsyncStream<any Service>.Continuation

    public init(client: KubeClient, logger: Logger) {
        self.client = client
        self.logger = logger
        (starts, startContinuation) = AsyncStream.makeStream(of: (any Service).self)
    }

    /// Keeps objects of `namespace` from now on.
    func include(_ namespace: String) {
        _ = scope.withLock { $0.insert(namespace) }
    }

    /// Namespaces kept.
    var namespaces: Set<String> { scope.withLock { $0 } }

    /// How many objects every informer holds, for benchmarks.
    public var cachedObjects: Int {
        informers.withLock { informers in
            informers.values.reduce(0) { total, informer in total + ((informer as? any CountedInformer)?.count ?? 0) }
        }
    }

    /// Returns once every informer started so far has listed (benchmarks and tests measure a warm cache).
    public func waitForSync() async {
        let started = informers.withLock { $0.values.compactMap { $0 as? any CountedInformer } }
        for informer in started { await informer.waitForSync() }
    }

    /// The informer of `R` at `version`, started now if it was not running; nil for kinds never cached
    /// (``KubeResource/cacheable``), whose reads are GETs.
    func informer<R: KubeResource>(_ type: R.Type, version: String = R.version) -> Informer<R>? {
        guard R.cacheable else { return nil }
        let key = "\(R.group)/\(version)/\(R.plural)"
        let (informer, fresh) = informers.withLock { informers -> (Informer<R>?, Bool) in
            if let existing = informers[key] { return (existing as? Informer<R>, false) }
            let informer = Informer<R>(
                client: client,
                version: version,
                keep: { [self] namespace, _ in self.scope.withLock { $0.contains(namespace) } },
                logger: logger
            )
            informers[key] = informer
            return (informer, true)
        }
        if fresh, let informer { startContinuation.yield(informer) }
        return informer
    }

    /// Serves reads of `R` at `version` from `informer` (which its owner runs; e.g. the worker's Canary informer,
    /// which keeps every namespace).
    func adopt<R: KubeResource>(_ informer: Informer<R>, version: String = R.version) {
        let key = "\(R.group)/\(version)/\(R.plural)"
        informers.withLock { $0[key] = informer }
    }

    /// Runs every informer started so far and those started later, until shutdown.
    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask {
                await withDiscardingTaskGroup { running in
                    for await informer in self.starts {
                        running.addTask { try? await informer.run() }
                    }
                }
            }
            try? await gracefulShutdown()
            startContinuation.finish()
            group.cancelAll()
        }
    }
}

/// An informer's size and sync, whatever it holds.
protocol CountedInformer: Sendable {
    var count: Int { get }
    func waitForSync() async
}
extension Informer: CountedInformer {}

/// The kinds of config a pod template references: ConfigMaps and Secrets.
public protocol ConfigKind: Sendable {
    static var kind: String { get }
    static var plural: String { get }
}

/// ConfigMaps, for ``ConfigDigest``.
public enum ConfigMapKind: ConfigKind {
    public static let kind = "ConfigMap"
    public static let plural = "configmaps"
}

/// Secrets, for ``ConfigDigest``.
public enum SecretKind: ConfigKind {
    public static let kind = "Secret"
    public static let plural = "secrets"
}

/// A ConfigMap or Secret as the worker's cache keeps it: its metadata and the checksum of its data, never the data
/// (a Secret's values stay in the API server; the copy to the primary reads them by GET when it is made).
public struct ConfigDigest<Kind: ConfigKind>: KubeResource {
    public static var group: String { "" }
    public static var version: String { "v1" }
    public static var kind: String { Kind.kind }
    public static var plural: String { Kind.plural }
    public static var namespaced: Bool { true }

    public var metadata: ObjectMeta
    /// The first 16 hex digits of the SHA-256 of `{"binaryData": …, "data": …}` as canonical JSON.
    public var checksum: String

    enum CodingKeys: String, CodingKey { case metadata, data, binaryData }

    public init(metadata: ObjectMeta, data: JSONValue?, binaryData: JSONValue?) {
        self.metadata = metadata
        checksum = Self.checksum(data: data, binaryData: binaryData)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            metadata: try container.decode(ObjectMeta.self, forKey: .metadata),
            data: try container.decodeIfPresent(JSONValue.self, forKey: .data),
            binaryData: try container.decodeIfPresent(JSONValue.self, forKey: .binaryData)
        )
    }

    /// Only the metadata: a digest is never written back.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(metadata, forKey: .metadata)
    }

    /// The checksum a config's data is tracked by (unchanged from earlier releases, so statuses written before stay
    /// valid).
    public static func checksum(data: JSONValue?, binaryData: JSONValue?) -> String {
        var object = JSONValue.object([:])
        object.setMember(["data"], data)
        object.setMember(["binaryData"], binaryData)
        let digest = SHA256.hash(data: object.serializedBytes())
        return digest.prefix(8).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
