import Foundation
import JSONValue
import KubeModels
import KubeYAML
import Synchronization

/// The operation an admission webhook is told about.
enum WriteOperation: String {
    case create = "CREATE"
    case update = "UPDATE"
    case delete = "DELETE"
}

extension DevCluster {
    // MARK: - Create

    func create(_ type: ResourceType, _ path: ResourcePath, _ request: APIRequest) async throws -> APIResponse {
        let object = try decodeObject(request, type)
        let (created, warnings) = try await createObject(type, namespace: path.namespace, object, request)
        return .json(created, status: 201, warnings: warnings)
    }

    /// The create pipeline: names, namespace, defaults, mutating admission, validation, validating admission, store.
    func createObject(
        _ type: ResourceType,
        namespace: String?,
        _ body: JSONValue,
        _ request: APIRequest
    ) async throws -> (JSONValue, [String]) {
        var object = body
        var warnings: [String] = []
        if type.namespaced {
            let bodyNamespace = object["metadata", "namespace"]?.stringValue ?? ""
            if let namespace, !bodyNamespace.isEmpty, bodyNamespace != namespace {
                throw APIError.badRequest(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            }
            guard let namespace else { throw APIError.methodNotAllowed }
            try checkNamespaceAcceptsWrites(namespace, type, object["metadata", "name"]?.stringValue ?? "")
            object.setMember(["metadata", "namespace"], .string(namespace))
        } else {
            object.setMember(["metadata", "namespace"], nil)
        }
        if (object["metadata", "name"]?.stringValue ?? "").isEmpty {
            guard let prefix = object["metadata", "generateName"]?.stringValue, !prefix.isEmpty else {
                throw APIError.invalid(
                    type,
                    "",
                    [.required("metadata.name", "name or generateName is required")]
                )
            }
            object.setMember(["metadata", "name"], .string(prefix + Self.randomSuffix()))
        }
        let name = object["metadata", "name"]?.stringValue ?? ""
        for member in ["resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"] {
            object.setMember(["metadata", member], nil)
        }
        if type.hasStatus, type.resource != "namespaces" { object.setMember(["status"], nil) }
        object = systemFields(object)
        warnings += try pruneUnknownFields(type, &object, request, name: name)
        object = defaulted(type, object, old: nil)
        let (admitted, admissionWarnings) = try await admission.admit(
            cluster: self,
            type: type,
            operation: .create,
            subresource: nil,
            object: object,
            old: nil,
            request: request
        )
        object = admitted
        warnings += admissionWarnings
        object = try prepareCustomResourceDefinition(type, object)
        try validate(type, object, old: nil, name: name)
        warnings += try await admission.validate(
            cluster: self,
            type: type,
            operation: .create,
            subresource: nil,
            object: object,
            old: nil,
            request: request
        )
        if request.isDryRun { return (object, warnings) }
        let key = key(type, namespace: namespace, name: name)
        let stored: JSONValue
        do {
            stored = try store.create(key) { _ in storable(object, type) }
        } catch {
            throw APIError.alreadyExists(type, name)
        }
        counters.withLock { $0.writes += 1 }
        try afterWrite(type, stored)
        return (served(stored, as: type), warnings)
    }

    static func randomSuffix() -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String((0..<5).map { _ in alphabet.randomElement() ?? "x" })
    }

    func checkNamespaceAcceptsWrites(_ namespace: String, _ type: ResourceType, _ name: String) throws {
        guard let object = store.get(ObjectKey(resource: "namespaces", namespace: "", name: namespace)) else {
            throw APIError.namespaceNotFound(namespace)
        }
        if object["metadata", "deletionTimestamp"] != nil {
            throw APIError.forbidden(
                type,
                name,
                "unable to create new content in namespace \(namespace) because it is being terminated"
            )
        }
    }

    // MARK: - Update and patch

