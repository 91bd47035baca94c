import Admission
import CanaryModel
import JSONValue
import KubeModels
import Testing

@Suite("Deployment handler: release hints and primary protection")
struct DeploymentHandlerTests {
    let cluster = MemoryCluster(
        canaries: ["prod": [CanaryTarget(name: "podinfo", targetKind: "Deployment", targetName: "podinfo")]]
    )

    func service(hints: ReleaseHints = ReleaseHints()) -> AdmissionService {
        AdmissionService(cluster: cluster, hints: hints)
    }

    func update(
        _ old: JSONValue,
        _ new: JSONValue,
        username: String = "kubernetes-admin",
        dryRun: Bool = false,
        subResource: String? = nil
    ) -> [UInt8] {
        review(
            kind: Kind.deployment,
            resource: Kind.deployments,
            operation: "UPDATE",
            object: new,
            oldObject: old,
            username: username,
            dryRun: dryRun,
            subResource: subResource
        )
    }

    /// The hints published while `body` is handled.
    func hints(for body: [UInt8]) async throws -> (allowed: Bool, hints: [ReleaseHint]) {
        let channel = ReleaseHints()
        let stream = channel.subscribe()
        let response = try response(await service(hints: channel).handle(endpoint: .validateDeployment, body: body))
        // A marker hint closes the window so the test never waits on an empty stream.
        channel.publish(ReleaseHint(namespace: "", name: "marker", canaries: [], templateHash: ""))
        var received: [ReleaseHint] = []
        for await hint in stream {
            if hint.name == "marker" { break }
            received.append(hint)
        }
        return (response["allowed"] == true, received)
    }

    @Test("an image bump of a Canary's target publishes a hint with the new template hash")
    func imageBump() async throws {
        let new = deployment(image: "stefanprodan/podinfo:3.1.1")
        let (allowed, received) = try await hints(for: update(deployment(), new))
        #expect(allowed)
        #expect(
            received == [
                ReleaseHint(
                    namespace: "prod",
                    name: "podinfo",
                    canaries: ["podinfo"],
                    templateHash: PodTemplateHash.ofWorkload(new)!
                )
            ]
        )
    }

    @Test("no hint for a dry run, a scale, a metadata change or a Deployment no Canary targets")
    func noHint() async throws {
        let bumped = deployment(image: "stefanprodan/podinfo:3.1.1")
        var labelled = deployment()
        labelled["metadata"]?["labels"] = ["team": "a"]
        let cases: [[UInt8]] = [
            update(deployment(), bumped, dryRun: true),
            update(deployment(), deployment(replicas: 5)),
            update(deployment(), labelled),
            update(deployment(name: "other"), deployment(name: "other", image: "x:2")),
        ]
        for body in cases {
            let (allowed, received) = try await hints(for: body)
            #expect(allowed)
            #expect(received.isEmpty)
        }
    }

    @Test("a cluster that cannot be asked never blocks a Deployment write")
    func clusterDown() async throws {
        let service = AdmissionService(cluster: MemoryCluster(failing: true))
        let body = update(deployment(), deployment(image: "x:2"))
        #expect(try response(await service.handle(endpoint: .validateDeployment, body: body))["allowed"] == true)
    }

    @Test("a user's spec change to a primary is denied, naming the Deployment to edit instead")
    func primaryEditDenied() async throws {
        let body = update(primary(), primary(image: "stefanprodan/podinfo:9.9.9"))
        let response = try response(await service().handle(endpoint: .validateDeployment, body: body))
        #expect(response["allowed"] == false)
        let message = response["status", "message"]?.stringValue ?? ""
        #expect(message.contains(#"managed by Canary "podinfo": edit Deployment "podinfo" instead"#))
    }

    @Test(
        "the controller, the control plane and configured users may change primaries",
        arguments: [
            "system:serviceaccount:fledge-system:fledge",
            "system:serviceaccount:kube-system:generic-garbage-collector",
            "system:serviceaccount:kube-system:horizontal-pod-autoscaler",
            // Garbage collection and namespace deletion without per-controller credentials: refusing it left
            // namespaces hanging in Terminating.
            "system:kube-controller-manager",
        ]
    )
    func primaryEditAllowed(_ username: String) async throws {
        let body = update(primary(), primary(image: "stefanprodan/podinfo:9.9.9"), username: username)
        #expect(try response(await service().handle(endpoint: .validateDeployment, body: body))["allowed"] == true)
    }

    @Test("a configured editor list replaces the default")
    func configuredEditors() async throws {
        let custom = AdmissionService(
            configuration: AdmissionConfiguration(primaryEditors: ["ci-bot"]),
            cluster: cluster
        )
        let change = { (user: String) in self.update(primary(), primary(image: "x:2"), username: user) }
        #expect(
            try response(await custom.handle(endpoint: .validateDeployment, body: change("ci-bot")))["allowed"] == true
        )
        let denied = try response(
            await custom.handle(
                endpoint: .validateDeployment,
                body: change("system:serviceaccount:fledge-system:fledge")
            )
        )
        #expect(denied["allowed"] == false)
    }

    @Test("replica, metadata and status changes to a primary pass")
    func primaryScaleAllowed() async throws {
        var labelled = primary()
        labelled["metadata"]?["labels"] = ["team": "a"]
        var withStatus = primary()
        withStatus["status"] = ["readyReplicas": 2]
        for body in [
            update(primary(), primary(replicas: 7)),
            update(primary(), labelled),
            update(primary(), withStatus),
            update(primary(), primary(image: "x:2"), subResource: "status"),
        ] {
            #expect(try response(await service().handle(endpoint: .validateDeployment, body: body))["allowed"] == true)
        }
    }

    @Test("deleting a primary is denied for users and allowed for the garbage collector")
    func primaryDelete() async throws {
        let userDelete = review(
            kind: Kind.deployment,
            resource: Kind.deployments,
            operation: "DELETE",
            object: nil,
            oldObject: primary()
        )
        let denied = try response(await service().handle(endpoint: .validateDeployment, body: userDelete))
        #expect(denied["allowed"] == false)
        #expect(denied["status", "message"]?.stringValue?.contains(#"delete Canary "podinfo""#) == true)
        let collectorDelete = review(
            kind: Kind.deployment,
            resource: Kind.deployments,
            operation: "DELETE",
            object: nil,
            oldObject: primary(),
            username: "system:serviceaccount:kube-system:generic-garbage-collector"
        )
        #expect(
            try response(await service().handle(endpoint: .validateDeployment, body: collectorDelete))["allowed"]
                == true
        )
    }

    @Test("changes to a target Deployment are never denied")
    func targetNeverDenied() async throws {
        var broken = deployment()
        broken["spec"]?["template"] = "nonsense"
        for body in [
            update(deployment(), broken),
            review(
                kind: Kind.deployment,
                resource: Kind.deployments,
                operation: "DELETE",
                object: nil,
                oldObject: deployment()
            ),
        ] {
            #expect(try response(await service().handle(endpoint: .validateDeployment, body: body))["allowed"] == true)
        }
    }
}

