import DevCluster
import DevClusterTestSupport
import Foundation
import JSONValue
import KubeClient
import KubeModels
import Testing

@Suite("Watches deliver every change in order, resume, and expire", .serialized)
struct WatchTests {
    let configMaps = "/api/v1/namespaces/prod/configmaps"

    @Test("a watch from a list's resourceVersion sees later writes in order, and nothing earlier")
    func resume() async throws {
        try await withCluster { fixture in
            try await fixture.namespace("prod")
            _ = try await fixture.client.create(configMaps, ["metadata": ["name": "before"]])
            let list = try await fixture.client.get(configMaps)
            let version = list["metadata", "resourceVersion"]?.stringValue
            _ = try await fixture.client.create(configMaps, ["metadata": ["name": "a"]])
            _ = try await fixture.client.patch(configMaps + "/a", ["data": ["k": "v"]], type: .merge)
            try await fixture.client.delete(configMaps + "/a")
            var seen: [String] = []
            for try await event in fixture.client.watch(configMaps, resourceVersion: version, timeoutSeconds: 2) {
                seen.append("\(event.kind.rawValue) \(event.object["metadata", "name"]?.stringValue ?? "")")
                if seen.count == 3 { break }
            }
            #expect(seen == ["ADDED a", "MODIFIED a", "DELETED a"])
        }
    }

    @Test("a watch without a resourceVersion starts with the current objects as ADDED")
    func initialState() async throws {
        try await withCluster { fixture in
            try await fixture.namespace("prod")
            _ = try await fixture.client.create(configMaps, ["metadata": ["name": "existing"]])
            var first: WatchEvent?
            for try await event in fixture.client.watch(configMaps, timeoutSeconds: 2) {
                first = event
                break
            }
            #expect(first?.kind == .added)
            #expect(first?.object["metadata", "name"] == "existing")
        }
    }

    @Test("a resourceVersion older than the kept history is answered with 410 Expired")
    func expired() async throws {
        try await withCluster(DevClusterConfiguration(speed: 50, watchHistory: 5)) { fixture in
            try await fixture.namespace("prod")
            for index in 0..<20 {
                _ = try await fixture.client.create(configMaps, ["metadata": ["name": .string("cm-\(index)")]])
            }
            let error = await apiError {
                for try await _ in fixture.client.watch(configMaps, resourceVersion: "2", timeoutSeconds: 2) {}
            }
            #expect(error?.reason == .gone)
            #expect(error?.message.hasPrefix("too old resource version: 2") == true)
        }
    }

    @Test("timeoutSeconds ends the stream cleanly")
    func timeout() async throws {
        try await withCluster { fixture in
            try await fixture.namespace("prod")
            let start = ContinuousClock.now
            for try await _ in fixture.client.watch(configMaps, resourceVersion: nil, timeoutSeconds: 1) {}
            #expect(ContinuousClock.now - start >= .milliseconds(900))
        }
    }
}
