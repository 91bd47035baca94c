import Foundation
import JSONValue
import KubeModels

extension DevCluster {
    /// A CRD about to be stored: its schema must build, and its status says it is established under its names.
    func prepareCustomResourceDefinition(_ type: ResourceType, _ object: JSONValue) throws -> JSONValue {
        guard type.resource == "customresourcedefinitions", type.group == "apiextensions.k8s.io" else { return object }
        let name = object["metadata", "name"]?.stringValue ?? ""
        let served: [ResourceType]
        do { served = try ResourceType.fromCRD(object) } catch {
            throw APIError.invalid(
                type,
                name,
                error.fieldErrors.isEmpty ? [.invalid("spec", .null, error.message)] : error.fieldErrors
            )
        }
        let group = object["spec", "group"]?.stringValue ?? ""
        let plural = object["spec", "names", "plural"]?.stringValue ?? ""
        if name != "\(plural).\(group)" {
            throw APIError.invalid(
                type,
                name,
                [.invalid("metadata.name", .string(name), "must be spec.names.plural+\".\"+spec.group")]
            )
        }
        if served.isEmpty {
            throw APIError.invalid(type, name, [.required("spec.versions", "must have at least one served version")])
        }
        let storageVersions = (object["spec", "versions"]?.arrayValue ?? []).filter { $0["storage"]?.boolValue == true }
        if storageVersions.count != 1 {
            throw APIError.invalid(
                type,
                name,
                [
                    .invalid(
                        "spec.versions",
                        .int(Int64(storageVersions.count)),
                        "must have exactly one version marked as storage version"
                    )
                ]
            )
        }
        let now = Self.timestamp()
        var status: [String: JSONValue] = [
            "acceptedNames": object["spec", "names"] ?? [:],
            "conditions": [
                [
                    "type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found",
                    "lastTransitionTime": .string(now),
                ],
                [
                    "type": "Established", "status": "True", "reason": "InitialNamesAccepted",
                    "message": "the initial names have been accepted", "lastTransitionTime": .string(now),
                ],
            ],
        ]
        status["storedVersions"] = .array(storageVersions.compactMap { $0["name"] })
        return Self.with(object, ["status"], .object(status))
    }

    /// Side effects of a stored write: a CRD starts (or changes) serving its kind.
    func afterWrite(_ type: ResourceType, _ object: JSONValue) throws {
        guard type.resource == "customresourcedefinitions", type.group == "apiextensions.k8s.io" else { return }
        guard let served = try? ResourceType.fromCRD(object) else { return }
        if let group = object["spec", "group"]?.stringValue, let plural = object["spec", "names", "plural"]?.stringValue
        {
            registry.unregister(group: group, resource: plural)
        }
        for resourceType in served { registry.register(resourceType) }
    }

    /// A deleted CRD takes its objects with it.
    func removeCustomResources(_ crd: JSONValue) {
        guard let group = crd["spec", "group"]?.stringValue, let plural = crd["spec", "names", "plural"]?.stringValue
        else { return }
        let removedTypes = registry.unregister(group: group, resource: plural)
        guard let type = removedTypes.first else { return }
        let (items, _) = store.list(resource: Self.bucket(type), namespace: nil)
        for item in items {
            guard let name = item["metadata", "name"]?.stringValue else { continue }
            _ = try? store.remove(key(type, namespace: item["metadata", "namespace"]?.stringValue, name: name))
        }
    }
}
