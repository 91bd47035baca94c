import CanaryModel
import JSONValue
import KubeClient
import KubeModels

/// Where the traffic object sends requests: the weights of the primary and the canary, and whether requests are
/// also mirrored to the canary.
struct Routes: Sendable, Equatable {
    var primary: Int
    var canary: Int
    var mirrored = false
}

extension Routes {
    /// The weights a Canary's status says the release is at: its canary weight (clamped to 0–100), the rest to the
    /// primary. What invalid weights in a traffic object are put back to.
    static func fromStatus(_ canary: Canary) -> Routes {
        let weight = min(max(canary.status?.canaryWeight ?? 0, 0), 100)
        return Routes(primary: 100 - weight, canary: weight)
    }

    /// Both weights in 0–100 and summing to 100: weights a release could have written.
    var isValid: Bool { (0...100).contains(primary) && (0...100).contains(canary) && primary + canary == 100 }
}

/// What ``Router/reconcile()`` found: the routes, and why they were put back when the object held weights no
/// release writes (someone else's edit, possibly hostile).
struct ReconciledRoutes: Sendable, Equatable {
    var routes: Routes
    var repaired: String?
}

/// Reads a weight from the cluster without trusting it: an integer or an integer string, clamped to -1…101 (so
/// out-of-range values stay detectably invalid); anything else (a quantity, a fraction, text) is nil. Never traps,
/// whatever the number.
func clampedWeight(_ value: LenientInt?) -> Int? {
    value?.value(in: -1...101)
}

/// Moves traffic between the primary and the canary through the object the mesh reads.
protocol Router: Sendable {
    /// Creates the traffic object (all traffic to the primary) when missing and repairs what the Canary's spec
    /// shapes, never resetting valid weights; weights no release could have written (out of 0–100, not summing to
    /// 100, unreadable) are put back to what the Canary's status says. Returns the current routes.
    func reconcile() async throws -> ReconciledRoutes
    /// Sets the weights, and mirroring where the provider can mirror.
    func setRoutes(primary: Int, canary: Int, mirrored: Bool) async throws
}

extension Router {
    func setWeights(primary: Int, canary: Int) async throws {
        try await setRoutes(primary: primary, canary: canary, mirrored: false)
    }
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

    func weight(_ value: Int) -> LenientInt {
        version == "v1alpha1" ? LenientInt(raw: .string(String(value))) : LenientInt(value)
    }

    func backends(primary: Int, canary: Int) -> [TrafficSplitBackend] {
        [
            TrafficSplitBackend(service: "\(workload.apexName)-canary", weight: weight(canary)),
            TrafficSplitBackend(service: "\(workload.apexName)-primary", weight: weight(primary)),
        ]
    }

    func backendsJSON(primary: Int, canary: Int) throws -> JSONValue {
        try JSONValueEncoder().encode(backends(primary: primary, canary: canary))
    }

    func reconcile() async throws -> ReconciledRoutes {
        let apex = workload.apexName
        if let existing = try await workload.kube.get(TrafficSplit.self, workload.namespace, apex, version: version) {
            try workload.requireOwned(existing.metadata, kind: "TrafficSplit", name: apex)
            // Keep valid weights; repair the service and backends' names, and weights no release writes.
            let read = Self.read(existing, apex: apex)
            let current = read.isValid ? read : Routes.fromStatus(workload.canary)
            let service = workload.canary.spec.service?.hosts?.first ?? apex
            if existing.spec?.service != service || (existing.spec?.backends?.count ?? 0) != 2 || !read.isValid {
                try await workload.kube.mergePatch(
                    TrafficSplit.self,
                    workload.namespace,
                    apex,
                    [
                        "spec": [
                            "service": .string(service),
                            "backends": try backendsJSON(primary: current.primary, canary: current.canary),
                        ]
                    ],
                    version: version
                )
            }
            return ReconciledRoutes(
                routes: current,
                repaired: read.isValid ? nil : Self.repairMessage(existing, restored: current)
            )
        }
        var metadata = ObjectMeta(name: apex, namespace: workload.namespace)
        metadata.ownerReferences = [workload.ownerReference]
        let split = TrafficSplit(
            metadata: metadata,
            spec: TrafficSplitSpec(
                service: workload.canary.spec.service?.hosts?.first ?? apex,
                backends: backends(primary: 100, canary: 0)
            ),
            version: version
        )
        _ = try await workload.kube.create(split, version: version)
        return ReconciledRoutes(routes: Routes(primary: 100, canary: 0))
    }

