import DevCluster
import DevClusterTestSupport
import Foundation
import JSONValue
import KubeClient
import LoadTester
import Testing

@Suite("The load tester keeps its gates in a ConfigMap", .serialized)
struct ConfigMapGateStoreTests {
    @Test("gates saved by one load tester are loaded by the next; closing and removing gates is kept too")
    func persistence() async throws {
        try await withCluster { fixture in
            try await fixture.namespace("prod")
            let store = ConfigMapGateStore(client: fixture.client, namespace: "prod")
            #expect(try await store.load() == [:])
            try await store.save(["gate/prod/podinfo": true, "rollback/prod/podinfo": false])
            let configMap = try await fixture.client.get("/api/v1/namespaces/prod/configmaps/fledge-loadtester-gates")
            #expect(configMap["data"] == ["gate.prod.podinfo": "open", "rollback.prod.podinfo": "closed"])
            let restarted = ConfigMapGateStore(client: fixture.client, namespace: "prod")
            #expect(try await restarted.load() == ["gate/prod/podinfo": true, "rollback/prod/podinfo": false])
            try await restarted.save(["gate/prod/podinfo": false])
            #expect(try await store.load() == ["gate/prod/podinfo": false])
        }
    }
}
