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
        router.get("/apis/flagger.app/v1beta1/namespaces/prod/canaries") { request, _ in
            record.canaryLists.withLock { $0 += 1 }
            let page = request.uri.queryParameters["continue"].map(String.init)
            if page == nil {
                return Self.json([
                    "kind": "CanaryList", "metadata": ["continue": "page-2"],
                    "items": [["metadata": ["name": "a"]], ["metadata": ["name": "b"]]],
                ])
            }
            #expect(page == "page-2")
            return Self.json(["kind": "CanaryList", "metadata": [:], "items": [["metadata": ["name": "c"]]]])
        }
        router.get("/apis/apps/v1/namespaces/prod/deployments/{name}") { _, context in
            let name = context.parameters.get("name") ?? ""
            if name == "podinfo" { return Self.json(["kind": "Deployment", "metadata": ["name": "podinfo"]]) }
            return Self.status(404, reason: "NotFound", message: "deployments.apps \"\(name)\" not found")
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
}
