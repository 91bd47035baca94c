import Foundation
import JSONValue
import KubeModels

extension DevCluster {
    static let aggregatedDiscovery = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

    /// Whether the client offered aggregated discovery v2 (kubectl 1.30+); older clients get the legacy format.
    static func wantsAggregated(_ request: APIRequest) -> Bool {
        request.accept.split(separator: ",").contains { part in
            let parameters = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            return parameters.contains("g=apidiscovery.k8s.io") && parameters.contains("v=v2")
                && parameters.contains("as=APIGroupDiscoveryList")
        }
    }

    func discoveryCore(_ request: APIRequest) -> APIResponse {
        if Self.wantsAggregated(request) {
            return aggregated(registry.all.filter { $0.group.isEmpty }, core: true)
        }
        return .json(
            [
                "kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"]],
            ]
        )
    }

    func discoveryGroups(_ request: APIRequest) -> APIResponse {
        let types = registry.all.filter { !$0.group.isEmpty }
        if Self.wantsAggregated(request) { return aggregated(types, core: false) }
        return .json(["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groups(types).map(apiGroupJSON))])
    }

    func apiGroup(_ group: String) throws -> APIResponse {
        guard let found = groups(registry.all.filter { $0.group == group }).first else { throw APIError.notFoundPath }
        var json = apiGroupJSON(found)
        json.setMember(["kind"], "APIGroup")
        json.setMember(["apiVersion"], "v1")
        return .json(json)
    }

    /// Groups in discovery order, each with its versions, preferred first.
    func groups(_ types: [ResourceType]) -> [(name: String, versions: [String])] {
        var order: [String] = []
        var versions: [String: Set<String>] = [:]
        for type in types {
            if versions[type.group] == nil { order.append(type.group) }
            versions[type.group, default: []].insert(type.version)
        }
        return order.map { ($0, (versions[$0] ?? []).sorted { Self.versionPriority($0) > Self.versionPriority($1) }) }
    }

    /// Kubernetes version ordering: GA over beta over alpha, higher numbers first.
    static func versionPriority(_ version: String) -> Int {
        let scanner = version.dropFirst()
        let digits = scanner.prefix { $0.isNumber }
        let major = Int(digits) ?? 0
        let rest = scanner.dropFirst(digits.count)
        if rest.isEmpty { return 3_000_000 + major * 1000 }
        let minor = Int(rest.drop { !$0.isNumber }) ?? 0
        if rest.hasPrefix("beta") { return 2_000_000 + major * 1000 + minor }
        if rest.hasPrefix("alpha") { return 1_000_000 + major * 1000 + minor }
        return major
    }

    func apiGroupJSON(_ group: (name: String, versions: [String])) -> JSONValue {
        let versions: [JSONValue] = group.versions.map {
            ["groupVersion": .string("\(group.name)/\($0)"), "version": .string($0)]
        }
        return ["name": .string(group.name), "versions": .array(versions), "preferredVersion": versions.first ?? [:]]
    }

    func resourceList(group: String, version: String) throws -> APIResponse {
        let types = registry.all.filter { $0.group == group && $0.version == version }
        guard !types.isEmpty else { throw APIError.notFoundPath }
        var resources: [JSONValue] = []
        for type in types {
            var entry: [String: JSONValue] = [
                "name": .string(type.resource), "singularName": .string(type.singular),
                "namespaced": .bool(type.namespaced), "kind": .string(type.kind),
                "verbs": .array(ResourceType.standardVerbs.map { .string($0) }),
            ]
            if !type.shortNames.isEmpty { entry["shortNames"] = .array(type.shortNames.map { .string($0) }) }
            if !type.categories.isEmpty { entry["categories"] = .array(type.categories.map { .string($0) }) }
            resources.append(.object(entry))
            if type.hasStatus {
                resources.append(
                    [
                        "name": .string("\(type.resource)/status"), "singularName": "",
                        "namespaced": .bool(type.namespaced),
                        "kind": .string(type.kind), "verbs": ["get", "patch", "update"],
                    ]
                )
            }
            if type.scale != nil {
                resources.append(
                    [
                        "name": .string("\(type.resource)/scale"), "singularName": "",
                        "namespaced": .bool(type.namespaced),
                        "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"],
                    ]
                )
            }
        }
        return .json(
            [
                "kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"),
                "resources": .array(resources),
            ]
        )
    }

    func aggregated(_ types: [ResourceType], core: Bool) -> APIResponse {
        var items: [JSONValue] = []
        for group in groups(types) {
            var versions: [JSONValue] = []
            for version in group.versions {
                let resources: [JSONValue] = types.filter { $0.group == group.name && $0.version == version }.map {
                    aggregatedResource($0)
                }
                versions.append(["version": .string(version), "freshness": "Current", "resources": .array(resources)])
            }
            items.append(["metadata": ["name": .string(group.name)], "versions": .array(versions)])
        }
        let body: JSONValue = [
            "kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": [:],
            "items": .array(items),
        ]
        return APIResponse(status: 200, contentType: Self.aggregatedDiscovery, body: .bytes(body.serializedBytes()))
    }

    func aggregatedResource(_ type: ResourceType) -> JSONValue {
        var entry: [String: JSONValue] = [
            "resource": .string(type.resource),
            "responseKind": [
                "group": .string(type.group), "version": .string(type.version), "kind": .string(type.kind),
            ],
            "scope": .string(type.namespaced ? "Namespaced" : "Cluster"),
            "singularResource": .string(type.singular),
            "verbs": .array(ResourceType.standardVerbs.map { .string($0) }),
        ]
        if !type.shortNames.isEmpty { entry["shortNames"] = .array(type.shortNames.map { .string($0) }) }
        if !type.categories.isEmpty { entry["categories"] = .array(type.categories.map { .string($0) }) }
        var subresources: [JSONValue] = []
        if type.scale != nil {
            subresources.append(
                [
                    "subresource": "scale", "responseKind": ["group": "autoscaling", "version": "v1", "kind": "Scale"],
                    "verbs": ["get", "patch", "update"],
                ]
            )
        }
        if type.hasStatus {
            subresources.append(
                [
                    "subresource": "status",
                    "responseKind": [
                        "group": .string(type.group), "version": .string(type.version), "kind": .string(type.kind),
                    ],
                    "verbs": ["get", "patch", "update"],
                ]
            )
        }
        if !subresources.isEmpty { entry["subresources"] = .array(subresources) }
        return .object(entry)
    }

    // MARK: - OpenAPI v3

    /// The root document: one entry per served group-version.
    func openAPIRoot() -> JSONValue {
        var paths: [String: JSONValue] = [:]
        for type in registry.all {
            let key = type.group.isEmpty ? "api/\(type.version)" : "apis/\(type.group)/\(type.version)"
            paths[key] = ["serverRelativeURL": .string("/openapi/v3/\(key)")]
        }
        return ["paths": .object(paths)]
    }

    /// A group-version document with, per kind, the PATCH operation kubectl looks for: its GVK and the
    /// `fieldValidation` parameter that tells kubectl the server validates fields itself.
    func openAPIDocument(group: String, version: String) throws -> APIResponse {
        let types = registry.all.filter { $0.group == group && $0.version == version }
        guard !types.isEmpty else { throw APIError.notFoundPath }
        var paths: [String: JSONValue] = [:]
        var schemas: [String: JSONValue] = [:]
        for type in types {
            let collection =
                type.groupVersionPath + (type.namespaced ? "/namespaces/{namespace}/" : "/") + type.resource
            let gvk: JSONValue = ["group": .string(group), "version": .string(version), "kind": .string(type.kind)]
            let parameters: JSONValue = [
                ["name": "fieldValidation", "in": "query", "schema": ["type": "string"]],
                ["name": "dryRun", "in": "query", "schema": ["type": "string"]],
                ["name": "fieldManager", "in": "query", "schema": ["type": "string"]],
            ]
            let operation: JSONValue = ["x-kubernetes-group-version-kind": gvk, "parameters": parameters]
            paths[collection + "/{name}"] = [
                "get": ["x-kubernetes-group-version-kind": gvk], "patch": operation, "put": operation,
            ]
            paths[collection] = ["post": operation]
            let schemaName =
                (group.isEmpty ? "io.k8s.api.core" : group.split(separator: ".").reversed().joined(separator: "."))
                + ".\(version).\(type.kind)"
            var schema = type.schema?.json ?? ["type": "object", "x-kubernetes-preserve-unknown-fields": true]
            schema.setMember(["x-kubernetes-group-version-kind"], [gvk])
            schemas[schemaName] = schema
        }
        return .json(
            [
                "openapi": "3.0.0", "info": ["title": "Kubernetes", "version": "v1.32.0"], "paths": .object(paths),
                "components": ["schemas": .object(schemas)],
            ]
        )
    }
}