@Suite("Checks against the cluster")
struct ClusterCheckTests {
    @Test("two Canaries may not target the same workload")
    func duplicateTarget() async throws {
        let cluster = MemoryCluster(
            objects: ["Deployment/prod/podinfo"],
            canaries: ["prod": [CanaryTarget(name: "podinfo-old", targetKind: "Deployment", targetName: "podinfo")]]
        )
        let response = try response(
            await AdmissionService(cluster: cluster).handle(endpoint: .validateCanary, body: review())
        )
        #expect(response["allowed"] == false)
        #expect(
            response["status", "message"]?.stringValue?.contains(
                #"spec.targetRef.name: Invalid value: "podinfo": Deployment podinfo is already released by Canary "podinfo-old""#
            ) == true
        )
    }

    @Test("updating the Canary that already targets the workload is fine")
    func sameCanary() async throws {
        let cluster = MemoryCluster(
            objects: ["Deployment/prod/podinfo"],
            canaries: ["prod": [CanaryTarget(name: "podinfo", targetKind: "Deployment", targetName: "podinfo")]]
        )
        let body = review(operation: "UPDATE", object: seedCanary, oldObject: seedCanary)
        let response = try response(
            await AdmissionService(cluster: cluster).handle(endpoint: .validateCanary, body: body)
        )
        #expect(response["allowed"] == true)
        #expect(response["warnings"] == nil)
    }

    @Test("a missing target, MetricTemplate or AlertProvider is a warning, not a denial")
    func missingObjects() async throws {
        var canary = seedCanary
        canary["spec"]?["analysis"]?["metrics"] = [
            [
                "name": "error-rate", "templateRef": ["name": "error-rate", "namespace": "linkerd"],
                "thresholdRange": ["max": 1],
            ]
        ]
        canary["spec"]?["analysis"]?["alerts"] = [["name": "on-call", "providerRef": ["name": "slack"]]]
        let response = try response(
            await AdmissionService(cluster: MemoryCluster()).handle(
                endpoint: .validateCanary,
                body: review(object: canary)
            )
        )
        #expect(response["allowed"] == true)
        let warnings = (response["warnings"]?.arrayValue ?? []).compactMap(\.stringValue)
        #expect(warnings.contains { $0.hasPrefix("Deployment prod/podinfo does not exist yet") })
        #expect(warnings.contains { $0.hasPrefix("MetricTemplate linkerd/error-rate") })
        #expect(warnings.contains { $0.hasPrefix("AlertProvider prod/slack") })
    }

    @Test("an unreachable cluster skips the checks with a warning")
    func unreachable() async throws {
        let response = try response(
            await AdmissionService(cluster: MemoryCluster(failing: true)).handle(
                endpoint: .validateCanary,
                body: review()
            )
        )
        #expect(response["allowed"] == true)
        #expect(response["warnings"]?[0]?.stringValue?.hasPrefix("cluster checks skipped") == true)
    }
}
