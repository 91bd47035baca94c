import Foundation
import JSONValue
import KubeModels
import Logging
import Synchronization

/// Settings of the embedded cluster.
public struct DevClusterConfiguration: Sendable {
    /// How many times faster than real time the simulated controllers run.
    public var speed: Double
    /// How long (real time, before `speed`) a Deployment takes to roll out.
    public var rolloutDelay: Duration
    /// Maps a webhook's `clientConfig.service` to the address that serves it (the embedded cluster has no
    /// cluster network). Returns the address to connect to, or nil when the service is unknown.
    public var serviceResolver:
        @Sendable (_ namespace: String, _ name: String, _ port: Int) -> (host: String, port: Int)?
    /// Where objects are persisted between runs; nil keeps them in memory.
    public var dataDirectory: String?
    /// How many past events a watch can resume over before it gets 410 Gone.
    public var watchHistory: Int
    /// Who a bearer token authenticates as (what admission webhooks see in `userInfo`); any other token is the
    /// cluster admin, `kubernetes-admin`. The embedded cluster authenticates but never authorizes.
    public var users: [String: String]
    /// Fault injection for tests: an error to answer a request with instead of serving it (nil serves it).
    public var faults: (@Sendable (APIRequest) -> APIError?)?

    public init(
        speed: Double = 1,
        rolloutDelay: Duration = .seconds(2),
        serviceResolver: @escaping @Sendable (String, String, Int) -> (host: String, port: Int)? = { _, _, _ in nil },
        dataDirectory: String? = nil,
        watchHistory: Int = 20_000,
        users: [String: String] = [:],
        faults: (@Sendable (APIRequest) -> APIError?)? = nil
    ) {
        self.users = users
        self.faults = faults
        self.speed = speed
        self.rolloutDelay = rolloutDelay
        self.serviceResolver = serviceResolver
        self.dataDirectory = dataDirectory
        self.watchHistory = watchHistory
    }
}

/// An embedded Kubernetes API server: the REST semantics, discovery, OpenAPI, tables, watches, CRDs and admission
/// chain of kube-apiserver, kept in memory. Transport-free: ``DevClusterServer`` puts it on HTTPS.
public final class DevCluster: Sendable {
    public let configuration: DevClusterConfiguration
    public let registry = ResourceRegistry()
    public let store: ObjectStore
    let admission: AdmissionChain
    /// The simulated Linkerd mesh: traffic by the TrafficSplit/HTTPRoute weights, per-revision behaviour, metrics.
    public let mesh: MeshSimulator
    let logger: Logger
    let counters = Mutex(Counters())
    /// `apiserver_request_total`, by label set.
    let requestCounts = Mutex([RequestMetricLabels: Int]())

    struct Counters {
        var nextUID: UInt64 = 0
        var nextClusterIP: UInt32 = 10
        var writes = 0
    }