    /// The weights of the two backends, each clamped to -1…101 (so out-of-range values stay detectably invalid);
    /// a missing or unreadable backend weight reads -1.
    static func read(_ split: TrafficSplit, apex: String) -> Routes {
        var primary = -1
        var canary = -1
        for backend in split.spec?.backends ?? [] {
            let value = clampedWeight(backend.weight) ?? -1
            if backend.service == "\(apex)-canary" { canary = value }
            if backend.service == "\(apex)-primary" { primary = value }
        }
        return Routes(primary: primary, canary: canary)
    }

    static func repairMessage(_ split: TrafficSplit, restored: Routes) -> String {
        let written = (split.spec?.backends ?? []).map {
            "\($0.service ?? "?")=\(($0.weight?.raw ?? .null).serialized().prefix(40))"
        }.joined(separator: ", ")
        return "TrafficSplit weights [\(written)] are not weights a release writes; "
            + "restored to primary \(restored.primary) canary \(restored.canary)"
    }

    func setRoutes(primary: Int, canary: Int, mirrored: Bool) async throws {
        try await workload.kube.mergePatch(
            TrafficSplit.self,
            workload.namespace,
            workload.apexName,
            ["spec": ["backends": try backendsJSON(primary: primary, canary: canary)]],
            version: version
        )
    }
}

/// Gateway API `HTTPRoute` named after the apex service, as Flagger writes it: parentRefs from
/// `service.gatewayRefs` (for Linkerd: the apex Service itself), hostnames from `service.hosts`, and one weighted rule
/// of two backendRefs (`<apex>-primary`, `<apex>-canary`) with the matches of `service.match` (default: every path),
/// the filters of `service.headers`, `service.rewrite` and `service.mirror`, and `service.timeout`.
///
/// A/B testing (`analysis.match`): the weighted rule matches only the requests the analysis selects, and a second
/// rule sends every other request to the primary. Blue/green mirroring (`analysis.mirror` with iterations) adds a
/// RequestMirror filter to the canary while the analysis runs.
struct HTTPRouteRouter: Router {
    let workload: Workload
    let version: String

    var primaryService: String { "\(workload.apexName)-primary" }
    var canaryService: String { "\(workload.apexName)-canary" }
    var port: JSONValue { .int(Int64(workload.canary.spec.service?.port ?? 80)) }

    func backend(_ name: String, weight: Int) -> JSONValue {
        ["group": "", "kind": "Service", "name": .string(name), "port": port, "weight": .int(Int64(weight))]
    }

    /// The filters every rule carries: header modifiers, URL rewrite and the Canary's own mirrors.
    var commonFilters: [JSONValue] {
        let service = workload.canary.spec.service
        var filters: [JSONValue] = []
        for (direction, type, member) in [
            ("request", "RequestHeaderModifier", "requestHeaderModifier"),
            ("response", "ResponseHeaderModifier", "responseHeaderModifier"),
        ] {
            guard let operations = service?.headers?[direction]?.objectValue else { continue }
            var modifier: [String: JSONValue] = [:]
            for operation in ["add", "set"] {
                guard let headers = operations[operation]?.objectValue, !headers.isEmpty else { continue }
                modifier[operation] = .array(
                    headers.keys.sorted().map { ["name": .string($0), "value": headers[$0] ?? ""] }
                )
            }
            if let remove = operations["remove"]?.arrayValue, !remove.isEmpty { modifier["remove"] = .array(remove) }
            filters.append(["type": .string(type), member: .object(modifier)])
        }
        if let rewrite = service?.rewrite?.objectValue {
            var urlRewrite: [String: JSONValue] = [:]
            if let authority = rewrite["authority"]?.stringValue, !authority.isEmpty {
                urlRewrite["hostname"] = .string(authority)
            }
            if let uri = rewrite["uri"]?.stringValue, !uri.isEmpty {
                let full = rewrite["type"]?.stringValue == "ReplaceFullPath"
                urlRewrite["path"] =
                    full
                    ? ["type": "ReplaceFullPath", "replaceFullPath": .string(uri)]
                    : ["type": "ReplacePrefixMatch", "replacePrefixMatch": .string(uri)]
            }
            filters.append(["type": "URLRewrite", "urlRewrite": .object(urlRewrite)])
        }
        for mirror in service?.mirror ?? [] {
            filters.append(["type": "RequestMirror", "requestMirror": mirror])
        }
        return filters
    }

