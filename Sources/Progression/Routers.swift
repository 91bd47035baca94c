import CanaryModel
import JSONValue
import KubeClient
import KubeModels

/// Moves traffic between the primary and the canary through the object the mesh reads.
protocol Router: Sendable {
    /// Creates the traffic object (all traffic to the primary) when missing, never resetting weights; returns the
    /// current (primary, canary) weights.
    func reconcile() async throws -> (primary: Int, canary: Int)
    /// The current (primary, canary) weights; (100, 0) when there is no traffic object yet.
    func weights() async throws -> (primary: Int, canary: Int)
    func setWeights(primary: Int, canary: Int) async throws
}

extension Workload {
    /// The router for the Canary's provider.
    func router(defaultProvider: String) -> any Router {
        let provider = Provider(rawValue: canary.spec.provider ?? defaultProvider) ?? .linkerd
        switch provider {
        case .linkerd, .smiV1alpha1: return TrafficSplitRouter(workload: self, version: "v1alpha1")
        case .smiV1alpha2: return TrafficSplitRouter(workload: self, version: "v1alpha2")
        case .smiV1alpha3: return TrafficSplitRouter(workload: self, version: "v1alpha3")
        case .gatewayAPIV1: return HTTPRouteRouter(workload: self, version: "v1")
        case .gatewayAPIV1beta1: return HTTPRouteRouter(workload: self, version: "v1beta1")
        case .kubernetes: return KubernetesRouter()
        }
    }
}

/// SMI `TrafficSplit` named after the apex service: v1alpha1 writes weights as quantity strings (what Linkerd's SMI
/// extension reads), v1alpha2/3 as integers.
struct TrafficSplitRouter: Router {
    let workload: Workload
    let version: String

    var collection: String { "/apis/split.smi-spec.io/\(version)/namespaces/\(workload.namespace)/trafficsplits" }
    var path: String { "\(collection)/\(workload.apexName)" }

    func weight(_ value: Int) -> JSONValue { version == "v1alpha1" ? .string(String(value)) : .int(Int64(value)) }

    func backends(primary: Int, canary: Int) -> JSONValue {
        [
            ["service": .string("\(workload.apexName)-canary"), "weight": weight(canary)],
            ["service": .string("\(workload.apexName)-primary"), "weight": weight(primary)],
        ]
    }

    func reconcile() async throws -> (primary: Int, canary: Int) {
        if let existing = try await workload.kube.get(path) {
            // Keep the weights; repair the service and backends' names.
            let current = Self.read(existing, apex: workload.apexName)
            let service = workload.canary.spec.service?.hosts?.first ?? workload.apexName
            if existing["spec", "service"]?.stringValue != service
                || (existing["spec", "backends"]?.arrayValue?.count ?? 0) != 2
            {
                _ = try await workload.kube.mergePatch(
                    path,
                    [
                        "spec": [
                            "service": .string(service),
                            "backends": backends(primary: current.primary, canary: current.canary),
                        ]
                    ]
                )
            }
            return current
        }
        let split: JSONValue = [
            "apiVersion": .string("split.smi-spec.io/\(version)"), "kind": "TrafficSplit",
            "metadata": [
                "name": .string(workload.apexName), "namespace": .string(workload.namespace),
                "ownerReferences": [workload.ownerReference],
            ],
            "spec": [
                "service": .string(workload.canary.spec.service?.hosts?.first ?? workload.apexName),
                "backends": backends(primary: 100, canary: 0),
            ],
        ]
        _ = try await workload.kube.create(collection, split)
        return (100, 0)
    }

    func weights() async throws -> (primary: Int, canary: Int) {
        guard let split = try await workload.kube.get(path) else { return (100, 0) }
        return Self.read(split, apex: workload.apexName)
    }

    static func read(_ split: JSONValue, apex: String) -> (primary: Int, canary: Int) {
        var primary = 100
        var canary = 0
        for backend in split["spec", "backends"]?.arrayValue ?? [] {
            let raw = backend["weight"]
            let value = raw?.intValue.map(Int.init) ?? raw?.stringValue.flatMap(Int.init) ?? 0
            if backend["service"]?.stringValue == "\(apex)-canary" { canary = value }
            if backend["service"]?.stringValue == "\(apex)-primary" { primary = value }
        }
        return (primary, canary)
    }

