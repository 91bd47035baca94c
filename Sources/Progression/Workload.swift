import CanaryModel
import Crypto
import Foundation
import JSONValue
import KubeClient
import KubeModels

/// Why the worker could not act on a Canary this tick (reported as a warning event, retried next tick).
public struct ReleaseError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The Kubernetes objects a release owns besides traffic: the `-primary` Deployment and its copied
/// ConfigMaps/Secrets, the three services, scaling of the target, the primary HPA.
struct Workload {
    let kube: KubeAccess
    let canary: Canary
    let canaryJSON: JSONValue

    var namespace: String { canary.metadata.namespace ?? "default" }
    var targetName: String { canary.spec.targetRef.name }
    var primaryName: String { "\(targetName)-primary" }
    var apexName: String { canary.spec.service?.name ?? targetName }

    var ownerReference: JSONValue {
        [
            "apiVersion": "flagger.app/v1beta1", "kind": "Canary", "name": .string(canary.metadata.name ?? ""),
            "uid": .string(canary.metadata.uid ?? ""), "controller": true, "blockOwnerDeletion": true,
        ]
    }

    func target() async throws -> JSONValue {
        if let kind = canary.spec.targetRef.kind, kind != "Deployment" {
            throw ReleaseError(
                "\(kind) \(targetName).\(namespace) cannot be released: Fledge releases Deployments only "
                    + "(set spec.targetRef.kind: Deployment)"
            )
        }
        guard let target = try await kube.get(KubeAccess.deployments(namespace, targetName)) else {
            throw ReleaseError("\(canary.spec.targetRef.kind ?? "Deployment") \(targetName).\(namespace) not found")
        }
        return target
    }

    func primary() async throws -> JSONValue? {
        try await kube.get(KubeAccess.deployments(namespace, primaryName))
    }

    func selector(of target: JSONValue) throws -> (key: String, value: String) {
        guard let label = ReleaseRules.selectorLabel(of: target) else {
            throw ReleaseError(
                "Deployment \(targetName).\(namespace) spec.selector.matchLabels must contain one of app, name or "
                    + "app.kubernetes.io/name"
            )
        }
        return label
    }

    // MARK: - Configs

    /// ConfigMaps and Secrets the pod template references (env, envFrom, volumes, projected volumes), as
    /// `configmap/NAME` and `secret/NAME`.
    static func referencedConfigs(_ template: JSONValue) -> Set<String> {
        var found: Set<String> = []
        let spec = template["spec"] ?? [:]
        let containers = (spec["containers"]?.arrayValue ?? []) + (spec["initContainers"]?.arrayValue ?? [])
        for container in containers {
            for env in container["env"]?.arrayValue ?? [] {
                if let name = env["valueFrom", "configMapKeyRef", "name"]?.stringValue {
                    found.insert("configmap/\(name)")
                }
                if let name = env["valueFrom", "secretKeyRef", "name"]?.stringValue { found.insert("secret/\(name)") }
            }
            for source in container["envFrom"]?.arrayValue ?? [] {
                if let name = source["configMapRef", "name"]?.stringValue { found.insert("configmap/\(name)") }
                if let name = source["secretRef", "name"]?.stringValue { found.insert("secret/\(name)") }
            }
        }
        for volume in spec["volumes"]?.arrayValue ?? [] {
            if let name = volume["configMap", "name"]?.stringValue { found.insert("configmap/\(name)") }
            if let name = volume["secret", "secretName"]?.stringValue { found.insert("secret/\(name)") }
            for source in volume["projected", "sources"]?.arrayValue ?? [] {
                if let name = source["configMap", "name"]?.stringValue { found.insert("configmap/\(name)") }
                if let name = source["secret", "name"]?.stringValue { found.insert("secret/\(name)") }
            }
        }
        return found
    }