    /// The whole spec for the given routes.
    func spec(_ routes: Routes) -> JSONValue {
        let service = workload.canary.spec.service
        let analysis = workload.canary.spec.effectiveAnalysis
        let root = FieldPath("")
        var base = GatewayRouteMatches.convert(service?.match ?? [], at: root).matches
        if base.isEmpty { base = [["path": ["type": "PathPrefix", "value": "/"]]] }
        let filters = commonFilters
        let timeout: JSONValue? = service?.timeout.map { ["request": .string($0)] }

        var weightedFilters = filters
        if routes.mirrored, (analysis?.iterations ?? 0) > 0 {
            var mirror: JSONValue = [
                "backendRef": ["group": "", "kind": "Service", "name": .string(canaryService), "port": port]
            ]
            if let percent = analysis?.mirrorWeight, percent > 0, percent < 100 {
                mirror.setMember(["percent"], .int(Int64(percent)))
            }
            weightedFilters.append(["type": "RequestMirror", "requestMirror": mirror])
        }
        var weighted: JSONValue = [
            "matches": .array(base),
            "backendRefs": [
                backend(primaryService, weight: routes.primary), backend(canaryService, weight: routes.canary),
            ],
        ]
        if !weightedFilters.isEmpty { weighted.setMember(["filters"], .array(weightedFilters)) }
        if let timeout { weighted.setMember(["timeouts"], timeout) }
        var rules = [weighted]

        let selection = GatewayRouteMatches.convert(analysis?.match ?? [], at: root, analysis: true)
        if !(analysis?.match ?? []).isEmpty, !selection.problems.isEmpty || selection.matches.isEmpty {
            // An A/B selection that cannot be written must not leave the canary's weight on a rule that matches
            // every request: all traffic stays on the primary (the release rolls back with the reason).
            rules[0].setMember(
                ["backendRefs"],
                [backend(primaryService, weight: 100), backend(canaryService, weight: 0)]
            )
        }
        let abMatches = selection.problems.isEmpty ? selection.matches : []
        if !abMatches.isEmpty {
            rules[0].setMember(["matches"], .array(GatewayRouteMatches.merge(analysis: abMatches, service: base)))
            var fallback: JSONValue = ["matches": .array(base), "backendRefs": [backend(primaryService, weight: 100)]]
            if !filters.isEmpty { fallback.setMember(["filters"], .array(filters)) }
            if let timeout { fallback.setMember(["timeouts"], timeout) }
            rules.append(fallback)
        }

        let parents: [JSONValue] = (service?.gatewayRefs ?? []).map { reference in
            var parent: JSONValue = ["name": .string(reference.name)]
            if let group = reference.group { parent.setMember(["group"], .string(group)) }
            if let kind = reference.kind { parent.setMember(["kind"], .string(kind)) }
            if let namespace = reference.namespace { parent.setMember(["namespace"], .string(namespace)) }
            if let port = reference.port { parent.setMember(["port"], .int(Int64(port))) }
            if let section = reference.sectionName { parent.setMember(["sectionName"], .string(section)) }
            return parent
        }
        var spec: JSONValue = ["parentRefs": .array(parents), "rules": .array(rules)]
        spec.setMember(["hostnames"], service?.hosts.flatMap { $0.isEmpty ? nil : .array($0.map { .string($0) }) })
        return spec
    }

