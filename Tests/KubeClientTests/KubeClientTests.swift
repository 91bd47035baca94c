import AdmissionCluster
import CanaryModel
import CertificateKit
import Foundation
import Hummingbird
import HummingbirdTLS
import JSONValue
import KubeClient
import KubeModels
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import Synchronization
import Testing

/// A small HTTPS server answering like kube-apiserver for the paths the client's tests use.
final class FakeAPIServer: Sendable {
    /// What the server saw, for assertions.
    final class Record: Sendable {
        let tokens = Mutex<[String]>([])
        let canaryLists = Mutex(0)
        let flaky = Mutex(0)
        let deployment = Mutex<JSONValue>(
            ["kind": "Deployment", "metadata": ["name": "podinfo", "resourceVersion": "1"], "spec": ["replicas": 1]]
        )
        let patches = Mutex<[(contentType: String, query: String, body: JSONValue)]>([])
    }

    let certificates: ServingCertificates
    let record = Record()
    var tokens: [String] { record.tokens.withLock { $0 } }
    var canaryLists: Int { record.canaryLists.withLock { $0 } }
    let group: ServiceGroup
    let task: Task<Void, any Error>
    let port: Int

    init() async throws {
        certificates = try CertificateFactory.make(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
        let router = Router()
        let record = self.record
        router.middlewares.add(
            TokenRecorder { token in record.tokens.withLock { $0.append(token) } }
        )
        router.get("/version") { _, _ in Self.json(["major": "1", "minor": "32", "gitVersion": "v1.32.0"]) }
        // Any other namespace has no Canaries.
        router.get("/apis/flagger.app/v1beta1/namespaces/{namespace}/canaries") { _, _ in
            Self.json(["kind": "CanaryList", "metadata": [:], "items": []])
        }
        router.get("/apis/flagger.app/v1beta1/namespaces/prod/canaries") { request, _ in
            if request.uri.queryParameters["watch"] == "true" {
                return Self.watchResponse(from: request.uri.queryParameters["resourceVersion"].map(String.init))
            }
            record.canaryLists.withLock { $0 += 1 }
            let page = request.uri.queryParameters["continue"].map(String.init)
            if page == nil {
                return Self.json([
                    "kind": "CanaryList", "metadata": ["continue": "page-2"],
                    "items": [Self.canary("a"), Self.canary("b")],
                ])
            }
            #expect(page == "page-2")
            return Self.json(["kind": "CanaryList", "metadata": [:], "items": [Self.canary("c")]])
        }
        router.get("/apis/apps/v1/namespaces/prod/deployments/{name}") { _, context in
            let name = context.parameters.get("name") ?? ""
            if name == "podinfo" { return Self.json(record.deployment.withLock { $0 }) }
            return Self.status(404, reason: "NotFound", message: "deployments.apps \"\(name)\" not found")
        }
        router.put("/apis/apps/v1/namespaces/prod/deployments/{name}") { request, context in
            guard context.parameters.get("name") == "podinfo" else {
                return Self.status(404, reason: "NotFound", message: "not found")
            }
            let body = try JSONValue(parsing: try await request.body.collect(upTo: 1 << 20).readableBytesView)
            return record.deployment.withLock { stored in
                guard body["metadata", "resourceVersion"] == stored["metadata", "resourceVersion"] else {
                    return Self.status(
                        409,
                        reason: "Conflict",
                        message:
                            "Operation cannot be fulfilled on deployments.apps \"podinfo\": the object has been modified"
                    )
                }
                var next = body
                let version = Int(stored["metadata", "resourceVersion"]?.stringValue ?? "0") ?? 0
                next["metadata"]?["resourceVersion"] = .string(String(version + 1))
                stored = next
                return Self.json(next)
            }
        }
        router.post("/apis/apps/v1/namespaces/prod/deployments") { request, _ in
            let body = try JSONValue(parsing: try await request.body.collect(upTo: 1 << 20).readableBytesView)
            if body["metadata", "name"] == "podinfo" {
                return Self.status(409, reason: "AlreadyExists", message: "deployments.apps \"podinfo\" already exists")
            }
            return Self.json(body)
        }
        router.delete("/apis/apps/v1/namespaces/prod/deployments/{name}") { request, context in
            let body = try JSONValue(parsing: try await request.body.collect(upTo: 1 << 20).readableBytesView)
            guard context.parameters.get("name") == "podinfo" else {
                return Self.status(404, reason: "NotFound", message: "not found")
            }
            return Self.json([
                "kind": "Status", "status": "Success", "details": ["propagation": body["propagationPolicy"] ?? .null],
            ])
        }
        router.patch("/apis/flagger.app/v1beta1/namespaces/prod/canaries/podinfo") { request, _ in
            let body = try JSONValue(parsing: try await request.body.collect(upTo: 1 << 20).readableBytesView)
            let contentType = request.headers[.contentType] ?? ""
            record.patches.withLock { $0.append((contentType, request.uri.query ?? "", body)) }
            return Self.json(body)
        }
        router.get("/flaky") { _, _ in
            let calls = record.flaky.withLock { count in
                count += 1
                return count
            }
            if calls < 3 { return Self.status(503, reason: "ServiceUnavailable", message: "try again") }
            return Self.json(["ok": true])
        }
        router.get("/throttled") { _, _ in
            var response = Self.status(429, reason: "TooManyRequests", message: "slow down")
            response.headers[.retryAfter] = "3"
            return response
        }
        router.get("/conflict") { _, _ in
            Self.status(409, reason: "Conflict", message: "the object has been modified; please apply your changes")
        }
        router.get("/broken") { _, _ in
            Response(status: .internalServerError, body: .init(byteBuffer: ByteBuffer(string: "plain text failure")))
        }
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(certificates.certificatePEM.utf8))
                .map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(certificates.keyPEM.utf8), format: .pem))
        )
        tls.applicationProtocols = ["http/1.1"]
        let (portStream, portContinuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "fake-apiserver")
        logger.logLevel = .error
        let app = Application(
            router: router,
            server: try .tls(.http1(), tlsConfiguration: tls),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger
        )
        group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let group = self.group
        task = Task { try await group.run() }
        var port = 0
        for await bound in portStream { port = bound }
        self.port = port
    }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }

    /// A watch stream whose events are cut across chunk boundaries; from resourceVersion "1" it is too old (410).
    static func watchResponse(from resourceVersion: String?) -> Response {
        var lines: [JSONValue] = []
        if resourceVersion == "1" {
            lines = [
                [
                    "type": "ERROR",
                    "object": [
                        "kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Expired", "code": 410,
                        "message": "too old resource version: 1 (40)",
                    ],
                ]
            ]
        } else {
            lines = [
                ["type": "ADDED", "object": ["metadata": ["name": "a", "resourceVersion": "41"]]],
                [
                    "type": "MODIFIED",
                    "object": ["metadata": ["name": "a", "resourceVersion": "42"], "spec": ["x": "é"]],
                ],
                ["type": "BOOKMARK", "object": ["metadata": ["resourceVersion": "43"]]],
                ["type": "DELETED", "object": ["metadata": ["name": "a", "resourceVersion": "44"]]],
            ]
        }
        var bytes: [UInt8] = []
        for line in lines { bytes += line.serializedBytes() + [0x0A] }
        let stream = bytes
        return Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: ResponseBody { writer in
                // Seven-byte chunks split documents, keys and a multi-byte character.
                var offset = 0
                while offset < stream.count {
                    let end = min(offset + 7, stream.count)
                    try await writer.write(ByteBuffer(bytes: stream[offset..<end]))
                    offset = end
                }
                try await writer.finish(nil)
            }
        )
    }

    /// A minimal Canary named `name` targeting the Deployment of the same name.
    static func canary(_ name: String) -> JSONValue {
        ["metadata": ["name": .string(name)], "spec": ["targetRef": ["kind": "Deployment", "name": .string(name)]]]
    }

    static func json(_ value: JSONValue) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: value.serializedBytes()))
        )
    }

    static func status(_ code: Int, reason: String, message: String) -> Response {
        let status: JSONValue = [
            "kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": .string(reason),
            "message": .string(message), "code": .int(Int64(code)),
        ]
        return Response(
            status: .init(code: code),
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: status.serializedBytes()))
        )
    }
}