    func update(
        _ type: ResourceType,
        _ path: ResourcePath,
        name: String,
        _ request: APIRequest
    ) async throws
        -> APIResponse
    {
        let body = try decodeObject(request, type, subresource: path.subresource)
        if let bodyName = body["metadata", "name"]?.stringValue, !bodyName.isEmpty, bodyName != name {
            throw APIError.badRequest(
                "the name of the object (\(bodyName)) does not match the name on the URL (\(name))"
            )
        }
        let precondition = body["metadata", "resourceVersion"]?.stringValue
        let (object, warnings) = try await modify(type, path, name: name, request, precondition: precondition) {
            current in
            switch path.subresource {
            case "scale":
                return try Self.applyScale(body, to: current, type)
            case "status":
                return Self.with(current, ["status"], body["status"])
            default:
                return body
            }
        }
        return .json(
            path.subresource == "scale" ? Self.scaleObject(object, type.scale ?? .deployment) : object,
            warnings: warnings
        )
    }

    func patch(
        _ type: ResourceType,
        _ path: ResourcePath,
        name: String,
        _ request: APIRequest
    ) async throws
        -> APIResponse
    {
        let contentType = request.contentType
        var accepted = ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"]
        let smpMeta =
            type.isCustom ? nil : StrategicMergePatch.meta(group: type.group, version: type.version, kind: type.kind)
        if smpMeta != nil || !type.isCustom { accepted.append("application/strategic-merge-patch+json") }
        guard accepted.contains(contentType) else {
            throw APIError.unsupportedMediaType(contentType, accepted: accepted)
        }
        let text = String(decoding: request.body, as: UTF8.self)
        let patchDocument: JSONValue
        if contentType == "application/apply-patch+yaml" {
            do {
                guard let first = try YAMLDocuments.parse(text).first else {
                    throw APIError.badRequest("the apply patch is empty")
                }
                patchDocument = first
            } catch let error as APIError {
                throw error
            } catch {
                throw APIError.badRequest("error decoding YAML: \(error)")
            }
            if store.get(key(type, namespace: path.namespace, name: name)) == nil, path.subresource == nil {
                // Server-side apply creates what does not exist yet.
                var object = patchDocument
                object.setMember(["metadata", "name"], .string(name))
                try checkKind(object, type)
                let (created, warnings) = try await createObject(type, namespace: path.namespace, object, request)
                return .json(created, status: 201, warnings: warnings)
            }
        } else {
            do {
                patchDocument = try JSONValue(parsing: request.body)
            } catch {
                throw APIError.badRequest("error decoding patch: \(error)")
            }
        }
        let (object, warnings) = try await modify(
            type,
            path,
            name: name,
            request,
            precondition: Self.resourceVersionPrecondition(patchDocument, contentType: contentType)
        ) { current in
            let base = path.subresource == "scale" ? Self.scaleObject(current, type.scale ?? .deployment) : current
            var patched: JSONValue
            switch contentType {
            case "application/json-patch+json":
                do throws(JSONPatchError) {
                    patched = try JSONPatch(json: patchDocument).apply(to: base)
                } catch {
                    throw APIError(
                        code: 422,
                        reason: "Invalid",
                        message: "the server rejected our request due to an error in our request: \(error.message)"
                    )
                }
            case "application/merge-patch+json":
                guard patchDocument.objectValue != nil else {
                    throw APIError.badRequest("error decoding patch: a merge patch must be a JSON object")
                }
                patched = MergePatch.apply(patchDocument, to: base)
            case "application/strategic-merge-patch+json":
                let meta = path.subresource == "scale" ? nil : smpMeta
                do throws(StrategicMergeError) {
                    patched = try StrategicMergePatch.apply(patchDocument, to: base, meta: meta)
                } catch {
                    throw APIError.badRequest(error.message)
                }
            default:
                // Server-side apply, simplified: the applied configuration is merged over the live object (fields
                // the manager stops applying are not removed, conflicts are never reported).
                var applied = patchDocument
                applied.setMember(["metadata", "managedFields"], nil)
                if let meta = smpMeta {
                    patched =
                        (try? StrategicMergePatch.apply(applied, to: base, meta: meta))
                        ?? MergePatch.apply(applied, to: base)
                } else {
                    patched = MergePatch.apply(applied, to: base)
                }
            }
            switch path.subresource {
            case "scale": return try Self.applyScale(patched, to: current, type)
            case "status": return Self.with(current, ["status"], patched["status"])
            default: return patched
            }
        }
        return .json(
            path.subresource == "scale" ? Self.scaleObject(object, type.scale ?? .deployment) : object,
            warnings: warnings
        )
    }

