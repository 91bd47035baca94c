import CanaryModel
import JSONValue
import KubeModels
import Logging

extension AdmissionService {
    /// Watches Deployment writes: publishes a release hint when a Canary's target gets a new pod template, and keeps
    /// hands off the `-primary` copies a Canary owns. Never denies a change to a target Deployment.
    func guardDeployment(_ request: AdmissionRequest) async -> AdmissionResponse {
        guard request.kind.group == "apps", request.kind.kind == "Deployment" else { return Self.allow() }
        let current = request.object ?? request.oldObject
        if let owner = Self.owningCanary(current), request.subResource == nil {
            if let denial = protectPrimary(request, canary: owner) { return denial }
            return Self.allow()
        }
        guard request.operation == .update, request.subResource == nil, let object = request.object,
            let oldObject = request.oldObject
        else { return Self.allow() }
        let newHash = PodTemplateHash.ofWorkload(object)
        guard let newHash, newHash != PodTemplateHash.ofWorkload(oldObject) else { return Self.allow() }
        guard request.dryRun != true else { return Self.allow() }
        let namespace = request.namespace ?? object["metadata", "namespace"]?.stringValue ?? ""
        let name = object["metadata", "name"]?.stringValue ?? request.name ?? ""
        guard let cluster else { return Self.allow() }
        do {
            let canaries = try await cluster.canaries(in: namespace).filter {
                $0.targetKind == "Deployment" && $0.targetName == name
            }
            if !canaries.isEmpty {
                hints.publish(
                    ReleaseHint(
                        namespace: namespace,
                        name: name,
                        canaries: canaries.map(\.name).sorted(),
                        templateHash: newHash
                    )
                )
                logger.info(
                    "new revision of a canary target",
                    metadata: ["deployment": "\(name).\(namespace)", "hash": "\(newHash)"]
                )
            }
        } catch {
            logger.warning(
                "could not look up canaries for a changed deployment; the worker's resync will find it",
                metadata: ["deployment": "\(name).\(namespace)", "error": "\(error)"]
            )
        }
        return Self.allow()
    }

    /// The name of the Canary that owns a Deployment, if one does.
    static func owningCanary(_ object: JSONValue?) -> String? {
        guard case .array(let owners) = object?["metadata", "ownerReferences"] else { return nil }
        for owner in owners {
            guard owner["kind"] == "Canary", owner["apiVersion"]?.stringValue?.hasPrefix("flagger.app/") == true,
                let name = owner["name"]?.stringValue
            else { continue }
            return name
        }
        return nil
    }

    func protectPrimary(_ request: AdmissionRequest, canary: String) -> AdmissionResponse? {
        guard !configuration.mayEditPrimaries(request.userInfo.username) else { return nil }
        let name = request.name ?? request.oldObject?["metadata", "name"]?.stringValue ?? ""
        let target = name.hasSuffix("-primary") ? String(name.dropLast(8)) : name
        switch request.operation {
        case .update:
            guard let object = request.object, let oldObject = request.oldObject else { return nil }
            // Replica counts belong to autoscalers and `kubectl scale`; only the rest of the spec is the Canary's.
            var newSpec = object["spec"] ?? .null
            var oldSpec = oldObject["spec"] ?? .null
            newSpec["replicas"] = nil
            oldSpec["replicas"] = nil
            guard newSpec != oldSpec else { return nil }
            return Self.deny(
                "deployment \"\(name)\" is managed by Canary \"\(canary)\": edit Deployment \"\(target)\" instead; "
                    + "its template is copied to \(name) when the release is promoted"
            )
        case .delete:
            return Self.deny(
                "deployment \"\(name)\" is managed by Canary \"\(canary)\": delete Canary \"\(canary)\" to remove it "
                    + "(the primary goes with its Canary)"
            )
        case .create, .connect:
            return nil
        }
    }
}
