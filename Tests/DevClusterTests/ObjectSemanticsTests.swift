import DevCluster
import DevClusterTestSupport
import Foundation
import JSONValue
import KubeClient
import KubeModels
import NIOHTTP1
import Testing

@Suite("The embedded cluster keeps objects as kube-apiserver does", .serialized)
struct ObjectSemanticsTests {
    let deployments = "/apis/apps/v1/namespaces/prod/deployments"

    @Test("create stamps uid, resourceVersion, generation and creationTimestamp, and defaults the Deployment")
    func create() async throws {
        try await withCluster { fixture in
            try await fixture.namespace("prod")
            let created = try await fixture.client.create(deployments, podinfoDeployment())
            #expect(created["metadata", "uid"]?.stringValue?.count == 36)
            #expect(Int(created["metadata", "resourceVersion"]?.stringValue ?? "") ?? 0 > 0)
            #expect(created["metadata", "generation"] == 1)
            #expect(created["metadata", "creationTimestamp"]?.stringValue?.hasSuffix("Z") == true)
            #expect(created["spec", "strategy", "type"] == "RollingUpdate")
            #expect(created["spec", "template", "spec", "containers"]?[0]?["imagePullPolicy"] == "IfNotPresent")
            let fetched = try await fixture.client.get(deployments + "/podinfo")
            #expect(fetched["metadata", "uid"] == created["metadata", "uid"])
        }
    }

