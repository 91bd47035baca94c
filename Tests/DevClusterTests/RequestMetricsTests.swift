import DevCluster
import JSONValue
import Testing

/// `apiserver_request_total` on `/metrics`, labelled as kube-apiserver labels it, so a release's API footprint can be
/// measured against the playground.
@Suite("The embedded API server counts requests like kube-apiserver")
struct RequestMetricsTests {
    static func send(
        _ cluster: DevCluster,
        _ method: String,
        _ path: String,
        query: [String: String] = [:],
        _ body: JSONValue? = nil,
        contentType: String = "application/json"
    ) async -> Int {
        await cluster.handle(
            APIRequest(
                method: method,
                path: path,
                query: query,
                headers: ["content-type": contentType],
                body: body?.serializedBytes() ?? []
            )
        ).status
    }

    /// The `apiserver_request_total` samples, by their label text.
    static func samples(_ cluster: DevCluster) async throws -> [String: Int] {
        let answer = await cluster.handle(APIRequest(method: "GET", path: "/metrics"))
        try #require(answer.status == 200)
        #expect(answer.contentType.hasPrefix("text/plain"))
        var samples: [String: Int] = [:]
        for line in String(decoding: answer.bytes, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Int(line[line.index(after: space)...]) else {
                Issue.record("not a sample: \(line)")
                continue
            }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    static func series(
        verb: String,
        group: String = "",
        version: String = "v1",
        resource: String,
        subresource: String = "",
        scope: String,
        code: Int,
        dryRun: String = ""
    ) -> String {
        "apiserver_request_total{code=\"\(code)\",component=\"apiserver\",dry_run=\"\(dryRun)\",group=\"\(group)\","
            + "resource=\"\(resource)\",scope=\"\(scope)\",subresource=\"\(subresource)\",verb=\"\(verb)\","
            + "version=\"\(version)\"}"
    }

    @Test("verbs, scopes, codes and dry runs are told apart; non-resource requests are counted by path")
    func labels() async throws {
        let cluster = DevCluster()
        let namespace: JSONValue = ["metadata": ["name": "prod"]]
        #expect(await Self.send(cluster, "POST", "/api/v1/namespaces", namespace) == 201)
        #expect(await Self.send(cluster, "POST", "/api/v1/namespaces", namespace) == 409)
        let configMap: JSONValue = ["metadata": ["name": "settings"], "data": ["a": "1"]]
        #expect(await Self.send(cluster, "POST", "/api/v1/namespaces/prod/configmaps", configMap) == 201)
        #expect(
            await Self.send(
                cluster,
                "POST",
                "/api/v1/namespaces/prod/configmaps",
                query: ["dryRun": "All"],
                ["metadata": ["name": "dry"]]
            ) == 201
        )
        #expect(await Self.send(cluster, "GET", "/api/v1/namespaces/prod/configmaps/settings") == 200)
        #expect(await Self.send(cluster, "GET", "/api/v1/namespaces/prod/configmaps/missing") == 404)
        #expect(await Self.send(cluster, "GET", "/api/v1/namespaces/prod/configmaps") == 200)
        #expect(await Self.send(cluster, "GET", "/api/v1/namespaces/prod/configmaps") == 200)
        #expect(await Self.send(cluster, "GET", "/api/v1/configmaps") == 200)
        #expect(
            await Self.send(
                cluster,
                "PATCH",
                "/api/v1/namespaces/prod/configmaps/settings",
                ["data": ["b": "2"]],
                contentType: "application/merge-patch+json"
            ) == 200
        )
        #expect(
            await Self.send(
                cluster,
                "PATCH",
                "/api/v1/namespaces/prod/configmaps/settings",
                query: ["fieldManager": "test"],
                ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "settings"], "data": ["c": "3"]],
                contentType: "application/apply-patch+yaml"
            ) == 200
        )
        #expect(await Self.send(cluster, "GET", "/apis/apps/v1/namespaces/prod/deployments") == 200)
        #expect(await Self.send(cluster, "DELETE", "/api/v1/namespaces/prod/configmaps") == 200)
        #expect(await Self.send(cluster, "GET", "/apis") == 200)
        #expect(await Self.send(cluster, "GET", "/apis/nothing.example/v1/widgets") == 404)

        let samples = try await Self.samples(cluster)
        let expected: [String: Int] = [
            Self.series(verb: "POST", resource: "namespaces", scope: "cluster", code: 201): 1,
            Self.series(verb: "POST", resource: "namespaces", scope: "cluster", code: 409): 1,
            Self.series(verb: "POST", resource: "configmaps", scope: "namespace", code: 201): 1,
            Self.series(verb: "POST", resource: "configmaps", scope: "namespace", code: 201, dryRun: "All"): 1,
            Self.series(verb: "GET", resource: "configmaps", scope: "resource", code: 200): 1,
            Self.series(verb: "GET", resource: "configmaps", scope: "resource", code: 404): 1,
            Self.series(verb: "LIST", resource: "configmaps", scope: "namespace", code: 200): 2,
            Self.series(verb: "LIST", resource: "configmaps", scope: "cluster", code: 200): 1,
            Self.series(verb: "PATCH", resource: "configmaps", scope: "resource", code: 200): 1,
            Self.series(verb: "APPLY", resource: "configmaps", scope: "resource", code: 200): 1,
            Self.series(verb: "LIST", group: "apps", resource: "deployments", scope: "namespace", code: 200): 1,
            Self.series(verb: "DELETECOLLECTION", resource: "configmaps", scope: "namespace", code: 200): 1,
            Self.series(verb: "GET", version: "", resource: "", subresource: "/apis", scope: "", code: 200): 1,
            Self.series(verb: "GET", version: "", resource: "", subresource: "other", scope: "", code: 404): 1,
        ]
        for (series, count) in expected {
            #expect(samples[series] == count, "\(series) in \(samples.keys.sorted())")
        }
    }

    @Test("a watch counts as WATCH, and /metrics counts itself")
    func watchAndMetrics() async throws {
        let cluster = DevCluster()
        #expect(
            await Self.send(cluster, "GET", "/api/v1/namespaces", query: ["watch": "true", "timeoutSeconds": "1"])
                == 200
        )
        _ = try await Self.samples(cluster)
        let samples = try await Self.samples(cluster)
        #expect(samples[Self.series(verb: "WATCH", resource: "namespaces", scope: "cluster", code: 200)] == 1)
        #expect(
            samples[Self.series(verb: "GET", version: "", resource: "", subresource: "/metrics", scope: "", code: 200)]
                == 1
        )
    }
}