    static func applyScale(_ scale: JSONValue, to object: JSONValue, _ type: ResourceType) throws -> JSONValue {
        guard let replicas = scale["spec", "replicas"]?.intValue, replicas >= 0 else {
            throw APIError(
                Status.invalid(
                    kind: "Scale",
                    group: "autoscaling",
                    name: object["metadata", "name"]?.stringValue ?? "",
                    errors: [
                        .invalid(
                            "spec.replicas",
                            scale["spec", "replicas"] ?? .null,
                            "must be greater than or equal to 0"
                        )
                    ]
                )
            )
        }
        var copy = object
        copy.setMember(members(of: type.scale?.specReplicasPath ?? ".spec.replicas"), .int(replicas))
        if let version = scale["metadata", "resourceVersion"]?.stringValue, !version.isEmpty {
            copy.setMember(["metadata", "resourceVersion"], .string(version))
        }
        return copy
    }

    /// The resourceVersion a patch pins (its `metadata.resourceVersion`, or a JSON patch operation setting or
    /// testing it), or nil: a patch that names none applies to whatever is stored, retried on a concurrent write.
    static func resourceVersionPrecondition(_ patch: JSONValue, contentType: String) -> String? {
        guard contentType == "application/json-patch+json" else {
            return patch["metadata", "resourceVersion"]?.stringValue
        }
        for operation in patch.arrayValue ?? [] where operation["path"]?.stringValue == "/metadata/resourceVersion" {
            if let op = operation["op"]?.stringValue, ["add", "replace", "test"].contains(op) {
                return operation["value"]?.stringValue
            }
        }
        return nil
    }

    /// Read-modify-write with the guarantees of kube-apiserver's GuaranteedUpdate: the resourceVersion the request
    /// names (`precondition`) must be the stored one (409 when stale); without one, a concurrent write makes it
    /// recompute.
    func modify(
        _ type: ResourceType,
        _ path: ResourcePath,
        name: String,
        _ request: APIRequest,
        precondition: String?,
        compute: (JSONValue) throws -> JSONValue
    ) async throws -> (JSONValue, [String]) {
        let key = key(type, namespace: path.namespace, name: name)
        for _ in 0..<16 {
            guard let stored = store.get(key) else { throw APIError.notFound(type, name) }
            let current = served(stored, as: type)
            let currentVersion = current["metadata", "resourceVersion"]?.stringValue ?? ""
            var proposed = try compute(current)
            try checkKind(proposed, type)
            let pinned = precondition ?? ""
            if !pinned.isEmpty, pinned != currentVersion { throw APIError.conflict(type, name) }
            // What the request pinned holds; the stored version is what the write replaces.
            proposed.setMember(["metadata", "resourceVersion"], .string(currentVersion))
            proposed = carrySystemFields(type, from: current, into: proposed, subresource: path.subresource)
            var warnings: [String] = []
            if path.subresource == nil { warnings += try pruneUnknownFields(type, &proposed, request, name: name) }
            proposed = defaulted(type, proposed, old: current)
            let (admitted, admissionWarnings) = try await admission.admit(
                cluster: self,
                type: type,
                operation: .update,
                subresource: path.subresource,
                object: proposed,
                old: current,
                request: request
            )
            proposed = carrySystemFields(type, from: current, into: admitted, subresource: path.subresource)
            proposed = bumpGeneration(type, from: current, proposed)
            warnings += admissionWarnings
            proposed = try prepareCustomResourceDefinition(type, proposed)
            try validate(type, proposed, old: current, name: name)
            warnings += try await admission.validate(
                cluster: self,
                type: type,
                operation: .update,
                subresource: path.subresource,
                object: proposed,
                old: current,
                request: request
            )
            if request.isDryRun { return (proposed, warnings) }
            if Self.withoutVersion(proposed) == Self.withoutVersion(current) { return (current, warnings) }
            let updated: JSONValue
            do {
                updated = try store.update(key, expected: currentVersion) { _, _ in storable(proposed, type) }
            } catch StoreError.notFound {
                throw APIError.notFound(type, name)
            } catch {
                if !pinned.isEmpty { throw APIError.conflict(type, name) }
                continue
            }
            counters.withLock { $0.writes += 1 }
            try afterWrite(type, updated)
            return (served(finishDeletionIfDone(type, key, updated), as: type), warnings)
        }
        throw APIError.conflict(type, name)
    }

