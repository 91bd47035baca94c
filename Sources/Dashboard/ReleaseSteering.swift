import CanaryModel
import JSONValue
import KubeModels
import Progression

/// Why a promote, abort or retry request was not passed to the worker.
public struct SteeringError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable, Codable {
        /// The user's RBAC refuses reading or patching the Canary.
        case forbidden
        case notFound
        /// The action cannot apply to the Canary's phase.
        case inapplicable
        /// The Canary kept changing under the request.
        case conflict
        case unreachable
        case failed
    }

    public var kind: Kind
    public var message: String

    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// The HTTP status the dashboard answers with.
    public var httpStatus: Int {
        switch kind {
        case .forbidden: return 403
        case .notFound: return 404
        case .inapplicable, .conflict: return 409
        case .unreachable: return 502
        case .failed: return 500
        }
    }
}

/// Promote, abort and retry, as `fledge promote|abort|retry` and the dashboard's buttons do them: read the Canary,
/// refuse an action its phase cannot take (the worker's own rule, ``Releaser/inapplicable(_:phase:newRevision:)``),
/// then set the `fledge.dev/action` annotation the worker obeys at its next tick.
public enum ReleaseSteering {
    /// Requests `action` on Canary `namespace/name`; returns what to tell the user.
    public static func request(
        _ action: ReleaseAction,
        namespace: String,
        name: String,
        cluster: some DashboardCluster
    ) async throws(SteeringError) -> String {
        let path = APIPath.object(
            group: "flagger.app",
            version: "v1beta1",
            plural: "canaries",
            namespace: namespace,
            name: name
        )
        var attempts = 0
        while true {
            attempts += 1
            let canary: JSONValue
            do {
                canary = try await cluster.get(path)
            } catch {
                throw explain(error, verb: "get", name: name, namespace: namespace)
            }
            let phase = CanaryPhase(rawValue: canary["status", "phase"]?.stringValue ?? "") ?? .initializing
            let newRevision = await pendingRevision(canary, namespace: namespace, cluster: cluster)
            if let refusal = refusal(action, phase: phase, newRevision: newRevision, name: name, namespace: namespace) {
                throw SteeringError(kind: .inapplicable, message: refusal)
            }
            var metadata: JSONValue = ["annotations": .object([ReleaseAction.annotation: .string(action.rawValue)])]
            // Guarded by the version read: if the phase moved meanwhile, read it again and judge again.
            if let version = canary["metadata", "resourceVersion"]?.stringValue {
                metadata.setMember(["resourceVersion"], .string(version))
            }
            do {
                _ = try await cluster.mergePatch(path, ["metadata": metadata])
                return "\(action.rawValue) requested for canary \(namespace)/\(name) (phase \(phase.rawValue)); "
                    + "the worker acts on it at its next analysis tick"
            } catch let error as ClusterError where error.kind == .conflict && attempts < 3 {
                continue
            } catch {
                throw explain(error, verb: "patch", name: name, namespace: namespace)
            }
        }
    }

    /// Why `action` cannot apply, with what to do instead; `nil` when it can. `newRevision` is `nil` when unknown
    /// (the target could not be read): the action is then allowed whenever a new revision would allow it.
    public static func refusal(
        _ action: ReleaseAction,
        phase: CanaryPhase,
        newRevision: Bool?,
        name: String,
        namespace: String
    ) -> String? {
        guard let reason = Releaser.inapplicable(action, phase: phase, newRevision: newRevision ?? false) else {
            return nil
        }
        if newRevision == nil, Releaser.inapplicable(action, phase: phase, newRevision: true) == nil { return nil }
        let verb: String
        switch action {
        case .promote: verb = "promoted"
        case .abort: verb = "aborted"
        case .retry: verb = "retried"
        }
        let scope = "-n \(namespace)"
        let hint: String
        switch (action, phase) {
        case (.promote, .failed), (.abort, .failed):
            hint = "To run the failed release again, use `fledge retry \(name) \(scope)` (the Retry button)."
        case (.promote, .promoting), (.promote, .finalising):
            hint = "It finishes on its own; `fledge status \(name) \(scope) --wait` waits for it."
        case (.abort, .promoting), (.abort, .finalising):
            hint = "To go back, release the previous version as a new revision once this one is promoted."
        case (.retry, .progressing), (.retry, .waiting), (.retry, .waitingPromotion):
            hint = "A release is in progress: promote or abort it instead (`fledge promote|abort \(name) \(scope)`)."
        case (.retry, _):
            hint =
                "Only a Failed release can be retried; change the pod template (e.g. kubectl set image) to start a "
                + "new one."
        default:
            hint = "Change the pod template (e.g. kubectl set image) to start a release."
        }
        return "canary \(namespace)/\(name) cannot be \(verb): \(reason). \(hint)"
    }

    /// Whether the target's pod template differs from the release the Canary last ran (the worker would start a
    /// new one); false when the target does not exist; `nil` when it cannot be read (e.g. RBAC). Tracked ConfigMaps and Secrets are taken as unchanged.
    static func pendingRevision(_ canary: JSONValue, namespace: String, cluster: some DashboardCluster) async -> Bool? {
        guard let targetName = canary["spec", "targetRef", "name"]?.stringValue,
            (canary["spec", "targetRef", "kind"]?.stringValue ?? "Deployment") == "Deployment"
        else { return nil }
        let path = APIPath.object(
            group: "apps",
            version: "v1",
            plural: "deployments",
            namespace: namespace,
            name: targetName
        )
        let target: JSONValue
        do {
            target = try await cluster.get(path)
        } catch let error as ClusterError where error.kind == .notFound {
            return false  // No target: the worker has nothing new to release.
        } catch {
            return nil
        }
        guard let hash = PodTemplateHash.ofWorkload(target) else { return nil }
        let status = canary["status"].flatMap { try? JSONValueDecoder().decode(CanaryStatus.self, from: $0) }
        let configs = status?.trackedConfigs ?? [:]
        return ReleaseRules.revision(status: status, templateHash: hash, configs: configs) == .changed
    }

    /// A ``ClusterError`` told as what the user tried and why it failed; a 403 says it is the user's RBAC.
    public static func explain(_ error: any Error, verb: String, name: String, namespace: String) -> SteeringError {
        guard let error = error as? ClusterError else {
            return SteeringError(kind: .failed, message: "\(verb) canary \(namespace)/\(name) failed: \(error)")
        }
        switch error.kind {
        case .forbidden:
            return SteeringError(
                kind: .forbidden,
                message: "Forbidden (403): your Kubernetes user may not \(verb) canaries.flagger.app \"\(name)\" in "
                    + "namespace \(namespace). The API server said: \(error.message). Ask for the \(verb) verb on "
                    + "canaries.flagger.app (RBAC), or use a kubeconfig that has it."
            )
        case .unauthorized:
            return SteeringError(
                kind: .forbidden,
                message: "Unauthorized (401): the API server did not accept your kubeconfig's credentials: "
                    + "\(error.message)"
            )
        case .notFound:
            return SteeringError(kind: .notFound, message: "canary \(namespace)/\(name) not found: \(error.message)")
        case .conflict:
            return SteeringError(
                kind: .conflict,
                message: "canary \(namespace)/\(name) kept changing while the request was made; try again"
            )
        case .unreachable:
            return SteeringError(kind: .unreachable, message: error.message)
        case .gone, .invalid, .other:
            return SteeringError(
                kind: .failed,
                message: "\(verb) canary \(namespace)/\(name) failed (\(error.code)): \(error.message)"
            )
        }
    }
}
