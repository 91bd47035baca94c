import CanaryModel
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

    var namespace: String { canary.metadata.namespace ?? "default" }
    var targetName: String { canary.spec.targetRef.name }
    var primaryName: String { "\(targetName)-primary" }
    var apexName: String { canary.spec.service?.name ?? targetName }

    var ownerReference: OwnerReference {
        var reference = OwnerReference(
            apiVersion: Canary.apiVersion(),
            kind: Canary.kind,
            name: canary.metadata.name ?? "",
            uid: canary.metadata.uid ?? "",
            controller: true
        )
        reference.blockOwnerDeletion = true
        return reference
    }

    func target() async throws -> Deployment {
        if let kind = canary.spec.targetRef.kind, kind != "Deployment" {
            throw ReleaseError(
                "\(kind) \(targetName).\(namespace) cannot be released: Fledge releases Deployments only "
                    + "(set spec.targetRef.kind: Deployment)"
            )
        }
        guard let target = try await kube.get(Deployment.self, namespace, targetName) else {
            throw ReleaseError("\(canary.spec.targetRef.kind ?? "Deployment") \(targetName).\(namespace) not found")
        }
        return target
    }

    func primary() async throws -> Deployment? {
        try await kube.get(Deployment.self, namespace, primaryName)
    }

    func selector(of target: Deployment) throws -> (key: String, value: String) {
        guard let label = ReleaseRules.selectorLabel(of: target) else {
            throw ReleaseError(
                "Deployment \(targetName).\(namespace) spec.selector.matchLabels must contain one of app, name or "
                    + "app.kubernetes.io/name"
            )
        }
        return label
    }

    // MARK: - Configs

    /// A ConfigMap or Secret a pod template references, as `configmap/NAME` or `secret/NAME`.
    struct ConfigReference: Hashable, Comparable {
        enum Kind: String { case configmap, secret }
        var kind: Kind
        var name: String

        var key: String { "\(kind.rawValue)/\(name)" }
        static func < (lhs: Self, rhs: Self) -> Bool { lhs.key < rhs.key }
    }

    /// ConfigMaps and Secrets the pod template references (env, envFrom, volumes, projected volumes).
    static func referencedConfigs(_ template: PodTemplateSpec?) -> Set<ConfigReference> {
        var found: Set<ConfigReference> = []
        func add(_ kind: ConfigReference.Kind, _ name: String?) {
            if let name, !name.isEmpty { found.insert(ConfigReference(kind: kind, name: name)) }
        }
        let spec = template?.spec
        for container in (spec?.containers ?? []) + (spec?.initContainers ?? []) {
            for env in container.env ?? [] {
                add(.configmap, env.valueFrom?.configMapKeyRef?.name)
                add(.secret, env.valueFrom?.secretKeyRef?.name)
            }
            for source in container.envFrom ?? [] {
                add(.configmap, source.configMapRef?.name)
                add(.secret, source.secretRef?.name)
            }
        }
        for volume in spec?.volumes ?? [] {
            add(.configmap, volume.configMap?.name)
            add(.secret, volume.secret?.secretName)
            for source in volume.projected?.sources ?? [] {
                add(.configmap, source.configMap?.name)
                add(.secret, source.secret?.name)
            }
        }
        return found
    }

    /// The checksums of the target's tracked configs (``ConfigDigest``), by `configmap/NAME` and `secret/NAME`,
    /// skipping those annotated `flagger.app/config-tracking: disabled` and those that do not exist. ConfigMaps from
    /// the cache; Secrets from it only with ``ProgressionConfiguration/watchSecrets``. Either way only checksums are
    /// kept, never a Secret's data.
    func trackedConfigs(_ target: Deployment) async throws -> [String: String] {
        var result: [String: String] = [:]
        for reference in Self.referencedConfigs(target.spec?.template).sorted() {
            let metadata: ObjectMeta?
            let checksum: String?
            switch reference.kind {
            case .configmap:
                let digest = try await kube.get(ConfigDigest<ConfigMapKind>.self, namespace, reference.name)
                (metadata, checksum) = (digest?.metadata, digest?.checksum)
            case .secret:
                // Without the right to list Secrets (the default), by name each time.
                let digest = try await kube.get(
                    ConfigDigest<SecretKind>.self,
                    namespace,
                    reference.name,
                    cached: kube.watchSecrets
                )
                (metadata, checksum) = (digest?.metadata, digest?.checksum)
            }
            guard let metadata, let checksum else { continue }
            if metadata.annotations?["flagger.app/config-tracking"] == "disabled" { continue }
            result[reference.key] = checksum
        }
        return result
    }

    /// Copies each tracked config as `NAME-primary`, owned by the Canary (read whole by GET: the cache keeps only
    /// checksums).
    func copyConfigs(_ tracked: [String: String]) async throws {
        for key in tracked.keys.sorted() {
            let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            let name = parts[1] + "-primary"
            var metadata = ObjectMeta(name: name, namespace: namespace)
            metadata.ownerReferences = [ownerReference]
            if parts[0] == ConfigReference.Kind.configmap.rawValue {
                guard let source = try await kube.get(ConfigMap.self, namespace, parts[1])
                else { continue }
                metadata.labels = source.metadata.labels ?? [:]
                var copy = ConfigMap(metadata: metadata, data: source.data)
                copy.binaryData = source.binaryData
                try await kube.apply(
                    copy,
                    checkExisting: { try requireOwned($0.metadata, kind: "ConfigMap", name: name) }
                ) {
                    $0.data == $1.data && $0.binaryData == $1.binaryData
                }
            } else {
                guard let source = try await kube.get(Secret.self, namespace, parts[1])
                else { continue }
                metadata.labels = source.metadata.labels ?? [:]
                var copy = Secret(metadata: metadata, data: source.data)
                copy.type = source.type
                copy.stringData = source.stringData
                try await kube.apply(copy, checkExisting: { try requireOwned($0.metadata, kind: "Secret", name: name) })
                {
                    $0.data == $1.data
                }
            }
        }
    }

    /// The template with the primary's selector label and its config references pointing at the `-primary` copies.
    static func primaryTemplate(
        _ template: PodTemplateSpec?,
        label: (key: String, value: String),
        primaryValue: String,
        configs: Set<String>
    ) -> PodTemplateSpec {
        var template = template ?? PodTemplateSpec()
        var metadata = template.metadata ?? ObjectMeta()
        metadata.labels = (metadata.labels ?? [:]).merging([label.key: primaryValue]) { $1 }
        template.metadata = metadata
        func rename(_ kind: ConfigReference.Kind, _ name: String?) -> String? {
            guard let name else { return nil }
            return configs.contains("\(kind.rawValue)/\(name)") ? "\(name)-primary" : name
        }
        func rewrite(_ containers: [Container]?) -> [Container]? {
            containers?.map { container in
                var container = container
                container.env = container.env?.map { env in
                    var env = env
                    let configMap = rename(.configmap, env.valueFrom?.configMapKeyRef?.name)
                    let secret = rename(.secret, env.valueFrom?.secretKeyRef?.name)
                    env.valueFrom?.configMapKeyRef?.name = configMap
                    env.valueFrom?.secretKeyRef?.name = secret
                    return env
                }
                container.envFrom = container.envFrom?.map { source in
                    var source = source
                    let configMap = rename(.configmap, source.configMapRef?.name)
                    let secret = rename(.secret, source.secretRef?.name)
                    source.configMapRef?.name = configMap
                    source.secretRef?.name = secret
                    return source
                }
                return container
            }
        }
        let containers = rewrite(template.spec?.containers)
        let initContainers = rewrite(template.spec?.initContainers)
        let volumes = template.spec?.volumes?.map { volume in
            var volume = volume
            let configMap = rename(.configmap, volume.configMap?.name)
            let secret = rename(.secret, volume.secret?.secretName)
            let sources = volume.projected?.sources?.map { source in
                var source = source
                let configMap = rename(.configmap, source.configMap?.name)
                let secret = rename(.secret, source.secret?.name)
                source.configMap?.name = configMap
                source.secret?.name = secret
                return source
            }
            volume.configMap?.name = configMap
            volume.secret?.secretName = secret
            volume.projected?.sources = sources
            return volume
        }
        template.spec?.containers = containers
        template.spec?.initContainers = initContainers
        template.spec?.volumes = volumes
        return template
    }

    // MARK: - Primary

    /// Creates `<target>-primary` when it does not exist: a copy of the target selecting `<value>-primary`.
    func ensurePrimary(_ target: Deployment) async throws -> Deployment {
        if let existing = try await primary() {
            try requireOwned(existing.metadata, kind: "Deployment", name: primaryName)
            return existing
        }
        let configs = try await trackedConfigs(target)
        try await copyConfigs(configs)
        let label = try selector(of: target)
        let primaryValue = "\(label.value)-primary"
        var metadata = ObjectMeta(name: primaryName, namespace: namespace)
        var annotations = target.metadata.annotations ?? [:]
        annotations["kubectl.kubernetes.io/last-applied-configuration"] = nil
        metadata.annotations = annotations
        metadata.labels = (target.metadata.labels ?? [:]).merging([label.key: primaryValue]) { $1 }
        metadata.ownerReferences = [ownerReference]
        var spec = target.spec ?? DeploymentSpec()
        let replicas = spec.replicas ?? 1
        spec.replicas = replicas == 0 ? 1 : max(replicas, 0)
        spec.selector = LabelSelector(matchLabels: [label.key: primaryValue])
        spec.template = Self.primaryTemplate(
            target.spec?.template,
            label: label,
            primaryValue: primaryValue,
            configs: Set(configs.keys)
        )
        return try await kube.create(Deployment(metadata: metadata, spec: spec))
    }

    /// Copies the target's template (and its configs) into the primary: the promotion.
    func promote(_ target: Deployment) async throws {
        let configs = try await trackedConfigs(target)
        try await copyConfigs(configs)
        let label = try selector(of: target)
        let template = try JSONValueEncoder().encode(
            Self.primaryTemplate(
                target.spec?.template,
                label: label,
                primaryValue: "\(label.value)-primary",
                configs: Set(configs.keys)
            )
        )
        var patch: JSONValue = ["spec": ["template": template]]
        let targetSpec = try JSONValueEncoder().encode(target.spec ?? DeploymentSpec())
        for member in ["minReadySeconds", "strategy", "progressDeadlineSeconds", "revisionHistoryLimit"] {
            if let value = targetSpec[member] { patch.setMember(["spec", member], value) }
        }
        // A merge patch would merge lists by replacing them, which is what a copy wants; maps merge, so removed
        // keys are nulled explicitly.
        if let primary = try await primary(), let old = primary.spec?.template {
            if let diff = MergePatch.diff(from: try JSONValueEncoder().encode(old), to: template) {
                patch.setMember(["spec", "template"], diff)
            }
        }
        try await kube.mergePatch(Deployment.self, namespace, primaryName, patch)
    }

    /// Sets the target's replicas.
    func scaleTarget(_ replicas: Int64) async throws {
        try await kube.mergePatch(Deployment.self, namespace, targetName, ["spec": ["replicas": .int(replicas)]])
    }

    /// Scales the target up for a release: its own replicas when set, else the primary's, else the HPA minimum,
    /// else 1.
    func scaleUpTarget(_ target: Deployment, primary: Deployment?) async throws {
        var replicas = Int64(max(target.spec?.replicas ?? 0, 0))
        if replicas == 0 { replicas = Int64(max(primary?.spec?.replicas ?? 0, 0)) }
        if replicas == 0, let minimum = canary.spec.autoscalerRef?.primaryScalerReplicas?.minReplicas {
            replicas = Int64(minimum)
        }
        try await scaleTarget(max(replicas, 1))
    }

    // MARK: - Services

    func ports(_ target: Deployment) -> [ServicePort] {
        let port = Int32(clamping: canary.spec.service?.port ?? 80)
        let portName = canary.spec.service?.portName ?? "http"
        let targetPort = canary.spec.service?.targetPort ?? .int(Int(port))
        var ports = [ServicePort(name: portName, port: port, targetPort: targetPort)]
        if canary.spec.service?.portDiscovery == true {
            // Every other container port, as Flagger does: the one the main port targets is skipped (by number, or by
            // name for a named targetPort). A number or name already exposed is skipped too: kube-apiserver refuses a
            // Service with duplicate ports or port names.
            var numbers: Set<Int32> = [port]
            var names: Set<String> = [portName]
            for container in target.spec?.template?.spec?.containers ?? [] {
                for (index, containerPort) in (container.ports ?? []).enumerated() {
                    guard let number = containerPort.containerPort else { continue }
                    let declared = containerPort.name
                    if targetPort == .int(Int(number)) || (declared != nil && targetPort == .string(declared ?? "")) {
                        continue
                    }
                    let name = declared ?? "tcp-\(container.name ?? "port")-\(index)"
                    guard !numbers.contains(number), !names.contains(name) else { continue }
                    numbers.insert(number)
                    names.insert(name)
                    ports.append(ServicePort(name: name, port: number, targetPort: .int(Int(number))))
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
    func reconcileServices(_ target: Deployment, services wanted: Services) async throws {
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
            var metadata = ObjectMeta(name: name, namespace: namespace)
            metadata.labels = [label.key: name].merging(custom?.labels ?? [:]) { $1 }
            metadata.ownerReferences = [ownerReference]
            metadata.annotations = custom?.annotations
            let desired = KubeService(
                metadata: metadata,
                spec: ServiceSpec(type: "ClusterIP", selector: [label.key: selectorValue], ports: ports)
            )
            let existing = try await kube.get(KubeService.self, namespace, name)
            if let existing, !isOwned(existing.metadata) {
                // Only the apex may be a Service the Canary did not create, and only one that already serves this
                // workload (it selects the target's or the primary's pods): the user's own Service in front of the
                // app. Any other (`kubernetes`, another app's KubeService) is never taken over.
                guard name == apexName, Self.selects(existing, label: label) else {
                    try requireOwned(existing.metadata, kind: "Service", name: name)
                    continue
                }
                // Only its selector and ports are taken over; its metadata stays the user's, so deleting the Canary
                // never deletes it.
                if existing.spec?.selector != desired.spec?.selector
                    || !Self.samePorts(existing.spec?.ports, desired.spec?.ports)
                {
                    try await kube.mergePatch(
                        KubeService.self,
                        namespace,
                        name,
                        [
                            "spec": [
                                "selector": Self.replacingSelector(existing, with: desired.spec?.selector ?? [:]),
                                "ports": try JSONValueEncoder().encode(ports),
                            ]
                        ]
                    )
                }
                continue
            }
            try await kube.apply(desired, existing: .some(existing)) { existing, desired in
                existing.spec?.selector == desired.spec?.selector
                    && Self.samePorts(existing.spec?.ports, desired.spec?.ports)
            }
        }
    }

    /// Whether the object's owner reference names this Canary (by uid when both have one, so a Canary recreated
    /// under the same name does not inherit another's objects by accident of naming).
    func isOwned(_ metadata: ObjectMeta) -> Bool {
        (metadata.ownerReferences ?? []).contains {
            guard $0.kind == Canary.kind, $0.name == canary.metadata.name, $0.apiVersion.hasPrefix("flagger.app/")
            else { return false }
            guard !$0.uid.isEmpty, let mine = canary.metadata.uid, !mine.isEmpty else { return true }
            return $0.uid == mine
        }
    }

    /// Throws when an object (a `kind` named `name` the release would write) was not created by this Canary: the
    /// worker never takes over what it did not create (a tenant's own Secret named `x-primary`, another tool's
    /// HTTPRoute); the warning event says what to do.
    func requireOwned(_ metadata: ObjectMeta, kind: String, name: String) throws {
        guard !isOwned(metadata) else { return }
        throw ReleaseError(
            "\(kind) \(name).\(namespace) exists and was not created by Canary \(canary.metadata.name ?? "").\(namespace) "
                + "(no owner reference to it); Fledge does not take over objects it did not create: "
                + "delete or rename it, and the release goes on"
        )
    }

    /// Whether a Service selects the workload's pods or its primary's: its selector has the workload's selector
    /// label with the target's value or the primary's.
    static func selects(_ service: KubeService, label: (key: String, value: String)) -> Bool {
        guard let value = service.spec?.selector?[label.key] else { return false }
        return value == label.value || value == "\(label.value)-primary"
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
        guard let target = try await kube.get(Deployment.self, namespace, targetName) else {
            return .nothingToRevert("Deployment \(targetName).\(namespace) not found")
        }
        guard let label = ReleaseRules.selectorLabel(of: target) else {
            return .nothingToRevert(
                "Deployment \(targetName).\(namespace) has no app, name or app.kubernetes.io/name selector"
            )
        }
        if (target.spec?.replicas ?? 1) == 0 {
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
        // Read directly: the apex's last-applied configuration is what the cache drops.
        if let apex = try await kube.client.get(KubeService.self, namespace: namespace, name: apexName),
            !isOwned(apex.metadata)
        {
            var selector = [label.key: label.value]
            if let applied = apex.metadata.annotations?["kubectl.kubernetes.io/last-applied-configuration"],
                let original = try? JSONValue(parsing: Array(applied.utf8)),
                let originalSelector = original["spec", "selector"]?.objectValue
            {
                selector = originalSelector.compactMapValues(\.stringValue)
            }
            if apex.spec?.selector != selector {
                try await kube.mergePatch(
                    KubeService.self,
                    namespace,
                    apexName,
                    ["spec": ["selector": Self.replacingSelector(apex, with: selector)]]
                )
            }
        }
        return .done
    }

    /// A merge patch merges maps: the desired selector plus a null for every live key it does not have.
    static func replacingSelector(_ service: KubeService, with selector: [String: String]) -> JSONValue {
        var patch = selector.mapValues { JSONValue.string($0) }
        for key in (service.spec?.selector ?? [:]).keys where patch[key] == nil { patch[key] = .null }
        return .object(patch)
    }

    static func samePorts(_ a: [ServicePort]?, _ b: [ServicePort]?) -> Bool {
        func key(_ ports: [ServicePort]?) -> [String] {
            (ports ?? []).map { "\($0.name ?? "")/\($0.port ?? 0)/\($0.targetPort?.description ?? "")" }
        }
        return key(a) == key(b)
    }

    // MARK: - HPA

    /// A copy of the target's HPA for the primary, when the Canary names one.
    func reconcilePrimaryHPA() async throws {
        guard let reference = canary.spec.autoscalerRef, reference.kind == "HorizontalPodAutoscaler" else { return }
        guard let hpa = try await kube.get(HorizontalPodAutoscaler.self, namespace, reference.name) else {
            throw ReleaseError("HorizontalPodAutoscaler \(reference.name).\(namespace) not found")
        }
        var spec = hpa.spec ?? HPASpec()
        spec.scaleTargetRef = spec.scaleTargetRef ?? ScaleTargetReference()
        spec.scaleTargetRef?.name = primaryName
        if let minimum = reference.primaryScalerReplicas?.minReplicas { spec.minReplicas = Int32(clamping: minimum) }
        if let maximum = reference.primaryScalerReplicas?.maxReplicas { spec.maxReplicas = Int32(clamping: maximum) }
        let name = "\(reference.name)-primary"
        var metadata = ObjectMeta(name: name, namespace: namespace)
        metadata.ownerReferences = [ownerReference]
        try await kube.apply(
            HorizontalPodAutoscaler(metadata: metadata, spec: spec),
            checkExisting: { try requireOwned($0.metadata, kind: "HorizontalPodAutoscaler", name: name) }
        ) { existing, desired in
            existing.spec == desired.spec
        }
    }
}
