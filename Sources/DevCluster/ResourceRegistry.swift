import JSONValue
import KubeModels
import Synchronization

/// The kinds served right now: the built-ins plus one per established CRD version.
public final class ResourceRegistry: Sendable {
    private let types = Mutex<[String: ResourceType]>([:])

    public init(builtins: [ResourceType] = ResourceType.builtins) {
        types.withLock { types in
            for type in builtins { types[Self.key(type.group, type.version, type.resource)] = type }
        }
    }

    static func key(_ group: String, _ version: String, _ resource: String) -> String {
        "\(group)/\(version)/\(resource)"
    }

    /// The type served at `group/version/resource`.
    public func lookup(group: String, version: String, resource: String) -> ResourceType? {
        types.withLock { $0[Self.key(group, version, resource)] }
    }

    /// The type of objects of `apiVersion`/`kind`.
    public func lookup(apiVersion: String, kind: String) -> ResourceType? {
        let (group, version) = Self.split(apiVersion: apiVersion)
        return types.withLock { types in
            types.values.first { $0.group == group && $0.version == version && $0.kind == kind }
        }
    }

    /// Every type, sorted by group then resource (discovery order).
    public var all: [ResourceType] {
        types.withLock { Array($0.values) }.sorted {
            ($0.group, $0.version, $0.resource) < ($1.group, $1.version, $1.resource)
        }
    }

    /// Whether any version of the group is served.
    public func serves(group: String) -> Bool { types.withLock { $0.values.contains { $0.group == group } } }

    func register(_ type: ResourceType) {
        types.withLock { $0[Self.key(type.group, type.version, type.resource)] = type }
    }

    /// Removes the types a CRD registered; returns them.
    @discardableResult
    func unregister(group: String, resource: String) -> [ResourceType] {
        types.withLock { types in
            let keys = types.filter { $0.value.isCustom && $0.value.group == group && $0.value.resource == resource }
            for key in keys.keys { types[key] = nil }
            return Array(keys.values)
        }
    }

    static func split(apiVersion: String) -> (group: String, version: String) {
        guard let slash = apiVersion.lastIndex(of: "/") else { return ("", apiVersion) }
        return (String(apiVersion[..<slash]), String(apiVersion[apiVersion.index(after: slash)...]))
    }
}

extension ResourceType {
    /// The served types a CRD object declares, or the field errors that make it unservable.
    static func fromCRD(_ crd: JSONValue) throws(CRDSchemaError) -> [ResourceType] {
        guard let spec = crd["spec"], let group = spec["group"]?.stringValue,
            let plural = spec["names", "plural"]?.stringValue, let kind = spec["names", "kind"]?.stringValue
        else { throw CRDSchemaError(message: "spec.group, spec.names.plural and spec.names.kind are required") }
        let names = spec["names"] ?? [:]
        let namespaced = spec["scope"]?.stringValue != "Cluster"
        var result: [ResourceType] = []
        let storageVersion = (spec["versions"]?.arrayValue ?? []).first { $0["storage"]?.boolValue == true }?["name"]?
            .stringValue
        for (index, version) in (spec["versions"]?.arrayValue ?? []).enumerated() {
            guard let name = version["name"]?.stringValue else {
                throw CRDSchemaError(message: "spec.versions[\(index)].name: Required value")
            }
            if version["served"]?.boolValue == false { continue }
            var schema: StructuralSchema?
            let openAPI = version["schema", "openAPIV3Schema"]
            if let openAPI {
                schema = try StructuralSchema.fromOpenAPIV3(
                    openAPI,
                    at: FieldPath("spec.versions[\(index)].schema.openAPIV3Schema")
                )
            }
            var scale: ScaleSubresource?
            if let scaleSpec = version["subresources", "scale"], let spec = scaleSpec["specReplicasPath"]?.stringValue,
                let status = scaleSpec["statusReplicasPath"]?.stringValue
            {
                scale = ScaleSubresource(
                    specReplicasPath: spec,
                    statusReplicasPath: status,
                    labelSelectorPath: scaleSpec["labelSelectorPath"]?.stringValue
                )
            }
            result.append(
                ResourceType(
                    group: group,
                    version: name,
                    kind: kind,
                    resource: plural,
                    singular: names["singular"]?.stringValue ?? kind.lowercased(),
                    namespaced: namespaced,
                    shortNames: names["shortNames"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                    categories: names["categories"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                    hasStatus: version["subresources", "status"] != nil,
                    scale: scale,
                    schema: schema,
                    openAPIV3: openAPI,
                    printerColumns: TableConvertor.printerColumns(fromCRDVersion: version),
                    isCustom: true,
                    storageVersion: storageVersion
                )
            )
        }
        return result
    }
}
