import CanaryModel
import DevCluster
import JSONValue
import Testing

/// Versions of a custom resource share storage and convert with strategy `None`, as in kube-apiserver.
@Suite("Custom resources are stored in the storage version and served in the version asked for")
struct VersionConversionTests {
    static func path(_ version: String, _ name: String? = nil) -> String {
        "/apis/split.smi-spec.io/\(version)/namespaces/prod/trafficsplits" + (name.map { "/\($0)" } ?? "")
    }

    static func request(
        _ cluster: DevCluster,
        _ method: String,
        _ path: String,
        _ body: JSONValue? = nil,
        contentType: String = "application/json"
    ) async throws -> (status: Int, object: JSONValue) {
        let answer = await cluster.handle(
            APIRequest(
                method: method,
                path: path,
                headers: ["content-type": contentType],
                body: body?.serializedBytes() ?? []
            )
        )
        return (answer.status, try JSONValue(parsing: answer.bytes))
    }

    static func cluster() async throws -> DevCluster {
        let cluster = DevCluster()
        let crd = try await request(
            cluster,
            "POST",
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            CustomResourceDefinitions.trafficSplit
        )
        try #require(crd.status == 201)
        try #require(
            try await request(cluster, "POST", "/api/v1/namespaces", ["metadata": ["name": "prod"]]).status == 201
        )
        let created = try await request(
            cluster,
            "POST",
            path("v1alpha1"),
            [
                "apiVersion": "split.smi-spec.io/v1alpha1", "kind": "TrafficSplit",
                "metadata": ["name": "podinfo"],
                "spec": [
                    "service": "podinfo",
                    "backends": [
                        ["service": "podinfo-primary", "weight": 100], ["service": "podinfo-canary", "weight": 0],
                    ],
                ],
            ]
        )
        try #require(created.status == 201)
        return cluster
    }

    @Test("an object written as v1alpha1 reads as v1alpha3 and v1alpha2, in gets and lists")
    func reads() async throws {
        let cluster = try await Self.cluster()
        let v3 = try await Self.request(cluster, "GET", Self.path("v1alpha3", "podinfo"))
        #expect(v3.status == 200)
        #expect(v3.object["apiVersion"] == "split.smi-spec.io/v1alpha3")
        #expect(v3.object["spec", "backends"]?[0]?["weight"] == 100)
        let list = try await Self.request(cluster, "GET", Self.path("v1alpha2"))
        #expect(list.object["items"]?[0]?["apiVersion"] == "split.smi-spec.io/v1alpha2")
    }

    @Test("a merge patch through another served version succeeds and is stored in the storage version")
    func patchThroughAnotherVersion() async throws {
        let cluster = try await Self.cluster()
        let patched = try await Self.request(
            cluster,
            "PATCH",
            Self.path("v1alpha3", "podinfo"),
            [
                "spec": [
                    "backends": [
                        ["service": "podinfo-primary", "weight": 90], ["service": "podinfo-canary", "weight": 10],
                    ]
                ]
            ],
            contentType: "application/merge-patch+json"
        )
        #expect(patched.status == 200, "\(patched.object)")
        #expect(patched.object["apiVersion"] == "split.smi-spec.io/v1alpha3")
        let stored = cluster.store.list(resource: "split.smi-spec.io/trafficsplits", namespace: "prod").items
        #expect(stored.first?["apiVersion"] == "split.smi-spec.io/v1alpha1")
        #expect(stored.first?["spec", "backends"]?[1]?["weight"] == 10)
        let v1 = try await Self.request(cluster, "GET", Self.path("v1alpha1", "podinfo"))
        #expect(v1.object["apiVersion"] == "split.smi-spec.io/v1alpha1")
    }

    @Test("a create and a replace through a newer version are stored in the storage version")
    func writesThroughAnotherVersion() async throws {
        let cluster = try await Self.cluster()
        let created = try await Self.request(
            cluster,
            "POST",
            Self.path("v1alpha3"),
            [
                "apiVersion": "split.smi-spec.io/v1alpha3", "kind": "TrafficSplit", "metadata": ["name": "other"],
                "spec": ["service": "other", "backends": [["service": "other-primary", "weight": 100]]],
            ]
        )
        #expect(created.status == 201)
        #expect(created.object["apiVersion"] == "split.smi-spec.io/v1alpha3")
        var replacement = created.object
        replacement.setMember(["spec", "backends"], [["service": "other-canary", "weight": 100]])
        let replaced = try await Self.request(cluster, "PUT", Self.path("v1alpha3", "other"), replacement)
        #expect(replaced.status == 200, "\(replaced.object)")
        let stored = cluster.store.list(resource: "split.smi-spec.io/trafficsplits", namespace: "prod").items
        #expect(stored.allSatisfy { $0["apiVersion"] == "split.smi-spec.io/v1alpha1" })
    }
}
