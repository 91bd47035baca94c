import Foundation
import JSONValue
import KubeModels
import Synchronization

/// How dependents are treated when their owner is deleted.
enum PropagationPolicy: String {
    case background = "Background"
    case foreground = "Foreground"
    case orphan = "Orphan"
}

extension DevCluster {
    func delete(
        _ type: ResourceType,
        _ path: ResourcePath,
        name: String,
        _ request: APIRequest
    ) async throws
        -> APIResponse
    {
        guard path.subresource == nil else { throw APIError.methodNotAllowed }
        let options = try deleteOptions(request)
        let key = key(type, namespace: path.namespace, name: name)
        guard let stored = store.get(key) else { throw APIError.notFound(type, name) }
        let current = served(stored, as: type)
        if let uid = options["preconditions", "uid"]?.stringValue, uid != current["metadata", "uid"]?.stringValue {
            throw APIError(
                code: 409,
                reason: "Conflict",
                message: "Operation cannot be fulfilled on \(type.qualifiedResource) \"\(name)\": Precondition failed: "
                    + "UID in precondition: \(uid), UID in object meta: \(current["metadata", "uid"]?.stringValue ?? "")"
            )
        }
        if let version = options["preconditions", "resourceVersion"]?.stringValue,
            version != current["metadata", "resourceVersion"]?.stringValue
        {
            throw APIError.conflict(type, name)
        }
        let dryRun = request.isDryRun || (options["dryRun"]?.arrayValue?.contains("All") ?? false)
        var dryRequest = request
        if dryRun { dryRequest.query["dryRun"] = "All" }
        _ = try await admission.validate(
            cluster: self,
            type: type,
            operation: .delete,
            subresource: nil,
            object: nil,
            old: current,
            request: dryRequest
        )
        let policy =
            options["propagationPolicy"]?.stringValue.flatMap(PropagationPolicy.init(rawValue:))
            ?? (options["orphanDependents"]?.boolValue == true ? .orphan : .background)
        if dryRun { return deletedResponse(type, current) }
        let result = try deleteObject(type, key, policy: policy)
        return deletedResponse(type, served(result, as: type))
    }

    func deleteCollection(
        _ type: ResourceType,
        _ path: ResourcePath,
        _ request: APIRequest
    ) async throws
        -> APIResponse
    {
        let filter = try selectorFilter(type, request)
        let (items, revision) = store.list(resource: Self.bucket(type), namespace: path.namespace)
        var deleted: [JSONValue] = []
        for item in items where filter(item) {
            guard let name = item["metadata", "name"]?.stringValue else { continue }
            let key = key(type, namespace: item["metadata", "namespace"]?.stringValue, name: name)
            if request.isDryRun {
                deleted.append(served(item, as: type))
            } else if let removed = try? deleteObject(type, key, policy: .background) {
                deleted.append(served(removed, as: type))
            }
        }
        return .json(
            [
                "kind": .string(type.listKind), "apiVersion": .string(type.apiVersion),
                "metadata": ["resourceVersion": .string(String(revision))], "items": .array(deleted),
            ]
        )
    }

    /// Custom resources answer a delete with the object; built-in kinds with a success Status, as kube-apiserver.
    func deletedResponse(_ type: ResourceType, _ object: JSONValue) -> APIResponse {
        if type.isCustom || object["metadata", "deletionTimestamp"] != nil || type.resource == "pods" {
            return .json(object)
        }
        return .json(
            [
                "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success",
                "details": [
                    "name": object["metadata", "name"] ?? "", "group": .string(type.group),
                    "kind": .string(type.resource), "uid": object["metadata", "uid"] ?? "",
                ],
            ]
        )
    }

    /// DeleteOptions from the body (kubectl) or the query.
    func deleteOptions(_ request: APIRequest) throws -> JSONValue {
        var options: JSONValue = [:]
        if request.body.starts(with: KubernetesProtobuf.magic) {
            // client-go (Helm, controllers) sends DeleteOptions as protobuf.
            do { options = try KubernetesProtobuf.decode(request.body) } catch {
                throw APIError.badRequest("error decoding DeleteOptions: \(error)")
            }
            guard options["kind"] == "DeleteOptions" else {
                throw APIError.badRequest(
                    "error decoding DeleteOptions: the body is a \(options["kind"]?.stringValue ?? "?"), not DeleteOptions"
                )
            }
        } else if !request.body.isEmpty {
            do { options = try JSONValue(parsing: request.body) } catch {
                throw APIError.badRequest("error decoding DeleteOptions: \(error)")
            }
        }
        if let policy = request.query["propagationPolicy"] { options.setMember(["propagationPolicy"], .string(policy)) }
        if let policy = options["propagationPolicy"]?.stringValue, PropagationPolicy(rawValue: policy) == nil {
            throw APIError.badRequest(
                "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"\(policy)\": "
                    + "supported values: \"Foreground\", \"Background\", \"Orphan\""
            )
        }
        return options
    }