    func setWeights(primary: Int, canary: Int) async throws {
        _ = try await workload.kube.mergePatch(path, ["spec": ["backends": backends(primary: primary, canary: canary)]])
    }
}

/// Gateway API `HTTPRoute` with one rule whose two backendRefs carry the weights; parentRefs are the Canary's
/// `service.gatewayRefs` (for Linkerd: the apex Service itself).
struct HTTPRouteRouter: Router {
    let workload: Workload
    let version: String

    var collection: String {
        "/apis/gateway.networking.k8s.io/\(version)/namespaces/\(workload.namespace)/httproutes"
    }
    var path: String { "\(collection)/\(workload.apexName)" }

    func rules(primary: Int, canary: Int) -> JSONValue {
        let port = JSONValue.int(Int64(workload.canary.spec.service?.port ?? 80))
        return [
            [
                "backendRefs": [
                    [
                        "group": "", "kind": "Service", "name": .string("\(workload.apexName)-primary"), "port": port,
                        "weight": .int(Int64(primary)),
                    ],
                    [
                        "group": "", "kind": "Service", "name": .string("\(workload.apexName)-canary"), "port": port,
                        "weight": .int(Int64(canary)),
                    ],
                ]
            ]
        ]
    }

    func reconcile() async throws -> (primary: Int, canary: Int) {
        if let existing = try await workload.kube.get(path) { return Self.read(existing, apex: workload.apexName) }
        let parents: [JSONValue] = (workload.canary.spec.service?.gatewayRefs ?? []).map { reference in
            var parent: JSONValue = ["name": .string(reference.name)]
            if let group = reference.group { parent.setMember(["group"], .string(group)) }
            if let kind = reference.kind { parent.setMember(["kind"], .string(kind)) }
            if let namespace = reference.namespace { parent.setMember(["namespace"], .string(namespace)) }
            if let port = reference.port { parent.setMember(["port"], .int(Int64(port))) }
            if let section = reference.sectionName { parent.setMember(["sectionName"], .string(section)) }
            return parent
        }
        var spec: JSONValue = ["parentRefs": .array(parents), "rules": rules(primary: 100, canary: 0)]
        if let hosts = workload.canary.spec.service?.hosts, !hosts.isEmpty {
            spec.setMember(["hostnames"], .array(hosts.map { .string($0) }))
        }
        let route: JSONValue = [
            "apiVersion": .string("gateway.networking.k8s.io/\(version)"), "kind": "HTTPRoute",
            "metadata": [
                "name": .string(workload.apexName), "namespace": .string(workload.namespace),
                "ownerReferences": [workload.ownerReference],
            ],
            "spec": spec,
        ]
        _ = try await workload.kube.create(collection, route)
        return (100, 0)
    }

    func weights() async throws -> (primary: Int, canary: Int) {
        guard let route = try await workload.kube.get(path) else { return (100, 0) }
        return Self.read(route, apex: workload.apexName)
    }

    static func read(_ route: JSONValue, apex: String) -> (primary: Int, canary: Int) {
        var primary = 100
        var canary = 0
        for backend in route["spec", "rules"]?[0]?["backendRefs"]?.arrayValue ?? [] {
            let weight = Int(backend["weight"]?.intValue ?? 0)
            if backend["name"]?.stringValue == "\(apex)-primary" { primary = weight }
            if backend["name"]?.stringValue == "\(apex)-canary" { canary = weight }
        }
        return (primary, canary)
    }

    func setWeights(primary: Int, canary: Int) async throws {
        _ = try await workload.kube.mergePatch(path, ["spec": ["rules": rules(primary: primary, canary: canary)]])
    }
}

/// The `kubernetes` provider: no traffic object; the apex service switches to the primary at promotion (blue/green).
struct KubernetesRouter: Router {
    func reconcile() async throws -> (primary: Int, canary: Int) { (100, 0) }
    func weights() async throws -> (primary: Int, canary: Int) { (100, 0) }
    func setWeights(primary: Int, canary: Int) async throws {}
}
