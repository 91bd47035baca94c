import CanaryModel
import DevCluster
import Foundation
import JSONValue
import KubeClient
import Progression
import Testing

/// `revertOnDeletion`: deleting the Canary puts the target back in service before the Canary and its objects go.
@Suite("Revert on deletion", .serialized)
struct RevertOnDeletionTests {
    static let services = "/api/v1/namespaces/default/services"

    /// The user's own `podinfo` Service, applied with kubectl before the Canary existed.
    func installUserService(_ harness: ReleaseHarness) async throws {
        let applied: JSONValue = [
            "apiVersion": "v1", "kind": "Service", "metadata": ["name": "podinfo", "namespace": "default"],
            "spec": ["selector": ["app": "podinfo"], "ports": [["name": "http", "port": 9898]]],
        ]
        _ = try await harness.client.create(
            Self.services,
            [
                "metadata": [
                    "name": "podinfo",
                    "annotations": ["kubectl.kubernetes.io/last-applied-configuration": .string(applied.serialized())],
                ],
                "spec": ["selector": ["app": "podinfo"], "ports": [["name": "http", "port": 9898]]],
            ]
        )
    }

    func waitUntilGone(_ harness: ReleaseHarness, _ path: String) async throws -> Bool {
        for _ in 0..<300 {
            if try await harness.client.getIfPresent(path) == nil { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    @Test("with revertOnDeletion the target is scaled up and takes the traffic; the user's Service survives")
    func revert() async throws {
        try await withHarness { harness in
            try await installUserService(harness)
            try await harness.installWorkload()
            try await harness.installCanary([:], spec: ["revertOnDeletion": true])
            try await harness.initialise()
            let canary = try await harness.canary()
            #expect(canary["metadata", "finalizers"] == ["finalizer.flagger.app"])
            // The user's Service is taken over for routing only: no owner reference, so GC never deletes it.
            let apex = try await harness.client.get("\(Self.services)/podinfo")
            #expect(apex["spec", "selector"] == ["app": "podinfo-primary"])
            #expect(apex["metadata", "ownerReferences"] == nil)
            #expect(try await harness.replicas("podinfo") == 0)

            try await harness.client.delete("\(harness.canaries)/podinfo")
            #expect(try await harness.tick() == .advanced)
            #expect(harness.messages.last == "Reverting podinfo.default before deletion: scaling podinfo.default up")
            #expect(try await harness.replicas("podinfo") == 1)
            #expect(try await harness.tick() == .gone)
            #expect(
                harness.messages.last
                    == "Reverted podinfo.default: all traffic to it, Canary podinfo.default finalized"
            )
            #expect(try await waitUntilGone(harness, "\(harness.canaries)/podinfo"))
            // The Canary's own objects go with it; the user's Service selects the target again.
            #expect(try await waitUntilGone(harness, "\(harness.deployments)/podinfo-primary"))
            #expect(try await waitUntilGone(harness, "\(Self.services)/podinfo-canary"))
            let restored = try await harness.client.get("\(Self.services)/podinfo")
            #expect(restored["spec", "selector"] == ["app": "podinfo"])
            #expect(try await harness.replicas("podinfo") == 1)
        }
    }

    @Test("without revertOnDeletion there is no finalizer; turning it off removes it")
    func noRevert() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary([:], spec: ["revertOnDeletion": true])
            try await harness.initialise()
            #expect(try await harness.canary()["metadata", "finalizers"] == ["finalizer.flagger.app"])
            _ = try await harness.client.patch(
                "\(harness.canaries)/podinfo",
                ["spec": ["revertOnDeletion": false]],
                type: .merge
            )
            try await harness.tick()
            #expect(try await harness.canary()["metadata", "finalizers"] == nil)
            try await harness.client.delete("\(harness.canaries)/podinfo")
            #expect(try await waitUntilGone(harness, "\(harness.canaries)/podinfo"))
            #expect(try await harness.tick() == .gone)
            // Without the revert the target stays as the release left it.
            #expect(try await harness.replicas("podinfo") == 0)
        }
    }

    @Test("a Canary without a target gets no finalizer, and one whose target went away is finalized at once")
    func noTarget() async throws {
        try await withHarness { harness in
            try await harness.installCanary([:], spec: ["revertOnDeletion": true])
            #expect(try await harness.tick() == .idle)
            #expect(try await harness.canary()["metadata", "finalizers"] == nil)
            try await harness.client.delete("\(harness.canaries)/podinfo")
            #expect(try await waitUntilGone(harness, "\(harness.canaries)/podinfo"))

            try await harness.installWorkload()
            try await harness.installCanary([:], spec: ["revertOnDeletion": true])
            try await harness.initialise()
            #expect(try await harness.canary()["metadata", "finalizers"] == ["finalizer.flagger.app"])
            try await harness.client.delete("\(harness.deployments)/podinfo")
            try await harness.client.delete("\(harness.canaries)/podinfo")
            #expect(try await harness.tick() == .gone)
            #expect(
                harness.messages.last
                    == "Nothing to revert for podinfo.default (Deployment podinfo.default not found), Canary finalized"
            )
            #expect(try await waitUntilGone(harness, "\(harness.canaries)/podinfo"))
        }
    }

    @Test("a target that cannot become ready gets no traffic; the message says how to delete without the revert")
    func failedTarget() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary([:], spec: ["revertOnDeletion": true])
            try await harness.initialise()
            try await harness.setReady("podinfo", false, progressDeadlineSeconds: 1)
            try await harness.client.delete("\(harness.canaries)/podinfo")
            #expect(try await harness.tick() == .advanced)
            #expect(try await harness.replicas("podinfo") == 1)
            try await harness.waitForCondition("podinfo", reason: "ProgressDeadlineExceeded")
            #expect(try await harness.tick() == .advanced)
            #expect(
                harness.messages.last?.hasSuffix(
                    "remove the finalizer finalizer.flagger.app to delete the Canary without reverting"
                ) == true
            )
            let split = try await harness.splitWeights()
            #expect(split?.0 == 100 && split?.1 == 0)
            #expect(try await harness.client.getIfPresent("\(harness.canaries)/podinfo") != nil)
        }
    }

    @Test("a user's apex Service with extra selector keys is taken over once, not patched on every tick")
    func extraSelectorKeys() async throws {
        try await withHarness { harness in
            _ = try await harness.client.create(
                Self.services,
                [
                    "metadata": ["name": "podinfo"],
                    "spec": [
                        "selector": ["app": "podinfo", "tier": "web"], "ports": [["name": "http", "port": 9898]],
                    ],
                ]
            )
            try await harness.installWorkload()
            try await harness.installCanary()
            try await harness.initialise()
            let apex = try await harness.client.get("\(Self.services)/podinfo")
            #expect(apex["spec", "selector"] == ["app": "podinfo-primary"])
            let version = apex["metadata", "resourceVersion"]
            try await harness.tick()
            #expect(try await harness.client.get("\(Self.services)/podinfo")["metadata", "resourceVersion"] == version)
        }
    }
}