    /// Deletes one object: marks it terminating while finalizers remain, otherwise removes it and collects its
    /// dependents per the policy. Returns the object as it ends up.
    @discardableResult
    func deleteObject(_ type: ResourceType, _ key: ObjectKey, policy: PropagationPolicy) throws -> JSONValue {
        guard let current = store.get(key) else { throw APIError.notFound(type, key.name) }
        let finalizers = current["metadata", "finalizers"]?.arrayValue ?? []
        if type.resource == "namespaces" { return try terminateNamespace(key.name) }
        if !finalizers.isEmpty || policy == .foreground {
            if policy == .foreground { deleteDependents(of: current, policy: .foreground) }
            if finalizers.isEmpty, let removed = try? store.remove(key) {
                afterRemoval(type, removed)
                return removed
            }
            if current["metadata", "deletionTimestamp"] != nil { return current }
            let marked = try? store.update(key, expected: nil) { object, _ in
                var object = object
                object.setMember(["metadata", "deletionTimestamp"], .string(Self.timestamp()))
                object.setMember(["metadata", "deletionGracePeriodSeconds"], .int(0))
                return object
            }
            return marked ?? current
        }
        let removed: JSONValue
        do { removed = try store.remove(key) } catch { throw APIError.notFound(type, key.name) }
        counters.withLock { $0.writes += 1 }
        if policy == .orphan { orphanDependents(of: removed) }
        afterRemoval(type, removed)
        return removed
    }

    /// Bookkeeping after an object is gone for good: its dependents, its CRD's objects, its namespace.
    func afterRemoval(_ type: ResourceType, _ removed: JSONValue) {
        deleteDependents(of: removed, policy: .background)
        if type.resource == "customresourcedefinitions" { removeCustomResources(removed) }
        if let namespace = removed["metadata", "namespace"]?.stringValue { finishNamespaceIfEmpty(namespace) }
    }

    /// Background garbage collection: a dependent whose every owner is gone is deleted.
    func deleteDependents(of owner: JSONValue, policy: PropagationPolicy) {
        guard let uid = owner["metadata", "uid"]?.stringValue else { return }
        let everything = store.everything()
        let living = Set(everything.compactMap { $0.object["metadata", "uid"]?.stringValue })
        for (resource, object) in everything {
            let references = object["metadata", "ownerReferences"]?.arrayValue ?? []
            guard references.contains(where: { $0["uid"]?.stringValue == uid }) else { continue }
            let others = references.filter { $0["uid"]?.stringValue != uid }
            let allGone = others.allSatisfy { reference in
                guard let otherUID = reference["uid"]?.stringValue else { return true }
                return !living.contains(otherUID)
            }
            guard allGone, let type = type(ofBucket: resource, object),
                let name = object["metadata", "name"]?.stringValue
            else { continue }
            let key = key(type, namespace: object["metadata", "namespace"]?.stringValue, name: name)
            _ = try? deleteObject(type, key, policy: policy == .foreground ? .foreground : .background)
        }
    }

    func orphanDependents(of owner: JSONValue) {
        guard let uid = owner["metadata", "uid"]?.stringValue else { return }
        for (resource, object) in store.everything() {
            let references = object["metadata", "ownerReferences"]?.arrayValue ?? []
            guard references.contains(where: { $0["uid"]?.stringValue == uid }),
                let type = type(ofBucket: resource, object), let name = object["metadata", "name"]?.stringValue
            else { continue }
            let key = key(type, namespace: object["metadata", "namespace"]?.stringValue, name: name)
            _ = try? store.update(key, expected: nil) { object, _ in
                let kept = references.filter { $0["uid"]?.stringValue != uid }
                return Self.with(object, ["metadata", "ownerReferences"], kept.isEmpty ? nil : .array(kept))
            }
        }
    }

    func type(ofBucket bucket: String, _ object: JSONValue) -> ResourceType? {
        if let apiVersion = object["apiVersion"]?.stringValue, let kind = object["kind"]?.stringValue,
            let type = registry.lookup(apiVersion: apiVersion, kind: kind)
        {
            return type
        }
        return registry.all.first { Self.bucket($0) == bucket }
    }

    // MARK: - Namespaces

    /// Marks a namespace Terminating, deletes what it holds, and removes it once empty.
    func terminateNamespace(_ name: String) throws -> JSONValue {
        let key = ObjectKey(resource: "namespaces", namespace: "", name: name)
        let marked = try? store.update(key, expected: nil) { object, _ in
            guard object["metadata", "deletionTimestamp"] == nil else { return nil }
            var object = object
            object.setMember(["metadata", "deletionTimestamp"], .string(Self.timestamp()))
            object.setMember(["metadata", "deletionGracePeriodSeconds"], .int(0))
            object.setMember(["status", "phase"], "Terminating")
            return object
        }
        guard let marked else { throw APIError.namespaceNotFound(name) }
        for (resource, object) in store.everything() where object["metadata", "namespace"]?.stringValue == name {
            guard let type = type(ofBucket: resource, object), let objectName = object["metadata", "name"]?.stringValue
            else { continue }
            _ = try? deleteObject(type, self.key(type, namespace: name, name: objectName), policy: .background)
        }
        finishNamespaceIfEmpty(name)
        return marked
    }

    func finishNamespaceIfEmpty(_ name: String) {
        let key = ObjectKey(resource: "namespaces", namespace: "", name: name)
        guard let namespace = store.get(key), namespace["metadata", "deletionTimestamp"] != nil else { return }
        let holdsObjects = store.everything().contains { $0.object["metadata", "namespace"]?.stringValue == name }
        if !holdsObjects { _ = try? store.remove(key) }
    }
}
