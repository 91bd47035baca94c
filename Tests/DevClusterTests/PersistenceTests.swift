import CanaryModel
import DevCluster
import Foundation
import JSONValue
import Testing

@Suite("The playground keeps its objects across restarts with --data-dir")
struct PersistenceTests {
    @Test("objects and the kinds their CRDs declare come back after a restart")
    func restart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "fledge-data-\(UUID().uuidString)"
        ).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = DevCluster()
        let persistence = try DevClusterPersistence(cluster: first, directory: directory)
        func post(_ cluster: DevCluster, _ path: String, _ object: JSONValue) async -> Int {
            await cluster.handle(APIRequest(method: "POST", path: path, body: object.serializedBytes())).status
        }
        #expect(
            await post(
                first,
                "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                CustomResourceDefinitions.canary
            ) == 201
        )
        #expect(await post(first, "/api/v1/namespaces", ["metadata": ["name": "prod"]]) == 201)
        #expect(
            await post(first, "/api/v1/namespaces/prod/configmaps", ["metadata": ["name": "kept"], "data": ["a": "b"]])
                == 201
        )
        try persistence.save()
        let revision = first.store.revision

        let second = DevCluster()
        _ = try DevClusterPersistence(cluster: second, directory: directory)
        let kept = await second.handle(APIRequest(method: "GET", path: "/api/v1/namespaces/prod/configmaps/kept"))
        #expect(kept.status == 200)
        #expect(try JSONValue(parsing: kept.bytes)["data", "a"] == "b")
        let canaries = await second.handle(
            APIRequest(method: "GET", path: "/apis/flagger.app/v1beta1/namespaces/prod/canaries")
        )
        #expect(canaries.status == 200, "the Canary kind is served again")
        #expect(second.store.revision >= revision, "resourceVersions keep increasing")
    }
}
