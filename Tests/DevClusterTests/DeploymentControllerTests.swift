import DevCluster
import DevClusterTestSupport
import Foundation
import JSONValue
import KubeClient
import KubeModels
import Testing

@Suite("The simulated Deployment controller", .serialized)
struct DeploymentControllerTests {
    let deployments = "/apis/apps/v1/namespaces/prod/deployments"

    @Test("status follows the spec: observedGeneration, replicas, Available")
    func rollsOut() async throws {
        try await withCluster(DevClusterConfiguration(speed: 50, rolloutDelay: .seconds(1))) { fixture in
            try await fixture.namespace("prod")
            _ = try await fixture.client.create(deployments, podinfoDeployment())
            let ready = try await eventually {
                let status = try await fixture.client.get(deployments + "/podinfo")["status"]
                return status?["availableReplicas"] == 2 && status?["observedGeneration"] == 1
            }
            #expect(ready)
            let scale = try await fixture.client.patch(
                deployments + "/podinfo/scale",
                ["spec": ["replicas": 3]],
                type: .merge
            )
            #expect(scale["kind"] == "Scale")
            #expect(scale["spec", "replicas"] == 3)
            let rescaled = try await eventually {
                try await fixture.client.get(deployments + "/podinfo")["status", "readyReplicas"] == 3
            }
            #expect(rescaled)
        }
    }

    @Test("a template annotated ready=false never becomes available and exceeds its progress deadline")
    func neverReady() async throws {
        try await withCluster(DevClusterConfiguration(speed: 100, rolloutDelay: .seconds(1))) { fixture in
            try await fixture.namespace("prod")
            var deployment = podinfoDeployment()
            deployment.setMember(["spec", "progressDeadlineSeconds"], 60)
            deployment.setMember(
                ["spec", "template", "metadata", "annotations", "playground.fledge.dev/ready"],
                "false"
            )
            _ = try await fixture.client.create(deployments, deployment)
            let exceeded = try await eventually {
                let conditions =
                    try await fixture.client.get(deployments + "/podinfo")["status", "conditions"]?.arrayValue ?? []
                return conditions.contains { $0["type"] == "Progressing" && $0["reason"] == "ProgressDeadlineExceeded" }
            }
            #expect(exceeded)
            #expect(try await fixture.client.get(deployments + "/podinfo")["status", "availableReplicas"] == nil)
        }
    }
}
