import Foundation
import Hummingbird
import HummingbirdCore
import JSONValue
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Pod-template annotations that give a revision its behaviour in the simulated mesh.
public enum MeshAnnotations {
    /// Percent of requests that succeed (default 100).
    public static let successRate = "playground.fledge.dev/success-rate"
    /// Latency of each request in milliseconds (default 20).
    public static let latency = "playground.fledge.dev/latency-ms"
}

extension DevCluster {
    /// Builds the simulated Linkerd mesh over this cluster's objects: a Service routes to the Deployments its
    /// selector matches, split by the TrafficSplit or HTTPRoute that names it; each Deployment behaves as its pod
    /// template's annotations say, and serves nothing while it has no available replica.
    static func makeMesh(store: ObjectStore, speed: Double) -> MeshSimulator {
        let start = ContinuousClock.now
        let now: @Sendable () -> Double = {
            let elapsed = ContinuousClock.now - start
            return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) * speed
        }
        return MeshSimulator(
            now: now,
            routeRequest: { namespace, service, request in
                Self.meshRoute(store: store, namespace: namespace, service: service, request: request)
            },
            behaviour: { namespace, deployment in
                guard
                    let object = store.get(
                        ObjectKey(resource: "apps/deployments", namespace: namespace, name: deployment)
                    ),
                    (object["status", "availableReplicas"]?.intValue ?? 0) > 0
                else { return nil }
                let annotations = object["spec", "template", "metadata", "annotations"]
                return MeshBehaviour(
                    successRate: annotations?[MeshAnnotations.successRate]?.stringValue.flatMap(Double.init) ?? 100,
                    latencyMilliseconds: annotations?[MeshAnnotations.latency]?.stringValue.flatMap(Double.init) ?? 20
                )
            }
        )
    }

    static func meshRoute(
        store: ObjectStore,
        namespace: String,
        service: String,
        request: MeshRequestInfo = MeshRequestInfo(path: "/")
    ) -> [MeshBackend] {
        let splits = store.list(resource: "split.smi-spec.io/trafficsplits", namespace: namespace).items
        if let split = splits.first(where: { $0["spec", "service"]?.stringValue == service }) {
            return (split["spec", "backends"]?.arrayValue ?? []).flatMap { backend -> [MeshBackend] in
                let raw = backend["weight"]
                let weight = raw?.intValue.map(Int.init) ?? raw?.stringValue.flatMap(Int.init) ?? 0
                return deployments(store: store, namespace: namespace, service: backend["service"]?.stringValue ?? "")
                    .map { MeshBackend(deployment: $0, weight: weight) }
            }
        }
        let routes = store.list(resource: "gateway.networking.k8s.io/httproutes", namespace: namespace).items
        if let route = routes.first(where: { route in
            (route["spec", "parentRefs"]?.arrayValue ?? []).contains {
                $0["name"]?.stringValue == service && ($0["kind"]?.stringValue ?? "Gateway") == "Service"
            }
        }) {
            guard let rule = HTTPRouteMatching.rule(of: route, for: request) else { return [] }
            let weighted = (rule["backendRefs"]?.arrayValue ?? []).flatMap { backend -> [MeshBackend] in
                deployments(store: store, namespace: namespace, service: backend["name"]?.stringValue ?? "")
                    .map { MeshBackend(deployment: $0, weight: Int(backend["weight"]?.intValue ?? 1)) }
            }
            let mirrors = (rule["filters"]?.arrayValue ?? []).filter { $0["type"] == "RequestMirror" }.flatMap {
                filter -> [MeshBackend] in
                let name = filter["requestMirror", "backendRef", "name"]?.stringValue ?? ""
                return deployments(store: store, namespace: namespace, service: name).map {
                    MeshBackend(deployment: $0, weight: 0, mirror: true)
                }
            }
            return weighted + mirrors
        }
        return deployments(store: store, namespace: namespace, service: service).map {
            MeshBackend(deployment: $0, weight: 1)
        }
    }

    /// The Deployments whose pods a Service's selector matches.
    static func deployments(store: ObjectStore, namespace: String, service: String) -> [String] {
        guard let object = store.get(ObjectKey(resource: "services", namespace: namespace, name: service)),
            let selector = object["spec", "selector"]?.objectValue, !selector.isEmpty
        else { return [] }
        return store.list(resource: "apps/deployments", namespace: namespace).items.compactMap { deployment in
            let labels = deployment["spec", "template", "metadata", "labels"]?.objectValue ?? [:]
            let matches = selector.allSatisfy { labels[$0.key] == $0.value }
            return matches ? deployment["metadata", "name"]?.stringValue : nil
        }
    }
}

/// An in-process service reachable through the mesh by its cluster DNS name (e.g. the embedded load tester as
/// `flagger-loadtester.prod`): method, path with query, body in; status and body out.
public typealias MeshServiceHandler =
    @Sendable (_ method: String, _ path: String, _ body: [UInt8]) async -> (
        status: Int, body: String
    )

/// Serves the simulated mesh over plain HTTP on 127.0.0.1, doubling as the cluster network for the playground:
/// - `GET /metrics`: Prometheus exposition of the mesh's counters (a real Prometheus can scrape it);
/// - `GET|POST /api/v1/query`: Flagger's two built-in Linkerd queries answered from the same counters (a
///   simulation, not Prometheus; any other query is refused);
/// - as an HTTP proxy (`http_proxy=http://127.0.0.1:PORT`), requests for `SERVICE.NAMESPACE[.svc…][:port]` go
///   through the mesh to the Deployments behind that Service (podinfo's `/token`, `/status/CODE` and `/delay/N`
///   answer like podinfo), or to an in-process service registered with ``register(namespace:service:handler:)``.
public final class MeshServer: Service, Sendable {
    let mesh: MeshSimulator
    let host: String
    let requestedPort: Int
    let logger: Logger
    let bound = AsyncStream<Int>.makeStream()
    let services = Mutex<[String: MeshServiceHandler]>([:])