    public init(configuration: DevClusterConfiguration = DevClusterConfiguration(), logger: Logger? = nil) {
        self.configuration = configuration
        self.logger = logger ?? Logger(label: "devcluster", factory: { _ in SwiftLogNoOpLogHandler() })
        store = ObjectStore(historyLimit: configuration.watchHistory)
        mesh = Self.makeMesh(store: store, speed: configuration.speed)
        admission = AdmissionChain(
            resolver: configuration.serviceResolver,
            users: configuration.users,
            logger: self.logger
        )
        for namespace in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            _ = try? store.create(ObjectKey(resource: "namespaces", namespace: "", name: namespace)) { _ in
                self.systemFields(
                    [
                        "apiVersion": "v1", "kind": "Namespace",
                        "metadata": [
                            "name": .string(namespace), "labels": ["kubernetes.io/metadata.name": .string(namespace)],
                        ],
                        "spec": ["finalizers": ["kubernetes"]], "status": ["phase": "Active"],
                    ]
                )
            }
        }
    }

    /// Stops outgoing webhook clients and ends every watch.
    public func shutdown() async {
        store.finishAll()
        await admission.shutdown()
    }

    /// Answers one request.
    ///
    /// Every request is counted in `apiserver_request_total`, served on `GET /metrics` as kube-apiserver does.
    public func handle(_ request: APIRequest) async -> APIResponse {
        let target = ResourcePath.parse(request.path)
        let response = await answer(target, request)
        countRequest(target, request, code: response.status)
        return response
    }

    func answer(_ target: APITarget?, _ request: APIRequest) async -> APIResponse {
        guard let target else { return .error(.notFoundPath) }
        if let fault = configuration.faults?(request) {
            var response = APIResponse.error(fault)
            if let retry = fault.status.details?.retryAfterSeconds {
                response.headers.append(("Retry-After", String(retry)))
            }
            return response
        }
        do {
            switch target {
            case .version: return .json(Self.versionInfo)
            case .health: return APIResponse(status: 200, contentType: "text/plain", body: .bytes(Array("ok".utf8)))
            case .apiVersions: return discoveryCore(request)
            case .apiGroupList: return discoveryGroups(request)
            case .apiGroup(let group): return try apiGroup(group)
            case .resourceList(let group, let version): return try resourceList(group: group, version: version)
            case .openAPIV3Root: return .json(openAPIRoot())
            case .openAPIV3(let group, let version): return try openAPIDocument(group: group, version: version)
            case .openAPIV2: throw APIError.notFoundPath
            case .metrics: return try metricsResponse(request)
            case .resource(let path): return try await resource(path, request)
            }
        } catch let error as APIError {
            return .error(error)
        } catch {
            return .error(.internalError(String(describing: error)))
        }
    }

    static let versionInfo: JSONValue = [
        "major": "1", "minor": "32", "gitVersion": "v1.32.0-fledge", "gitCommit": "", "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z", "goVersion": "swift", "compiler": "swift", "platform": "linux/amd64",
    ]

    func resource(_ path: ResourcePath, _ request: APIRequest) async throws -> APIResponse {
        guard let type = registry.lookup(group: path.group, version: path.version, resource: path.resource) else {
            throw APIError.notFoundPath
        }
        if type.namespaced == false, path.namespace != nil { throw APIError.notFoundPath }
        var path = path
        if !type.namespaced { path.namespace = nil }
        if path.subresource == "log", type.group.isEmpty, type.resource == "pods", let name = path.name {
            return try podLog(path, name: name, request)
        }
        if let subresource = path.subresource {
            guard path.name != nil,
                (subresource == "status" && type.hasStatus) || (subresource == "scale" && type.scale != nil)
            else { throw APIError.notFoundPath }
        }
        switch (request.method, path.name) {
        case ("GET", nil):
            if let watch = request.query["watch"], watch == "true" || watch == "1" {
                return try watchResponse(type, path, request)
            }
            return try list(type, path, request)
        case ("GET", let name?):
            return try get(type, path, name: name, request)
        case ("POST", nil):
            return try await create(type, path, request)
        case ("PUT", let name?):
            return try await update(type, path, name: name, request)
        case ("PATCH", let name?):
            return try await patch(type, path, name: name, request)
        case ("DELETE", let name?):
            return try await delete(type, path, name: name, request)
        case ("DELETE", nil):
            return try await deleteCollection(type, path, request)
        default:
            throw APIError.methodNotAllowed
        }
    }

    // MARK: - Helpers

    func key(_ type: ResourceType, namespace: String?, name: String) -> ObjectKey {
        ObjectKey(resource: Self.bucket(type), namespace: type.namespaced ? namespace ?? "" : "", name: name)
    }

    /// Objects of every version of a group/resource share one bucket.
    static func bucket(_ type: ResourceType) -> String {
        type.group.isEmpty ? type.resource : "\(type.group)/\(type.resource)"
    }

    func newUID() -> String {
        let counter = counters.withLock { counters in
            counters.nextUID += 1
            return counters.nextUID
        }
        var uuid = UUID().uuidString.lowercased()
        uuid.removeLast(8)
        return uuid + String(format: "%08x", UInt32(truncatingIfNeeded: counter))
    }

    static func timestamp(_ date: Date = Date()) -> String { RFC3339.format(date) }

    /// Adds uid, creationTimestamp and generation to a new object.
    func systemFields(_ object: JSONValue) -> JSONValue {
        var object = object
        object.setMember(["metadata", "uid"], .string(newUID()))
        object.setMember(["metadata", "creationTimestamp"], .string(Self.timestamp()))
        object.setMember(["metadata", "generation"], .int(1))
        return object
    }

    /// A stored object as a client of `type`'s version sees it. Versions of a kind share storage and convert with
    /// strategy `None`, as kube-apiserver does for CRDs without a conversion webhook: only `apiVersion` changes.
    func served(_ object: JSONValue, as type: ResourceType) -> JSONValue {
        guard object["kind"]?.stringValue == type.kind, object["apiVersion"]?.stringValue != type.apiVersion else {
            return object
        }
        return Self.with(object, ["apiVersion"], .string(type.apiVersion))
    }

    /// An object about to be stored, in its kind's storage version.
    func storable(_ object: JSONValue, _ type: ResourceType) -> JSONValue {
        guard type.storageVersion != nil else { return object }
        return Self.with(object, ["apiVersion"], .string(type.storageAPIVersion))
    }

    /// The object with the member at `path` removed or replaced.
    static func with(_ object: JSONValue, _ path: [String], _ value: JSONValue?) -> JSONValue {
        var copy = object
        copy.setMember(path, value)
        return copy
    }
}

extension JSONValue {
    /// The labels of an object.
    var labels: [String: String] {
        (self["metadata", "labels"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
    }
}