    static func withoutVersion(_ object: JSONValue) -> JSONValue { with(object, ["metadata", "resourceVersion"], nil) }

    /// Server-owned metadata comes from the stored object; the main resource keeps the stored status and a status
    /// write keeps everything but the status.
    func carrySystemFields(
        _ type: ResourceType,
        from current: JSONValue,
        into proposed: JSONValue,
        subresource: String?
    ) -> JSONValue {
        var object = proposed
        for member in [
            "uid", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds", "name",
            "namespace",
        ] {
            object.setMember(["metadata", member], current["metadata", member])
        }
        if object["metadata", "resourceVersion"] == nil {
            object.setMember(["metadata", "resourceVersion"], current["metadata", "resourceVersion"])
        }
        if subresource == nil, type.hasStatus, type.resource != "namespaces" {
            object.setMember(["status"], current["status"])
        }
        if subresource == "status" {
            object = Self.with(current, ["status"], proposed["status"])
        }
        if object["metadata", "deletionTimestamp"] != nil,
            let finalizers = object["metadata", "finalizers"]?.arrayValue,
            let old = current["metadata", "finalizers"]?.arrayValue
        {
            // While terminating, finalizers may only be removed.
            let kept = finalizers.filter { old.contains($0) }
            object.setMember(["metadata", "finalizers"], kept.isEmpty ? nil : .array(kept))
        }
        object.setMember(["apiVersion"], .string(type.apiVersion))
        object.setMember(["kind"], .string(type.kind))
        return object
    }

    /// Generation counts changes of anything but metadata and status.
    func bumpGeneration(_ type: ResourceType, from current: JSONValue, _ proposed: JSONValue) -> JSONValue {
        func body(_ object: JSONValue) -> JSONValue {
            var copy = object
            copy.setMember(["metadata"], nil)
            copy.setMember(["status"], nil)
            return copy
        }
        guard body(current) != body(proposed) else { return proposed }
        let generation = current["metadata", "generation"]?.intValue ?? 1
        return Self.with(proposed, ["metadata", "generation"], .int(generation + 1))
    }

    func checkKind(_ object: JSONValue, _ type: ResourceType) throws {
        if let apiVersion = object["apiVersion"]?.stringValue, !apiVersion.isEmpty, apiVersion != type.apiVersion {
            throw APIError.badRequest(
                "the API version in the data (\(apiVersion)) does not match the expected API version (\(type.apiVersion))"
            )
        }
        if let kind = object["kind"]?.stringValue, !kind.isEmpty, kind != type.kind {
            throw APIError.badRequest(
                "the kind in the data (\(kind)) does not match the expected kind (\(type.kind))"
            )
        }
    }