    public init(cluster: DevCluster, host: String = "127.0.0.1", port: Int = 0, logger: Logger) {
        mesh = cluster.mesh
        self.host = host
        requestedPort = port
        self.logger = logger
    }

    /// Makes `service.namespace` answer with `handler` instead of simulated pods; namespace `*` matches any.
    public func register(namespace: String, service: String, handler: @escaping MeshServiceHandler) {
        services.withLock { $0["\(service).\(namespace)"] = handler }
    }

    public func port() async -> Int? {
        for await port in bound.stream { return port }
        return nil
    }

    public func run() async throws {
        let continuation = bound.continuation
        let app = Application(
            responder: MeshResponder(server: self),
            configuration: .init(address: .hostname(host, port: requestedPort), serverName: "fledge-mesh"),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        defer { continuation.finish() }
        try await app.run()
    }

    /// `(service, namespace)` of a cluster DNS name such as `podinfo-canary.prod`, `podinfo.prod.svc` or
    /// `podinfo.prod.svc.cluster.local`; nil for anything else.
    static func clusterName(_ authority: String) -> (service: String, namespace: String)? {
        var host = authority
        if let colon = host.lastIndex(of: ":"), !host.hasSuffix("]") { host = String(host[..<colon]) }
        let parts = host.split(separator: ".").map(String.init)
        guard parts.count >= 2, parts.count == 2 || parts[2] == "svc" else { return nil }
        guard !parts[0].isEmpty, Int(parts[0]) == nil, parts[1] != "0" else { return nil }
        return (parts[0], parts[1])
    }

    /// The mesh address of a URL whose host is a cluster name (`http://podinfo-canary.prod:9898/x` becomes
    /// `http://127.0.0.1:PORT/proxy/prod/podinfo-canary/x`); other URLs are returned unchanged.
    public static func rewrite(_ url: String, meshPort: Int) -> String {
        guard let components = URLComponents(string: url), components.scheme == "http",
            let host = components.host, let (service, namespace) = clusterName(host)
        else { return url }
        var rewritten = "http://127.0.0.1:\(meshPort)/proxy/\(namespace)/\(service)"
        rewritten += components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        if let query = components.percentEncodedQuery { rewritten += "?" + query }
        return rewritten
    }

    func respond(
        method: String,
        authority: String,
        path: String,
        query: String?,
        body: [UInt8],
        headers: [(name: String, value: String)] = []
    ) async -> (
        status: Int, contentType: String, body: String
    ) {
        var authority = authority
        var path = path
        if path.hasPrefix("/proxy/") {
            let parts = path.dropFirst("/proxy/".count).split(
                separator: "/",
                maxSplits: 2,
                omittingEmptySubsequences: false
            )
            if parts.count >= 2 {
                authority = "\(parts[1]).\(parts[0])"
                path = parts.count == 3 ? "/" + parts[2] : "/"
            }
        }
        if let (service, namespace) = Self.clusterName(authority) {
            if let handler = services.withLock({ $0["\(service).\(namespace)"] ?? $0["\(service).*"] }) {
                let answer = await handler(method, path + (query.map { "?\($0)" } ?? ""), body)
                return (answer.status, "text/plain; charset=utf-8", answer.body)
            }
            let target = path + (query.map { "?\($0)" } ?? "")
            guard
                let response = mesh.request(
                    namespace: namespace,
                    service: service,
                    method: method,
                    path: target,
                    headers: headers
                )
            else {
                return (
                    503, "text/plain; charset=utf-8", "no endpoints available for service \"\(service).\(namespace)\"\n"
                )
            }
            // Latency lives in the metrics only (not slept), so a sped-up demo stays fast.
            if response.status >= 400 {
                return (
                    response.status, "text/plain; charset=utf-8",
                    "status \(response.status) from \(response.deployment)\n"
                )
            }
            if path.hasPrefix("/token") {
                return (
                    200, "application/json", #"{"token":"playground-token","expires_at":"2030-01-01T00:00:00Z"}"# + "\n"
                )
            }
            return (
                200, "application/json",
                #"{"hostname":"\#(response.deployment)","message":"greetings from podinfo"}"# + "\n"
            )
        }
        switch path {
        case "/metrics":
            return (200, MeshSimulator.expositionContentType, mesh.exposition())
        case "/api/v1/query":
            let answer =
                method == "POST"
                ? mesh.query(formEncoded: String(decoding: body, as: UTF8.self))
                : mesh.query(formEncoded: query ?? "")
            return (answer.status, "application/json", answer.body.serialized())
        case "/healthz", "/readyz":
            return (200, "text/plain; charset=utf-8", "ok\n")
        default:
            return (404, "text/plain; charset=utf-8", "no such path \(path); try /metrics or /api/v1/query\n")
        }
    }
}

struct MeshResponder: HTTPResponder {
    typealias Context = BasicRequestContext
    let server: MeshServer

    func respond(to request: Request, context: Context) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 20)
        let authority = request.head.authority ?? ""
        let answer = await server.respond(
            method: request.method.rawValue,
            authority: authority,
            path: request.uri.path,
            query: request.uri.query,
            body: Array(body.readableBytesView),
            headers: request.headers.map { (name: $0.name.canonicalName, value: $0.value) }
        )
        return Response(
            status: .init(code: answer.status),
            headers: [.contentType: answer.contentType],
            body: .init(byteBuffer: ByteBuffer(string: answer.body))
        )
    }
}