    /// The tracked configs of the target and their checksums (SHA-256 of their data), skipping those annotated
    /// `flagger.app/config-tracking: disabled` and those that do not exist.
    func trackedConfigs(_ target: JSONValue) async throws -> [String: (checksum: String, object: JSONValue)] {
        var result: [String: (String, JSONValue)] = [:]
        for reference in Self.referencedConfigs(target["spec", "template"] ?? [:]).sorted() {
            let parts = reference.split(separator: "/", maxSplits: 1).map(String.init)
            let collection = parts[0] == "configmap" ? KubeAccess.configMaps(namespace) : KubeAccess.secrets(namespace)
            guard let object = try await kube.get("\(collection)/\(parts[1])") else { continue }
            if object["metadata", "annotations", "flagger.app/config-tracking"]?.stringValue == "disabled" { continue }
            var data = JSONValue.object([:])
            data.setMember(["data"], object["data"])
            data.setMember(["binaryData"], object["binaryData"])
            let digest = SHA256.hash(data: data.serializedBytes())
            result[reference] = (digest.prefix(8).map { String(format: "%02x", $0) }.joined(), object)
        }
        return result
    }

    /// Copies each tracked config as `NAME-primary`, owned by the Canary.
    func copyConfigs(_ configs: [String: (checksum: String, object: JSONValue)]) async throws {
        for (reference, config) in configs {
            let kind = reference.hasPrefix("configmap/") ? "configmap" : "secret"
            let collection = kind == "configmap" ? KubeAccess.configMaps(namespace) : KubeAccess.secrets(namespace)
            let name = (config.object["metadata", "name"]?.stringValue ?? "") + "-primary"
            var copy: JSONValue = [
                "apiVersion": "v1", "kind": kind == "configmap" ? "ConfigMap" : "Secret",
                "metadata": [
                    "name": .string(name), "namespace": .string(namespace), "ownerReferences": [ownerReference],
                    "labels": config.object["metadata", "labels"] ?? [:],
                ],
            ]
            for member in ["data", "binaryData", "type", "stringData"] {
                if let value = config.object[member] { copy.setMember([member], value) }
            }
            let kindName = kind == "configmap" ? "ConfigMap" : "Secret"
            _ = try await kube.apply(
                collection,
                name: name,
                copy,
                checkExisting: { try requireOwned($0, kind: kindName, name: name) }
            ) { existing, desired in
                existing["data"] == desired["data"] && existing["binaryData"] == desired["binaryData"]
            }
        }
    }

    /// The template with the primary's selector label and its config references pointing at the `-primary` copies.
    static func primaryTemplate(
        _ template: JSONValue,
        label: (key: String, value: String),
        primaryValue: String,
        configs: Set<String>
    ) -> JSONValue {
        var template = template
        template.setMember(["metadata", "labels", label.key], .string(primaryValue))
        func rename(_ kind: String, _ name: String?) -> JSONValue? {
            guard let name else { return nil }
            return configs.contains("\(kind)/\(name)") ? .string("\(name)-primary") : .string(name)
        }
        func rewrite(_ value: JSONValue) -> JSONValue {
            var value = value
            for kind in ["configMapKeyRef", "secretKeyRef"] {
                if let renamed = rename(
                    kind == "configMapKeyRef" ? "configmap" : "secret",
                    value["valueFrom", kind, "name"]?.stringValue
                ) {
                    value.setMember(["valueFrom", kind, "name"], renamed)
                }
            }
            if let renamed = rename("configmap", value["configMapRef", "name"]?.stringValue) {
                value.setMember(["configMapRef", "name"], renamed)
            }
            if let renamed = rename("secret", value["secretRef", "name"]?.stringValue) {
                value.setMember(["secretRef", "name"], renamed)
            }
            return value
        }
        for list in ["containers", "initContainers"] {
            guard let containers = template["spec", list]?.arrayValue else { continue }
            template.setMember(
                ["spec", list],
                .array(
                    containers.map { container in
                        var container = container
                        if let env = container["env"]?.arrayValue {
                            container.setMember(["env"], .array(env.map(rewrite)))
                        }
                        if let envFrom = container["envFrom"]?.arrayValue {
                            container.setMember(["envFrom"], .array(envFrom.map(rewrite)))
                        }
                        return container
                    }
                )
            )
        }
        if let volumes = template["spec", "volumes"]?.arrayValue {
            template.setMember(
                ["spec", "volumes"],
                .array(
                    volumes.map { volume in
                        var volume = volume
                        if let renamed = rename("configmap", volume["configMap", "name"]?.stringValue) {
                            volume.setMember(["configMap", "name"], renamed)
                        }
                        if let renamed = rename("secret", volume["secret", "secretName"]?.stringValue) {
                            volume.setMember(["secret", "secretName"], renamed)
                        }
                        if let sources = volume["projected", "sources"]?.arrayValue {
                            volume.setMember(
                                ["projected", "sources"],
                                .array(
                                    sources.map { source in
                                        var source = source
                                        if let renamed = rename("configmap", source["configMap", "name"]?.stringValue) {
                                            source.setMember(["configMap", "name"], renamed)
                                        }
                                        if let renamed = rename("secret", source["secret", "name"]?.stringValue) {
                                            source.setMember(["secret", "name"], renamed)
                                        }
                                        return source
                                    }
                                )
                            )
                        }
                        return volume
                    }
                )
            )
        }
        return template
    }