    @Test("errors carry kube-apiserver's reasons and wording")
    func errors() async throws {
        try await withCluster { fixture in
            try await fixture.namespace("prod")
            let missing = await apiError { _ = try await fixture.client.get(deployments + "/nope") }
            #expect(missing?.reason == .notFound)
            #expect(missing?.message == "deployments.apps \"nope\" not found")
            let noNamespace = await apiError {
                _ = try await fixture.client.create(
                    "/apis/apps/v1/namespaces/absent/deployments",
                    podinfoDeployment(namespace: "absent")
                )
            }
            #expect(noNamespace?.message == "namespaces \"absent\" not found")
            _ = try await fixture.client.create(deployments, podinfoDeployment())
            let duplicate = await apiError { _ = try await fixture.client.create(deployments, podinfoDeployment()) }
            #expect(duplicate?.reason == .alreadyExists)
            #expect(duplicate?.message == "deployments.apps \"podinfo\" already exists")
            var invalid = podinfoDeployment()
            invalid.setMember(["metadata", "name"], "Not_Valid")
            let refused = await apiError { _ = try await fixture.client.create(deployments, invalid) }
            #expect(refused?.reason == .invalid)
            #expect(refused?.code == 422)
            #expect(
                refused?.message.hasPrefix("Deployment.apps \"Not_Valid\" is invalid: metadata.name: Invalid value")
                    == true
            )
        }
    }

    @Test("a stale resourceVersion is a 409 Conflict; generation moves only with the spec")
    func conflictsAndGeneration() async throws {
        try await withCluster { fixture in
            try await fixture.namespace("prod")
            let configMaps = "/api/v1/namespaces/prod/configmaps"
            let created = try await fixture.client.create(
                configMaps,
                ["metadata": ["name": "settings"], "data": ["a": "1"]]
            )
            var changed = created
            changed.setMember(["data", "a"], "2")
            _ = try await fixture.client.update(configMaps + "/settings", changed)
            let stale = await apiError { _ = try await fixture.client.update(configMaps + "/settings", changed) }
            #expect(stale?.reason == .conflict)
            #expect(
                stale?.message
                    == "Operation cannot be fulfilled on configmaps \"settings\": the object has been modified; please apply your changes to the latest version and try again"
            )
            _ = try await fixture.client.create(deployments, podinfoDeployment())
            var relabelled = try await fixture.client.get(deployments + "/podinfo")
            relabelled.setMember(["metadata", "labels", "team"], "a")
            relabelled.setMember(["metadata", "resourceVersion"], nil)
            let labelled = try await fixture.client.update(deployments + "/podinfo", relabelled)
            #expect(labelled["metadata", "generation"] == 1)
            var scaled = labelled
            scaled.setMember(["spec", "replicas"], 3)
            scaled.setMember(["metadata", "resourceVersion"], nil)
            let bumped = try await fixture.client.update(deployments + "/podinfo", scaled)
            #expect(bumped["metadata", "generation"] == 2)
            // The main resource cannot write status; /status can, and only status.
            var statusWrite = bumped
            statusWrite.setMember(["status"], ["replicas": 99])
            statusWrite.setMember(["spec", "replicas"], 7)
            statusWrite.setMember(["metadata", "resourceVersion"], nil)
            let afterStatus = try await fixture.client.updateStatus(deployments + "/podinfo", statusWrite)
            #expect(afterStatus["status", "replicas"] == 99)
            #expect(afterStatus["spec", "replicas"] == 3)
            #expect(afterStatus["metadata", "generation"] == 2)
        }
    }

    @Test("merge, JSON, strategic merge and apply patches, and 415 for strategic merge on a custom resource")
    func patches() async throws {
        try await withCluster { fixture in
            try await fixture.namespace("prod")
            try await fixture.installCRDs()
            _ = try await fixture.client.create(deployments, podinfoDeployment())
            let setImage: JSONValue = [
                "spec": [
                    "template": [
                        "spec": [
                            "$setElementOrder/containers": [["name": "podinfod"], ["name": "sidecar"]],
                            "containers": [["image": "ghcr.io/stefanprodan/podinfo:3.1.1", "name": "podinfod"]],
                        ]
                    ]
                ]
            ]
            let patched = try await fixture.client.patch(deployments + "/podinfo", setImage, type: .strategicMerge)
            let containers = patched["spec", "template", "spec", "containers"]?.arrayValue ?? []
            #expect(containers.count == 2)
            #expect(containers.first?["image"] == "ghcr.io/stefanprodan/podinfo:3.1.1")
            #expect(containers.first?["env"]?.arrayValue?.count == 2)
            #expect(containers.last?["name"] == "sidecar")
            #expect(patched["metadata", "generation"] == 2)
            let merged = try await fixture.client.patch(
                deployments + "/podinfo",
                ["metadata": ["labels": ["app": nil, "x": "y"]]],
                type: .merge
            )
            #expect(merged["metadata", "labels"] == ["x": "y"])
            let jsonPatched = try await fixture.client.patch(
                deployments + "/podinfo",
                [["op": "replace", "path": "/spec/replicas", "value": 4]],
                type: .json
            )
            #expect(jsonPatched["spec", "replicas"] == 4)
            let failedTest = await apiError {
                _ = try await fixture.client.patch(
                    deployments + "/podinfo",
                    [["op": "test", "path": "/spec/replicas", "value": 5]],
                    type: .json
                )
            }
            #expect(failedTest?.code == 422)
            var applied = podinfoDeployment()
            applied.setMember(["metadata", "name"], "applied")
            let created = try await fixture.client.patch(
                deployments + "/applied",
                applied,
                type: .apply(fieldManager: "test", force: false)
            )
            #expect(created["metadata", "name"] == "applied")
            let canaries = "/apis/flagger.app/v1beta1/namespaces/prod/canaries"
            _ = try await fixture.client.create(canaries, try Self.canary())
            let refused = await apiError {
                _ = try await fixture.client.patch(
                    canaries + "/podinfo",
                    ["spec": ["analysis": ["threshold": 3]]],
                    type: .strategicMerge
                )
            }
            #expect(refused?.code == 415)
            #expect(
                refused?.message
                    == "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
            )
        }
    }

    @Test("dryRun=All answers with the object and stores nothing")
    func dryRun() async throws {
        try await withCluster { fixture in
            try await fixture.namespace("prod")
            let answer = try await fixture.client.request(.POST, deployments + "?dryRun=All", body: podinfoDeployment())
            #expect(answer["metadata", "name"] == "podinfo")
            #expect(try await fixture.client.getIfPresent(deployments + "/podinfo") == nil)
        }
    }

    @Test("finalizers hold an object terminating; owners take their dependents with them")
    func deletion() async throws {
        try await withCluster { fixture in
            try await fixture.namespace("prod")
            let owner = try await fixture.client.create(deployments, podinfoDeployment())
            let configMaps = "/api/v1/namespaces/prod/configmaps"
            _ = try await fixture.client.create(
                configMaps,
                [
                    "metadata": [
                        "name": "owned",
                        "ownerReferences": [
                            [
                                "apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo",
                                "uid": owner["metadata", "uid"] ?? "",
                            ]
                        ],
                    ],
                    "data": ["a": "b"],
                ]
            )
            _ = try await fixture.client.create(
                configMaps,
                ["metadata": ["name": "held", "finalizers": ["test/hold"]]]
            )
            try await fixture.client.delete(configMaps + "/held")
            let held = try await fixture.client.get(configMaps + "/held")
            #expect(held["metadata", "deletionTimestamp"] != nil)
            _ = try await fixture.client.patch(configMaps + "/held", ["metadata": ["finalizers": nil]], type: .merge)
            #expect(try await fixture.client.getIfPresent(configMaps + "/held") == nil)
            try await fixture.client.delete(deployments + "/podinfo")
            #expect(try await fixture.client.getIfPresent(configMaps + "/owned") == nil)
        }
    }

    @Test("label and field selectors filter lists; limit pages with continue")
    func selectors() async throws {
        try await withCluster { fixture in
            try await fixture.namespace("prod")
            let configMaps = "/api/v1/namespaces/prod/configmaps"
            for index in 0..<5 {
                _ = try await fixture.client.create(
                    configMaps,
                    [
                        "metadata": [
                            "name": .string("cm-\(index)"), "labels": ["parity": index % 2 == 0 ? "even" : "odd"],
                        ]
                    ]
                )
            }
            let even = try await fixture.client.listAll(configMaps, labelSelector: "parity=even", limit: 2)
            #expect(even.compactMap { $0["metadata", "name"]?.stringValue } == ["cm-0", "cm-2", "cm-4"])
            let one = try await fixture.client.get(configMaps + "?fieldSelector=metadata.name%3Dcm-3")
            #expect(one["items"]?.arrayValue?.count == 1)
            let bad = await apiError { _ = try await fixture.client.get(configMaps + "?fieldSelector=spec.foo%3Dbar") }
            #expect(bad?.code == 400)
            #expect(
                bad?.message
                    == "\"spec.foo\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
            )
        }
    }

    static func canary() throws -> JSONValue {
        try JSONValue(
            parsing: #"""
                {"apiVersion":"flagger.app/v1beta1","kind":"Canary","metadata":{"name":"podinfo","namespace":"prod"},
                 "spec":{"targetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"podinfo"},
                         "service":{"port":9898},"analysis":{"interval":"1m","threshold":5,"stepWeight":5,"maxWeight":50}}}
                """#
        )
    }
}