    func reconcile() async throws -> ReconciledRoutes {
        let apex = workload.apexName
        if let existing = try await workload.kube.get(HTTPRoute.self, workload.namespace, apex, version: version) {
            try workload.requireOwned(existing.metadata, kind: "HTTPRoute", name: apex)
            let read = Self.read(existing, primary: primaryService, canary: canaryService)
            var current = read
            var repaired: String?
            if !read.isValid {
                current = Routes.fromStatus(workload.canary)
                current.mirrored = read.mirrored
                repaired =
                    "HTTPRoute weights primary \(read.primary) canary \(read.canary) are not weights a release writes; "
                    + "restored to primary \(current.primary) canary \(current.canary)"
            }
            let desired = spec(current)
            // The API server adds defaults (parentRefs' group and kind, for one): compare only what we write, plus
            // the members we own and left out, which must be absent.
            let live = try JSONValueEncoder().encode(existing.spec ?? HTTPRouteSpec())
            if !Self.comparable(desired).isContained(in: live) {
                try await write(desired)
            }
            return ReconciledRoutes(routes: current, repaired: repaired)
        }
        var metadata = ObjectMeta(name: apex, namespace: workload.namespace)
        metadata.ownerReferences = [workload.ownerReference]
        let route = HTTPRoute(
            metadata: metadata,
            spec: try JSONValueDecoder().decode(HTTPRouteSpec.self, from: spec(Routes(primary: 100, canary: 0))),
            version: version
        )
        _ = try await workload.kube.create(route, version: version)
        return ReconciledRoutes(routes: Routes(primary: 100, canary: 0))
    }

    /// `desired` as compared with the live spec: an explicit null for each owned member it leaves out (hostnames;
    /// each rule's filters and timeouts), so one removed from the Canary is removed from the route too; and without
    /// a mirror's `percent`, which Gateway API CRDs before v1.2 prune (the weights' writes set it anyway).
    static func comparable(_ desired: JSONValue) -> JSONValue {
        var spec = desired
        if spec["hostnames"] == nil { spec.setMember(["hostnames"], .null) }
        let rules = (spec["rules"]?.arrayValue ?? []).map { rule in
            var rule = rule
            if rule["timeouts"] == nil { rule.setMember(["timeouts"], .null) }
            let filters = (rule["filters"]?.arrayValue ?? []).map { filter in
                var filter = filter
                if filter["type"] == "RequestMirror", var mirror = filter["requestMirror"]?.objectValue {
                    mirror["percent"] = nil
                    filter.setMember(["requestMirror"], .object(mirror))
                }
                return filter
            }
            rule.setMember(["filters"], filters.isEmpty ? .null : .array(filters))
            return rule
        }
        spec.setMember(["rules"], .array(rules))
        return spec
    }

    /// Routes of an HTTPRoute: the weights of the rule with both backends, and whether a rule mirrors to the
    /// canary.
    static func read(_ route: HTTPRoute, primary: String, canary: String) -> Routes {
        var routes = Routes(primary: 100, canary: 0)
        for rule in route.spec?.rules ?? [] {
            let backends = rule.backendRefs ?? []
            if backends.count == 2 {
                for backend in backends {
                    // Gateway API's default weight is 1; anything unreadable is -1, i.e. invalid.
                    let weight = backend.weight == nil ? 1 : clampedWeight(backend.weight) ?? -1
                    if backend.name == primary { routes.primary = weight }
                    if backend.name == canary { routes.canary = weight }
                }
            }
            for filter in rule.filters ?? []
            where filter["type"] == "RequestMirror"
                && filter["requestMirror", "backendRef", "name"]?.stringValue == canary
            {
                routes.mirrored = true
            }
        }
        return routes
    }

    func setRoutes(primary: Int, canary: Int, mirrored: Bool) async throws {
        try await write(spec(Routes(primary: primary, canary: canary, mirrored: mirrored)))
    }

    /// Replaces the spec's members we own (a merge patch with `hostnames: null` when there are none).
    func write(_ desired: JSONValue) async throws {
        var spec = desired.objectValue ?? [:]
        if spec["hostnames"] == nil { spec["hostnames"] = .null }
        try await workload.kube.mergePatch(
            HTTPRoute.self,
            workload.namespace,
            workload.apexName,
            ["spec": .object(spec)],
            version: version
        )
    }
}

/// The `kubernetes` provider: no traffic object; the apex service switches to the primary at promotion (blue/green).
struct KubernetesRouter: Router {
    func reconcile() async throws -> ReconciledRoutes { ReconciledRoutes(routes: Routes(primary: 100, canary: 0)) }
    func setRoutes(primary: Int, canary: Int, mirrored: Bool) async throws {}
}