    // MARK: - Primary

    /// Creates `<target>-primary` when it does not exist: a copy of the target selecting `<value>-primary`.
    func ensurePrimary(_ target: JSONValue) async throws -> JSONValue {
        if let existing = try await primary() {
            try requireOwned(existing, kind: "Deployment", name: primaryName)
            return existing
        }
        let configs = try await trackedConfigs(target)
        try await copyConfigs(configs)
        let label = try selector(of: target)
        let primaryValue = "\(label.value)-primary"
        var annotations = target["metadata", "annotations"]?.objectValue ?? [:]
        annotations["kubectl.kubernetes.io/last-applied-configuration"] = nil
        var labels = target["metadata", "labels"]?.objectValue ?? [:]
        labels[label.key] = .string(primaryValue)
        var spec = target["spec"] ?? [:]
        var replicas = min(max(target["spec", "replicas"]?.intValue ?? 1, 0), Int64(Int32.max))
        if replicas == 0 { replicas = 1 }
        spec.setMember(["replicas"], .int(replicas))
        spec.setMember(["selector"], ["matchLabels": [label.key: .string(primaryValue)]])
        spec.setMember(
            ["template"],
            Self.primaryTemplate(
                target["spec", "template"] ?? [:],
                label: label,
                primaryValue: primaryValue,
                configs: Set(configs.keys)
            )
        )
        let primary: JSONValue = [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": [
                "name": .string(primaryName), "namespace": .string(namespace), "labels": .object(labels),
                "annotations": .object(annotations), "ownerReferences": [ownerReference],
            ],
            "spec": spec,
        ]
        return try await kube.create(KubeAccess.deployments(namespace), primary)
    }

    /// Copies the target's template (and its configs) into the primary: the promotion.
    func promote(_ target: JSONValue) async throws {
        let configs = try await trackedConfigs(target)
        try await copyConfigs(configs)
        let label = try selector(of: target)
        let template = Self.primaryTemplate(
            target["spec", "template"] ?? [:],
            label: label,
            primaryValue: "\(label.value)-primary",
            configs: Set(configs.keys)
        )
        var patch: JSONValue = ["spec": ["template": template]]
        for member in ["minReadySeconds", "strategy", "progressDeadlineSeconds", "revisionHistoryLimit"] {
            if let value = target["spec", member] { patch.setMember(["spec", member], value) }
        }
        // A merge patch would merge lists by replacing them, which is what a copy wants; maps merge, so removed
        // keys are nulled explicitly.
        if let primary = try await primary(), let old = primary["spec", "template"] {
            if let diff = MergePatch.diff(from: old, to: template) { patch.setMember(["spec", "template"], diff) }
        }
        _ = try await kube.mergePatch(KubeAccess.deployments(namespace, primaryName), patch)
    }

    /// Sets the target's replicas.
    func scaleTarget(_ replicas: Int64) async throws {
        _ = try await kube.mergePatch(
            KubeAccess.deployments(namespace, targetName),
            ["spec": ["replicas": .int(replicas)]]
        )
    }

    /// Scales the target up for a release: its own replicas when set, else the primary's, else the HPA minimum,
    /// else 1.
    func scaleUpTarget(_ target: JSONValue, primary: JSONValue?) async throws {
        func count(_ value: JSONValue?) -> Int64 { min(max(value?.intValue ?? 0, 0), Int64(Int32.max)) }
        var replicas = count(target["spec", "replicas"])
        if replicas == 0 { replicas = count(primary?["spec", "replicas"]) }
        if replicas == 0, let minimum = canary.spec.autoscalerRef?.primaryScalerReplicas?.minReplicas {
            replicas = Int64(minimum)
        }
        try await scaleTarget(max(replicas, 1))
    }

    // MARK: - Services

    func ports(_ target: JSONValue) -> [JSONValue] {
        let port = canary.spec.service?.port ?? 80
        var ports: [JSONValue] = [
            [
                "name": .string(canary.spec.service?.portName ?? "http"), "port": .int(Int64(port)),
                "targetPort": canary.spec.service?.targetPort.map { $0.json } ?? .int(Int64(port)), "protocol": "TCP",
            ]
        ]
        if canary.spec.service?.portDiscovery == true {
            // Every other container port, as Flagger does: the one the main port targets is skipped (by number, or by
            // name for a named targetPort). A number or name already exposed is skipped too: kube-apiserver refuses a
            // Service with duplicate ports or port names.
            let targetPort = canary.spec.service?.targetPort?.json ?? .int(Int64(port))
            var numbers: Set<Int64> = [Int64(port)]
            var names: Set<String> = [canary.spec.service?.portName ?? "http"]
            for container in target["spec", "template", "spec", "containers"]?.arrayValue ?? [] {
                for (index, containerPort) in (container["ports"]?.arrayValue ?? []).enumerated() {
                    guard let number = containerPort["containerPort"]?.intValue else { continue }
                    let declared = containerPort["name"]?.stringValue
                    if targetPort.intValue == number || (declared != nil && targetPort.stringValue == declared) {
                        continue
                    }
                    let name = declared ?? "tcp-\(container["name"]?.stringValue ?? "port")-\(index)"
                    guard !numbers.contains(number), !names.contains(name) else { continue }
                    numbers.insert(number)
                    names.insert(name)
                    ports.append([
                        "name": .string(name), "port": .int(number), "targetPort": .int(number), "protocol": "TCP",
                    ])
                }
            }
        }
        return ports
    }

    /// Which of the three services to reconcile.
    struct Services: OptionSet {
        let rawValue: Int
        static let canary = Services(rawValue: 1)
        static let primary = Services(rawValue: 2)
        static let apex = Services(rawValue: 4)
        static let all: Services = [.canary, .primary, .apex]
    }

    /// Creates or updates `<apex>-canary`, `<apex>-primary` and `<apex>` (which selects the primary).
    func reconcileServices(_ target: JSONValue, services wanted: Services) async throws {
        let label = try selector(of: target)
        var services: [(String, String, CustomMetadata?)] = []
        if wanted.contains(.canary) {
            services.append(("\(apexName)-canary", label.value, canary.spec.service?.canary))
        }
        if wanted.contains(.primary) {
            services.append(("\(apexName)-primary", "\(label.value)-primary", canary.spec.service?.primary))
        }
        if wanted.contains(.apex) { services.append((apexName, "\(label.value)-primary", canary.spec.service?.apex)) }
        let ports = ports(target)
        for (name, selectorValue, custom) in services {
            var labels: [String: JSONValue] = [label.key: .string(name)]
            for (key, value) in custom?.labels ?? [:] { labels[key] = .string(value) }
            var metadata: JSONValue = [
                "name": .string(name), "namespace": .string(namespace), "labels": .object(labels),
                "ownerReferences": [ownerReference],
            ]
            if let annotations = custom?.annotations {
                metadata.setMember(["annotations"], .object(annotations.mapValues { .string($0) }))
            }
            let desired: JSONValue = [
                "apiVersion": "v1", "kind": "Service", "metadata": metadata,
                "spec": ["type": "ClusterIP", "selector": [label.key: .string(selectorValue)], "ports": .array(ports)],
            ]
            let path = KubeAccess.services(namespace, name)
            let existing = try await kube.get(path)
            if let existing, !isOwned(existing) {
                // Only the apex may be a Service the Canary did not create, and only one that already serves this
                // workload (it selects the target's or the primary's pods): the user's own Service in front of the
                // app. Any other (`kubernetes`, another app's Service) is never taken over.
                guard name == apexName, Self.selects(existing, label: label) else {
                    try requireOwned(existing, kind: "Service", name: name)
                    continue
                }
                // Only its selector and ports are taken over; its metadata stays the user's, so deleting the Canary
                // never deletes it.
                if existing["spec", "selector"] != desired["spec", "selector"]
                    || !Self.samePorts(existing["spec", "ports"], desired["spec", "ports"])
                {
                    _ = try await kube.mergePatch(
                        path,
                        [
                            "spec": [
                                "selector": Self.replacingSelector(existing, with: desired["spec", "selector"] ?? [:]),
                                "ports": .array(ports),
                            ]
                        ]
                    )
                }
                continue
            }
            _ = try await kube.apply(KubeAccess.services(namespace), name: name, desired, existing: existing) {
                existing,
                desired in
                existing["spec", "selector"] == desired["spec", "selector"]
                    && Self.samePorts(existing["spec", "ports"], desired["spec", "ports"])
            }
        }
    }

    /// Whether `object` is controlled by this Canary (its owner reference says so; by uid when both have one, so a
    /// Canary recreated under the same name does not inherit another's objects by accident of naming).
    func isOwned(_ object: JSONValue) -> Bool {
        (object["metadata", "ownerReferences"]?.arrayValue ?? []).contains {
            guard $0["kind"] == "Canary", $0["name"]?.stringValue == canary.metadata.name,
                $0["apiVersion"]?.stringValue?.hasPrefix("flagger.app/") == true
            else { return false }
            guard let uid = $0["uid"]?.stringValue, !uid.isEmpty, let mine = canary.metadata.uid, !mine.isEmpty else {
                return true
            }
            return uid == mine
        }
    }

    /// Throws when `object` (a `kind` named `name` the release would write) was not created by this Canary: the
    /// worker never takes over what it did not create (a tenant's own Secret named `x-primary`, another tool's
    /// HTTPRoute); the warning event says what to do.
    func requireOwned(_ object: JSONValue, kind: String, name: String) throws {
        guard !isOwned(object) else { return }
        throw ReleaseError(
            "\(kind) \(name).\(namespace) exists and was not created by Canary \(canary.metadata.name ?? "").\(namespace) "
                + "(no owner reference to it); Fledge does not take over objects it did not create: "
                + "delete or rename it, and the release goes on"
        )
    }

    // MARK: - Revert on deletion

    /// Flagger's finalizer name, so a Canary moved between Flagger and Fledge keeps working.
    static let finalizer = "finalizer.flagger.app"

    /// How far `revert` got.
    enum RevertProgress: Equatable {
        /// Call again next tick.
        case waiting(String)
        /// The target serves all traffic.
        case done
        /// There is nothing to put back (no Deployment target): the Canary may go.
        case nothingToRevert(String)
    }

    /// Puts the target back in service before the Canary goes (`revertOnDeletion`): the target scaled up, all traffic
    /// to it, and an apex Service the Canary did not create pointing at it again (from kubectl's last-applied
    /// configuration when there is one).
    func revert(router: any Router, readyThreshold: Int) async throws -> RevertProgress {
        if let kind = canary.spec.targetRef.kind, kind != "Deployment" {
            return .nothingToRevert("\(kind) targets are not released by Fledge")
        }
        guard let target = try await kube.get(KubeAccess.deployments(namespace, targetName)) else {
            return .nothingToRevert("Deployment \(targetName).\(namespace) not found")
        }
        guard let label = ReleaseRules.selectorLabel(of: target) else {
            return .nothingToRevert(
                "Deployment \(targetName).\(namespace) has no app, name or app.kubernetes.io/name selector"
            )
        }
        if (target["spec", "replicas"]?.intValue ?? 1) == 0 {
            try await scaleUpTarget(target, primary: try await primary())
            return .waiting("scaling \(targetName).\(namespace) up")
        }
        switch ReleaseRules.deploymentReadiness(target, threshold: readyThreshold) {
        case .ready: break
        case .waiting(let why): return .waiting("\(targetName).\(namespace) not ready: \(why)")
        case .failed(let why):
            // Routing everything to a workload that will not become ready would be an outage: keep waiting, and say
            // how to delete without the revert.
            return .waiting(
                "\(targetName).\(namespace) not ready: \(why); fix it, or remove the finalizer "
                    + "\(Self.finalizer) to delete the Canary without reverting"
            )
        }
        do {
            try await router.setWeights(primary: 0, canary: 100)
        } catch let error as KubeAPIError where error.reason == .notFound {
            // No traffic object (never initialised, or already gone): nothing routes to the primary through it.
        }
        let path = KubeAccess.services(namespace, apexName)
        if let apex = try await kube.get(path), !isOwned(apex) {
            var selector: JSONValue = [label.key: .string(label.value)]
            if let applied = apex["metadata", "annotations", "kubectl.kubernetes.io/last-applied-configuration"]?
                .stringValue,
                let original = try? JSONValue(parsing: applied),
                let originalSelector = original["spec", "selector"], case .object = originalSelector
            {
                selector = originalSelector
            }
            if apex["spec", "selector"] != selector {
                _ = try await kube.mergePatch(
                    path,
                    ["spec": ["selector": Self.replacingSelector(apex, with: selector)]]
                )
            }
        }
        return .done
    }

    /// Whether a Service selects the workload's pods or its primary's: its selector has the workload's selector
    /// label with the target's value or the primary's.
    static func selects(_ service: JSONValue, label: (key: String, value: String)) -> Bool {
        guard let value = service["spec", "selector", label.key]?.stringValue else { return false }
        return value == label.value || value == "\(label.value)-primary"
    }

    /// A merge patch merges maps: the desired selector plus a null for every live key it does not have.
    static func replacingSelector(_ service: JSONValue, with selector: JSONValue) -> JSONValue {
        var patch = selector.objectValue ?? [:]
        for key in (service["spec", "selector"]?.objectValue ?? [:]).keys where patch[key] == nil {
            patch[key] = .null
        }
        return .object(patch)
    }

    static func samePorts(_ a: JSONValue?, _ b: JSONValue?) -> Bool {
        func key(_ ports: JSONValue?) -> [String] {
            (ports?.arrayValue ?? []).map {
                "\($0["name"]?.stringValue ?? "")/\($0["port"]?.intValue ?? 0)/\($0["targetPort"]?.serialized() ?? "")"
            }
        }
        return key(a) == key(b)
    }

    // MARK: - HPA

    /// A copy of the target's HPA for the primary, when the Canary names one.
    func reconcilePrimaryHPA() async throws {
        guard let reference = canary.spec.autoscalerRef, reference.kind == "HorizontalPodAutoscaler" else { return }
        guard let hpa = try await kube.get(KubeAccess.hpas(namespace, reference.name)) else {
            throw ReleaseError("HorizontalPodAutoscaler \(reference.name).\(namespace) not found")
        }
        var spec = hpa["spec"] ?? [:]
        spec.setMember(["scaleTargetRef", "name"], .string(primaryName))
        if let minimum = reference.primaryScalerReplicas?.minReplicas {
            spec.setMember(["minReplicas"], .int(Int64(minimum)))
        }
        if let maximum = reference.primaryScalerReplicas?.maxReplicas {
            spec.setMember(["maxReplicas"], .int(Int64(maximum)))
        }
        let name = "\(reference.name)-primary"
        let desired: JSONValue = [
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": ["name": .string(name), "namespace": .string(namespace), "ownerReferences": [ownerReference]],
            "spec": spec,
        ]
        _ = try await kube.apply(
            KubeAccess.hpas(namespace),
            name: name,
            desired,
            checkExisting: { try requireOwned($0, kind: "HorizontalPodAutoscaler", name: name) }
        ) { existing, desired in
            existing["spec"] == desired["spec"]
        }
    }
}