struct TokenRecorder<Context: RequestContext>: RouterMiddleware {
    let record: @Sendable (String) -> Void

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        record(request.headers[.authorization] ?? "")
        return try await next(request, context)
    }
}

@Suite("KubeClient against an HTTPS API server", .serialized)
struct KubeClientTests {
    func client(_ server: FakeAPIServer, tokenFile: String) throws -> KubeClient {
        let config = KubeConfig(
            server: "https://127.0.0.1:\(server.port)",
            certificateAuthorityPEM: Array(server.certificates.caCertificatePEM.utf8),
            credentials: .tokenFile(tokenFile)
        )
        return try KubeClient(config: config, requestTimeout: .seconds(5), logger: Logger(label: "test"))
    }

    func tokenFile(_ token: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID())").path
        try token.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("verifies the server, sends the current token, follows continue tokens")
    func requests() async throws {
        let server = try await FakeAPIServer()
        let path = try tokenFile("t1")
        let client = try client(server, tokenFile: path)
        #expect(try await client.get("/version")["minor"] == "32")
        let items = try await client.listAll("/apis/flagger.app/v1beta1/namespaces/prod/canaries")
        #expect(items.compactMap { $0["metadata", "name"]?.stringValue } == ["a", "b", "c"])
        try "t2\n".write(toFile: path, atomically: true, encoding: .utf8)
        _ = try await client.get("/version")
        #expect(server.tokens == ["Bearer t1", "Bearer t1", "Bearer t1", "Bearer t2"])
        #expect(try await client.getIfPresent("/apis/apps/v1/namespaces/prod/deployments/podinfo") != nil)
        #expect(try await client.getIfPresent("/apis/apps/v1/namespaces/prod/deployments/nope") == nil)
        try await client.shutdown()
        try await server.stop()
    }

