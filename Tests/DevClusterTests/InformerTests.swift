import CanaryModel
import DevCluster
import DevClusterTestSupport
import Foundation
import JSONValue
import KubeClient
import KubeModels
import Logging
import ServiceLifecycle
import Testing

@Suite("The informer mirrors a collection through list and watch", .serialized)
struct InformerTests {
    @Test("it lists, then follows creates, updates and deletes, across namespaces")
    func follows() async throws {
        try await withCluster { fixture in
            try await fixture.installCRDs()
            try await fixture.namespace("prod")
            try await fixture.namespace("test")
            _ = try await fixture.client.create(
                "/apis/flagger.app/v1beta1/namespaces/prod/canaries",
                try ObjectSemanticsTests.canary()
            )
            var logger = Logger(label: "informer")
            logger.logLevel = .error
            let informer = Informer<Canary>(client: fixture.client, logger: logger)
            let changes = informer.changes()
            let group = ServiceGroup(configuration: .init(services: [informer], logger: logger))
            let task = Task { try await group.run() }
            var iterator = changes.makeAsyncIterator()
            let first = await iterator.next()
            #expect(first?.kind == .upsert)
            #expect(first?.name == "podinfo")
            var second = try ObjectSemanticsTests.canary()
            second.setMember(["metadata", "namespace"], "test")
            _ = try await fixture.client.create("/apis/flagger.app/v1beta1/namespaces/test/canaries", second)
            let added = await iterator.next()
            #expect(added?.namespace == "test")
            _ = try await fixture.client.patch(
                "/apis/flagger.app/v1beta1/namespaces/prod/canaries/podinfo",
                ["spec": ["analysis": ["threshold": 7]]],
                type: .merge
            )
            let updated = await iterator.next()
            #expect(updated?.object?.spec.analysis?.threshold == 7)
            try await fixture.client.delete("/apis/flagger.app/v1beta1/namespaces/test/canaries/podinfo")
            let deleted = await iterator.next()
            #expect(deleted?.kind == .delete)
            #expect(informer.objects.count == 1)
            #expect(informer.get(namespace: "prod", name: "podinfo")?.spec.analysis?.threshold == 7)
            #expect(informer.listCount == 1)
            await group.triggerGracefulShutdown()
            try await task.value
        }
    }
}
