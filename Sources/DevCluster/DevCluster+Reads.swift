import Foundation
import JSONValue
import KubeModels

extension DevCluster {
    func get(_ type: ResourceType, _ path: ResourcePath, name: String, _ request: APIRequest) throws -> APIResponse {
        let key = key(type, namespace: path.namespace, name: name)
        guard let stored = store.get(key) else { throw APIError.notFound(type, name) }
        let object = served(stored, as: type)
        if path.subresource == "scale", let scale = type.scale { return .json(Self.scaleObject(object, scale)) }
        if request.wantsTable {
            let table = TableConvertor.table(
                columns: columns(type),
                rows: [(cells(type, object), object)],
                resourceVersion: object["metadata", "resourceVersion"]?.stringValue ?? "",
                includeHeaders: true
            )
            return .json(table)
        }
        return .json(object)
    }

    func list(_ type: ResourceType, _ path: ResourcePath, _ request: APIRequest) throws -> APIResponse {
        let filter = try selectorFilter(type, request)
        let (all, revision) = store.list(resource: Self.bucket(type), namespace: path.namespace)
        var items = all.filter(filter).map { served($0, as: type) }
        var metadata: [String: JSONValue] = ["resourceVersion": .string(String(revision))]
        if let limit = request.query["limit"].flatMap(Int.init), limit > 0 {
            var start = 0
            if let token = request.query["continue"], !token.isEmpty {
                guard let offset = Self.decodeContinue(token) else {
                    throw APIError.badRequest("continue key is not valid: illegal base64 data")
                }
                start = offset
            }
            let end = min(items.count, start + limit)
            if end < items.count {
                metadata["continue"] = .string(Self.encodeContinue(end))
                metadata["remainingItemCount"] = .int(Int64(items.count - end))
            }
            items = start < items.count ? Array(items[start..<end]) : []
        }
        if request.wantsTable {
            let table = TableConvertor.table(
                columns: columns(type),
                rows: items.map { (cells(type, $0), $0) },
                resourceVersion: String(revision),
                continue: metadata["continue"]?.stringValue,
                includeHeaders: true
            )
            return .json(table)
        }
        let list: JSONValue = [
            "kind": .string(type.listKind), "apiVersion": .string(type.apiVersion), "metadata": .object(metadata),
            "items": .array(items),
        ]
        return .json(list)
    }

    static func encodeContinue(_ offset: Int) -> String { Data("offset:\(offset)".utf8).base64EncodedString() }

    static func decodeContinue(_ token: String) -> Int? {
        guard let data = Data(base64Encoded: token), let text = String(data: data, encoding: .utf8),
            text.hasPrefix("offset:")
        else { return nil }
        return Int(text.dropFirst(7))
    }

    /// The label and field selectors of a request as one predicate; 400 with kube-apiserver's wording when a
    /// selector does not parse or names an unsupported field.
    func selectorFilter(_ type: ResourceType, _ request: APIRequest) throws -> @Sendable (JSONValue) -> Bool {
        var labelSelector: LabelSelector?
        var fieldSelector: FieldSelector?
        if let raw = request.query["labelSelector"], !raw.isEmpty {
            do { labelSelector = try LabelSelector(parsing: raw) } catch { throw APIError.badRequest(error.message) }
        }
        if let raw = request.query["fieldSelector"], !raw.isEmpty {
            // kubectl wraps a 400 here in its own "Unable to find ... that match ..." text.
            do {
                fieldSelector = try FieldSelectorFields.validated(FieldSelector(parsing: raw), resource: type.resource)
            } catch {
                throw APIError.badRequest(error.message)
            }
        }
        let resource = type.resource
        let labels = labelSelector
        let fields = fieldSelector
        return { object in
            if let labels, !labels.matches(object.labels) { return false }
            if let fields,
                !fields.matches({ FieldSelectorFields.value(of: $0, in: object, resource: resource) })
            {
                return false
            }
            return true
        }
    }

    func columns(_ type: ResourceType) -> [TableColumn] {
        if let printerColumns = type.printerColumns { return TableConvertor.columns(for: printerColumns) }
        return TableConvertor.builtin(resource: type.resource)
    }

    func cells(_ type: ResourceType, _ object: JSONValue) -> [JSONValue] {
        if let printerColumns = type.printerColumns {
            return TableConvertor.customCells(printerColumns, object: object, now: Date())
        }
        return TableConvertor.builtinCells(resource: type.resource, object: object, now: Date())
    }

    /// The `autoscaling/v1` Scale view of an object.
    static func scaleObject(_ object: JSONValue, _ scale: ScaleSubresource) -> JSONValue {
        let metadata = object["metadata"] ?? [:]
        var scaleMetadata: [String: JSONValue] = [:]
        for key in ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"] {
            if let value = metadata[key] { scaleMetadata[key] = value }
        }
        let specReplicas = value(at: scale.specReplicasPath, in: object)?.intValue ?? 0
        let statusReplicas = value(at: scale.statusReplicasPath, in: object)?.intValue ?? 0
        var status: [String: JSONValue] = ["replicas": .int(statusReplicas)]
        if let selector = scale.labelSelectorPath.flatMap({ value(at: $0, in: object) })?.stringValue {
            status["selector"] = .string(selector)
        } else if let matchLabels = object["spec", "selector", "matchLabels"]?.objectValue {
            status["selector"] = .string(
                matchLabels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.stringValue ?? "")" }
                    .joined(separator: ",")
            )
        }
        return [
            "kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": .object(scaleMetadata),
            "spec": ["replicas": .int(specReplicas)], "status": .object(status),
        ]
    }

    /// The value at a simple `.a.b.c` path.
    /// The value a CRD's scale path (a JSONPath such as `.spec.replicas`) selects.
    static func value(at path: String, in object: JSONValue) -> JSONValue? {
        (try? JSONPathExpression(path))?.evaluate(object).first
    }

    static func members(of path: String) -> [String] { path.split(separator: ".").map(String.init) }
}

extension GroupVersionResource: CustomStringConvertible {
    /// `/v1, Resource=events` or `apps/v1, Resource=deployments`, as kube-apiserver prints it.
    public var description: String {
        "\(group.isEmpty ? "" : group)/\(version), Resource=\(resource)"
    }
}
