import DevCluster
import DevClusterTestSupport
import Foundation
import JSONValue
import KubeClient
import KubeModels
import NIOHTTP1
import Testing

@Suite("CRDs are served as soon as they are created, with their schema enforced", .serialized)
struct CustomResourceTests {
    let canaries = "/apis/flagger.app/v1beta1/namespaces/prod/canaries"

    @Test("a created CRD is established and discoverable; its kind is served")
    func established() async throws {
        try await withCluster { fixture in
            try await fixture.installCRDs()
            let crd = try await fixture.client.get(
                "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/canaries.flagger.app"
            )
            let conditions = crd["status", "conditions"]?.arrayValue ?? []
            #expect(conditions.contains { $0["type"] == "Established" && $0["status"] == "True" })
            let resources = try await fixture.client.get("/apis/flagger.app/v1beta1")
            #expect(resources["resources"]?.arrayValue?.contains { $0["name"] == "canaries" } == true)
            try await fixture.namespace("prod")
            let created = try await fixture.client.create(canaries, try ObjectSemanticsTests.canary())
            #expect(created["kind"] == "Canary")
        }
    }

    @Test("schema violations are 422 with every field; unknown fields are pruned, or refused under Strict")
    func schema() async throws {
        try await withCluster { fixture in
            try await fixture.installCRDs()
            try await fixture.namespace("prod")
            var bad = try ObjectSemanticsTests.canary()
            bad.setMember(["spec", "analysis", "threshold"], "five")
            bad.setMember(["spec", "targetRef", "kind"], "Pod")
            let refused = await apiError { _ = try await fixture.client.create(canaries, bad) }
            #expect(refused?.code == 422)
            #expect(refused?.message.contains("spec.analysis.threshold") == true)
            #expect(refused?.message.contains("spec.targetRef.kind") == true)
            var extra = try ObjectSemanticsTests.canary()
            extra.setMember(["spec", "unknownField"], "x")
            let strict = await apiError {
                _ = try await fixture.client.request(.POST, canaries + "?fieldValidation=Strict", body: extra)
            }
            #expect(strict?.code == 400)
            #expect(strict?.message.contains("strict decoding error: unknown field \"spec.unknownField\"") == true)
            let pruned = try await fixture.client.create(canaries, extra)
            #expect(pruned["spec", "unknownField"] == nil)
        }
    }

    @Test("deleting a CRD stops serving its kind and removes its objects")
    func deletion() async throws {
        try await withCluster { fixture in
            try await fixture.installCRDs()
            try await fixture.namespace("prod")
            _ = try await fixture.client.create(canaries, try ObjectSemanticsTests.canary())
            try await fixture.client.delete(
                "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/canaries.flagger.app"
            )
            let gone = await apiError { _ = try await fixture.client.get(canaries) }
            #expect(gone?.code == 404)
        }
    }
}
