import DevCluster
import JSONValue
import Testing

/// client-go (Helm's uninstall among others) sends the DeleteOptions of a DELETE as protobuf.
@Suite("DeleteOptions sent as protobuf")
struct DeleteOptionsTests {
    static let configMaps = "/api/v1/namespaces/prod/configmaps"

    /// `k8s\0` + runtime.Unknown around a `meta/v1.DeleteOptions`, laid out as gogo-protobuf writes it.
    static func body(
        apiVersion: String = "v1",
        propagationPolicy: String? = "Background",
        uid: String? = nil,
        dryRun: [String] = []
    ) -> [UInt8] {
        let raw = KubernetesBody.wrap { options in
            if let uid { options.message(2) { $0.string(1, uid) } }
            if let propagationPolicy { options.string(4, propagationPolicy) }
            for value in dryRun { options.string(5, value) }
        }
        return KubernetesBody.envelope(apiVersion: apiVersion, kind: "DeleteOptions", raw: raw)
    }

    static func cluster() async throws -> DevCluster {
        let cluster = DevCluster()
        let objects: [(String, JSONValue)] = [
            ("/api/v1/namespaces", ["metadata": ["name": "prod"]]),
            (configMaps, ["metadata": ["name": "settings"], "data": ["a": "b"]]),
        ]
        for (path, object) in objects {
            let created = await cluster.handle(APIRequest(method: "POST", path: path, body: object.serializedBytes()))
            try #require(created.status == 201)
        }
        return cluster
    }

    static func delete(_ cluster: DevCluster, body: [UInt8]) async -> APIResponse {
        await cluster.handle(
            APIRequest(
                method: "DELETE",
                path: configMaps + "/settings",
                headers: ["content-type": "application/vnd.kubernetes.protobuf"],
                body: body
            )
        )
    }

    static func exists(_ cluster: DevCluster) async -> Bool {
        await cluster.handle(APIRequest(method: "GET", path: configMaps + "/settings")).status == 200
    }

    @Test(
        "a protobuf DeleteOptions deletes the object, under any group version client-go names",
        arguments: [
            "v1", "meta.k8s.io/v1", "apps/v1",
        ]
    )
    func deletes(apiVersion: String) async throws {
        let cluster = try await Self.cluster()
        let answer = await Self.delete(cluster, body: Self.body(apiVersion: apiVersion))
        #expect(answer.status == 200, "\(String(decoding: answer.bytes, as: UTF8.self))")
        #expect(await Self.exists(cluster) == false)
    }

    @Test("its preconditions and dryRun are honoured, so the body is read and not skipped")
    func fieldsAreRead() async throws {
        let cluster = try await Self.cluster()
        let stale = await Self.delete(cluster, body: Self.body(uid: "not-the-uid"))
        #expect(stale.status == 409)
        #expect(String(decoding: stale.bytes, as: UTF8.self).contains("UID in precondition: not-the-uid"))
        let dry = await Self.delete(cluster, body: Self.body(dryRun: ["All"]))
        #expect(dry.status == 200)
        #expect(await Self.exists(cluster), "a dry run deletes nothing")
        let unknownPolicy = await Self.delete(cluster, body: Self.body(propagationPolicy: "Sometimes"))
        #expect(unknownPolicy.status == 400)
        #expect(await Self.exists(cluster))
    }

    @Test("a protobuf body of another kind, or a broken one, is a 400 that names DeleteOptions")
    func refusals() async throws {
        let cluster = try await Self.cluster()
        let namespace = KubernetesBody.envelope(
            apiVersion: "v1",
            kind: "Namespace",
            raw: KubernetesBody.wrap { $0.message(1) { KubernetesBody.objectMeta(&$0, name: "x") } }
        )
        let wrongKind = await Self.delete(cluster, body: namespace)
        #expect(wrongKind.status == 400)
        #expect(String(decoding: wrongKind.bytes, as: UTF8.self).contains("not DeleteOptions"))
        let truncated = await Self.delete(cluster, body: Array(Self.body().dropLast(3)))
        #expect(truncated.status == 400)
        #expect(String(decoding: truncated.bytes, as: UTF8.self).contains("error decoding DeleteOptions"))
        #expect(await Self.exists(cluster))
    }
}
