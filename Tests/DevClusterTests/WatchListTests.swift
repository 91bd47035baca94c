import DevCluster
import JSONValue
import Testing

/// client-go's streaming list (WatchList), which Helm 4's kstatus waiter uses instead of LIST then WATCH.
@Suite("A watch with sendInitialEvents=true streams the list, then a bookmark, then changes")
struct WatchListTests {
    static let configMaps = "/api/v1/namespaces/prod/configmaps"

    struct Stop: Error {}

    static func post(_ cluster: DevCluster, _ path: String, _ object: JSONValue) async throws {
        let answer = await cluster.handle(APIRequest(method: "POST", path: path, body: object.serializedBytes()))
        try #require(answer.status == 201)
    }

    @Test("the current objects arrive as ADDED, then a bookmark annotated k8s.io/initial-events-end, then writes")
    func streamingList() async throws {
        let cluster = DevCluster()
        try await Self.post(cluster, "/api/v1/namespaces", ["metadata": ["name": "prod"]])
        try await Self.post(cluster, Self.configMaps, ["metadata": ["name": "a"]])
        try await Self.post(cluster, Self.configMaps, ["metadata": ["name": "b"]])
        let revision = cluster.store.revision
        let answer = await cluster.handle(
            APIRequest(
                method: "GET",
                path: Self.configMaps,
                query: [
                    "watch": "true", "sendInitialEvents": "true", "resourceVersionMatch": "NotOlderThan",
                    "allowWatchBookmarks": "true", "timeoutSeconds": "300",
                ]
            )
        )
        guard case .watch(let watch) = answer.body else {
            Issue.record("not a watch: \(answer.status)")
            return
        }
        let (lines, sink) = AsyncStream<JSONValue>.makeStream()
        let reader = Task {
            try? await watch.run { bytes in
                for line in bytes.split(separator: 10) { sink.yield(try JSONValue(parsing: Array(line))) }
                if Task.isCancelled { throw Stop() }
            }
            sink.finish()
        }
        defer { reader.cancel() }
        var events: [JSONValue] = []
        for await event in lines {
            events.append(event)
            if events.count == 3 {
                try await Self.post(cluster, Self.configMaps, ["metadata": ["name": "c"]])
            }
            if events.count == 4 { break }
        }
        let summary = events.map {
            "\($0["type"]?.stringValue ?? "") \($0["object", "metadata", "name"]?.stringValue ?? "")"
        }
        #expect(summary == ["ADDED a", "ADDED b", "BOOKMARK ", "ADDED c"])
        let bookmark = try #require(events.count > 2 ? events[2]["object"] : nil)
        #expect(bookmark["metadata", "annotations", "k8s.io/initial-events-end"] == "true")
        #expect(bookmark["metadata", "resourceVersion"] == .string(String(revision)))
        #expect(bookmark["kind"] == "ConfigMap")
    }
}