    /// The object in a write's body (JSON, YAML or Kubernetes protobuf), with apiVersion and kind checked.
    func decodeObject(_ request: APIRequest, _ type: ResourceType, subresource: String? = nil) throws -> JSONValue {
        var object: JSONValue
        switch request.contentType {
        case "application/json", "":
            do { object = try JSONValue(parsing: request.body) } catch {
                throw APIError.badRequest(
                    "\(type.kind) in version \"\(type.version)\" cannot be handled as a \(type.kind): \(error)"
                )
            }
        case "application/yaml":
            do {
                object = try YAMLDocuments.parse(String(decoding: request.body, as: UTF8.self)).first ?? .null
            } catch {
                throw APIError.badRequest(
                    "\(type.kind) in version \"\(type.version)\" cannot be handled as a \(type.kind): \(error)"
                )
            }
        case "application/vnd.kubernetes.protobuf":
            do { object = try KubernetesProtobuf.decode(request.body) } catch {
                throw APIError.badRequest(
                    "\(type.kind) in version \"\(type.version)\" cannot be handled as a \(type.kind): \(error.message)"
                )
            }
        default:
            throw APIError.unsupportedMediaType(
                request.headers["content-type"] ?? "",
                accepted: ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"]
            )
        }
        guard object.objectValue != nil else {
            throw APIError.badRequest(
                "\(type.kind) in version \"\(type.version)\" cannot be handled as a \(type.kind): the body is not a JSON object"
            )
        }
        if subresource == "scale" {
            if let kind = object["kind"]?.stringValue, kind != "Scale" {
                throw APIError.badRequest("the kind in the data (\(kind)) does not match the expected kind (Scale)")
            }
            return object
        }
        try checkKind(object, type)
        object.setMember(["apiVersion"], .string(type.apiVersion))
        object.setMember(["kind"], .string(type.kind))
        return object
    }

    /// Unknown fields of a custom resource: refused under `fieldValidation=Strict`, warned about under `Warn`, and
    /// pruned in every case, as kube-apiserver does.
    func pruneUnknownFields(
        _ type: ResourceType,
        _ object: inout JSONValue,
        _ request: APIRequest,
        name: String
    ) throws -> [String] {
        guard let schema = type.schema else { return [] }
        let findings = schema.validate(object, at: FieldPath(""))
        object = schema.pruned(object)
        guard !findings.unknownFields.isEmpty else { return [] }
        let described = findings.unknownFields.map { "unknown field \"\($0)\"" }
        switch request.query["fieldValidation"] {
        case "Strict":
            throw APIError.badRequest(
                "\(type.kind) in version \"\(type.version)\" cannot be handled as a \(type.kind): strict decoding error: "
                    + described.joined(separator: ", ")
            )
        case "Warn": return described
        default: return []
        }
    }

    /// Schema validation of custom resources and the checks kube-apiserver makes of every object.
    func validate(_ type: ResourceType, _ object: JSONValue, old: JSONValue?, name: String) throws {
        var errors = BuiltinObjects.validate(type, object, old: old)
        if let schema = type.schema {
            var body = object
            body.setMember(["metadata"], nil)
            errors += schema.validate(body, at: FieldPath("")).errors
        }
        if !errors.isEmpty { throw APIError.invalid(type, name, errors) }
    }

    func defaulted(_ type: ResourceType, _ object: JSONValue, old: JSONValue?) -> JSONValue {
        var object = object
        if let openAPI = type.openAPIV3 { object = CRDDefaulting.apply(openAPI, to: object) }
        return BuiltinObjects.defaulted(type, object, cluster: self)
    }

    /// Once the last finalizer of a terminating object is gone, the object goes.
    func finishDeletionIfDone(_ type: ResourceType, _ key: ObjectKey, _ object: JSONValue) -> JSONValue {
        guard object["metadata", "deletionTimestamp"] != nil,
            (object["metadata", "finalizers"]?.arrayValue ?? []).isEmpty
        else { return object }
        guard let removed = try? store.remove(key) else { return object }
        afterRemoval(type, removed)
        return removed
    }
}