    @Test("classifies failures from the Status body and headers")
    func errors() async throws {
        let server = try await FakeAPIServer()
        let client = try client(server, tokenFile: try tokenFile("t"))
        let cases: [(String, KubeAPIError.Reason, Int, String)] = [
            ("/throttled", .tooManyRequests, 429, "slow down"),
            ("/conflict", .conflict, 409, "the object has been modified; please apply your changes"),
            ("/broken", .serverError, 500, "plain text failure"),
            ("/apis/apps/v1/namespaces/prod/deployments/nope", .notFound, 404, #"deployments.apps "nope" not found"#),
        ]
        for (path, reason, code, message) in cases {
            do {
                _ = try await client.get(path)
                Issue.record("\(path) should fail")
            } catch let error as KubeAPIError {
                #expect(error.reason == reason)
                #expect(error.code == code)
                #expect(error.message == message)
                if reason == .tooManyRequests { #expect(error.retryAfterSeconds == 3) }
            }
        }
        try await client.shutdown()
        try await server.stop()
    }

    @Test("an untrusted server or a closed port is Unreachable, with the address")
    func unreachable() async throws {
        let server = try await FakeAPIServer()
        let other = try CertificateFactory.make(dnsNames: ["localhost"])
        let untrusting = try KubeClient(
            config: KubeConfig(
                server: "https://127.0.0.1:\(server.port)",
                certificateAuthorityPEM: Array(other.caCertificatePEM.utf8)
            ),
            logger: Logger(label: "test")
        )
        await #expect {
            _ = try await untrusting.get("/version")
        } throws: { error in
            (error as? KubeAPIError)?.reason == .unreachable
                && (error as? KubeAPIError)?.message.contains("127.0.0.1:\(server.port)") == true
        }
        try await untrusting.shutdown()
        try await server.stop()
    }

    @Test("the canary lister answers a burst from one LIST and sees objects by GET")
    func lister() async throws {
        let server = try await FakeAPIServer()
        let client = try client(server, tokenFile: try tokenFile("t"))
        let lister = CachedCanaryLister(client: client, ttl: .seconds(60))
        for _ in 0..<5 { #expect(try await lister.canaries(in: "prod").count == 3) }
        #expect(server.canaryLists == 2)  // two pages, once
        lister.invalidate("prod")
        _ = try await lister.canaries(in: "prod")
        #expect(server.canaryLists == 4)
        #expect(try await lister.exists(kind: "Deployment", namespace: "prod", name: "podinfo"))
        #expect(try await !lister.exists(kind: "Deployment", namespace: "prod", name: "gone"))
        try await client.shutdown()
        try await server.stop()
    }

    @Test("reviews naming ever new namespaces cannot grow the lister's cache past its bound")
    func listerBound() async throws {
        // The finding: the per-namespace cache never evicted, so forged reviews grew it without end.
        let server = try await FakeAPIServer()
        let client = try client(server, tokenFile: try tokenFile("t"))
        let lister = CachedCanaryLister(client: client, ttl: .seconds(3600))
        for index in 0..<(CachedCanaryLister.maximumNamespaces + 50) {
            #expect(try await lister.canaries(in: "ns-\(index)").isEmpty)
        }
        #expect(lister.cachedNamespaces == CachedCanaryLister.maximumNamespaces)
        try await client.shutdown()
        try await server.stop()
    }
}

@Suite("KubeClient writes, retries and watches", .serialized)
struct KubeClientWriteTests {
    /// Runs `body` against a fresh server and client, and shuts both down however it ends.
    func withServer(_ body: (FakeAPIServer, KubeClient) async throws -> Void) async throws {
        let server = try await FakeAPIServer()
        let client: KubeClient
        do {
            client = try self.client(server)
        } catch {
            try await server.stop()
            throw error
        }
        do {
            try await body(server, client)
        } catch {
            try? await client.shutdown()
            try? await server.stop()
            throw error
        }
        try await client.shutdown()
        try await server.stop()
    }

    func client(_ server: FakeAPIServer) throws -> KubeClient {
        let config = KubeConfig(
            server: "https://127.0.0.1:\(server.port)",
            certificateAuthorityPEM: Array(server.certificates.caCertificatePEM.utf8),
            credentials: .token("t")
        )
        return try KubeClient(config: config, requestTimeout: .seconds(5), logger: Logger(label: "test"))
    }

    @Test("read-modify-write retries a conflict and keeps the change")
    func modify() async throws {
        try await withServer { server, client in
            let path = "/apis/apps/v1/namespaces/prod/deployments/podinfo"
            var first = true
            let result = try await client.modify(path) { object in
                object["spec"]?["replicas"] = 3
                if first {
                    // Someone else writes between our read and our write.
                    first = false
                    server.record.deployment.withLock { $0["metadata"]?["resourceVersion"] = "7" }
                }
            }
            #expect(result["spec", "replicas"] == 3)
            #expect(result["metadata", "resourceVersion"] == "8")
            var stale = try await client.get(path)
            stale["metadata"]?["resourceVersion"] = "1"
            await #expect {
                _ = try await client.update(path, stale)
            } throws: { ($0 as? KubeAPIError)?.reason == .conflict }
        }
    }

    @Test("create, delete and every patch type reach the server as the API expects")
    func writes() async throws {
        try await withServer { server, client in
            let collection = "/apis/apps/v1/namespaces/prod/deployments"
            #expect(try await client.create(collection, ["metadata": ["name": "other"]])["metadata", "name"] == "other")
            await #expect {
                _ = try await client.create(collection, ["metadata": ["name": "podinfo"]])
            } throws: { ($0 as? KubeAPIError)?.reason == .alreadyExists }
            try await client.delete(collection + "/podinfo", propagation: .foreground)
            try await client.delete(collection + "/gone")
            let canary = "/apis/flagger.app/v1beta1/namespaces/prod/canaries/podinfo"
            _ = try await client.patch(canary, ["spec": ["suspend": true]], type: .merge)
            _ = try await client.patch(canary, [["op": "add", "path": "/spec/suspend", "value": true]], type: .json)
            _ = try await client.patch(
                canary,
                ["spec": ["suspend": true]],
                type: .apply(fieldManager: "fledge", force: true)
            )
            let patches = server.record.patches.withLock { $0 }
            #expect(
                patches.map(\.contentType) == [
                    "application/merge-patch+json", "application/json-patch+json", "application/apply-patch+yaml",
                ]
            )
            #expect(patches[2].query == "fieldManager=fledge&force=true")
        }
    }

    @Test("retries server errors with backoff, and not client errors")
    func retries() async throws {
        try await withServer { server, client in
            let answer = try await client.retrying(initialDelay: .milliseconds(10)) { try await client.get("/flaky") }
            #expect(answer["ok"] == true)
            #expect(server.record.flaky.withLock { $0 } == 3)
            var calls = 0
            await #expect(throws: KubeAPIError.self) {
                _ = try await client.retrying(initialDelay: .milliseconds(10)) {
                    calls += 1
                    return try await client.get("/conflict")
                }
            }
            #expect(calls == 1)
        }
    }

    @Test("watch yields every event even when documents are split across chunks, and 410 ends it as Gone")
    func watch() async throws {
        try await withServer { server, client in
            let collection = "/apis/flagger.app/v1beta1/namespaces/prod/canaries"
            var events: [WatchEvent] = []
            for try await event in client.watch(collection, resourceVersion: "40") { events.append(event) }
            #expect(events.map(\.kind) == [.added, .modified, .bookmark, .deleted])
            #expect(events.map(\.resourceVersion) == ["41", "42", "43", "44"])
            #expect(events[1].object["spec", "x"] == "é")
            await #expect {
                for try await _ in client.watch(collection, resourceVersion: "1") {}
            } throws: { error in
                (error as? KubeAPIError)?.reason == .gone && (error as? KubeAPIError)?.code == 410
            }
        }
    }
}
