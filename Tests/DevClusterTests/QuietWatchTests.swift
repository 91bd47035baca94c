import DevCluster
import DevClusterTestSupport
import Foundation
import JSONValue
import KubeClient
import KubeModels
import Logging
import Testing

@Suite("A quiet watch outlives the client's request timeout")
struct QuietWatchTests {
    @Test("a watch with no events for longer than the request timeout ends when the server ends it, not in error")
    func quietWatch() async throws {
        try await withCluster { fixture in
            try await fixture.namespace("quiet")
            var logger = Logger(label: "quiet-watch")
            logger.logLevel = .error
            // A request timeout far shorter than the watch: any read timeout on the watch would fire first.
            let client = try KubeClient(
                config: try #require(fixture.client.config),
                requestTimeout: .milliseconds(200),
                logger: logger
            )
            var events: [WatchEvent] = []
            var failure: (any Error)?
            do {
                // Nothing changes in this namespace, so after what exists the stream stays silent until the server
                // ends it at timeoutSeconds (its first bookmark would come later, after 5 s).
                let watch = client.watch("/api/v1/namespaces/quiet/configmaps", resourceVersion: nil, timeoutSeconds: 2)
                for try await event in watch { events.append(event) }
            } catch {
                failure = error
            }
            try await client.shutdown()
            #expect(failure == nil, "the quiet watch failed: \(failure.map { "\($0)" } ?? "")")
            #expect(events.allSatisfy { $0.kind != .deleted })
            // The short timeout still applies to ordinary requests.
            #expect(try await fixture.client.get("/api/v1/namespaces/quiet")["metadata", "name"] == "quiet")
        }
    }
}
