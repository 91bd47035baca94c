import CertificateKit
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

/// Puts a ``DevCluster`` on HTTPS (HTTP/1.1, as kubectl speaks to it) with its own certificate.
public final class DevClusterServer: Service, Sendable {
    public let cluster: DevCluster
    public let certificates: ServingCertificates
    let host: String
    let requestedPort: Int
    let logger: Logger
    let bound = AsyncStream<Int>.makeStream()

    /// `port` 0 picks a free port; ``port()`` tells which.
    public init(
        cluster: DevCluster,
        host: String = "127.0.0.1",
        port: Int = 0,
        certificates: ServingCertificates,
        logger: Logger
    ) {
        self.cluster = cluster
        self.host = host
        self.requestedPort = port
        self.certificates = certificates
        self.logger = logger
    }

    /// The port the server listens on, once it does; nil when it stopped before binding.
    public func port() async -> Int? {
        for await port in bound.stream { return port }
        return nil
    }

    public func run() async throws {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(certificates.certificatePEM.utf8))
                .map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(certificates.keyPEM.utf8), format: .pem))
        )
        tls.applicationProtocols = ["http/1.1"]
        let continuation = bound.continuation
        let app = Application(
            responder: ClusterResponder(cluster: cluster, logger: logger),
            server: try .tls(.http1(), tlsConfiguration: tls),
            configuration: .init(address: .hostname(host, port: requestedPort), serverName: "fledge-devcluster"),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
            },
            logger: logger
        )
        defer { continuation.finish() }
        try await withGracefulShutdownHandler {
            try await app.run()
        } onGracefulShutdown: {
            self.cluster.store.finishAll()
        }
    }
}

/// Translates HTTP requests to ``APIRequest``s and the answers back, streaming watches.
struct ClusterResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let cluster: DevCluster
    let logger: Logger
    let maximumBodyBytes = 16 << 20

    func respond(to request: Request, context: Context) async throws -> Response {
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maximumBodyBytes)
        } catch {
            return Self.response(
                .error(APIError(code: 413, reason: "RequestEntityTooLarge", message: "request is too large"))
            )
        }
        let apiRequest = APIRequest(
            method: request.method.rawValue,
            path: request.uri.path,
            query: query,
            headers: headers,
            body: Array(body.readableBytesView)
        )
        let answer = await cluster.handle(apiRequest)
        logger.debug(
            "request",
            metadata: [
                "verb": "\(apiRequest.method)", "uri": "\(request.uri)", "code": "\(answer.status)",
                "userAgent": "\(headers["user-agent"] ?? "")",
            ]
        )
        return Self.response(answer)
    }

    static func response(_ answer: APIResponse) -> Response {
        var headers: HTTPFields = [.contentType: answer.contentType]
        for (name, value) in answer.headers {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        switch answer.body {
        case .bytes(let bytes):
            return Response(
                status: HTTPResponse.Status(code: answer.status),
                headers: headers,
                body: .init(byteBuffer: ByteBuffer(bytes: bytes))
            )
        case .watch(let watch):
            headers[.cacheControl] = "no-cache, private"
            return Response(
                status: HTTPResponse.Status(code: answer.status),
                headers: headers,
                body: ResponseBody { writer in
                    try await watch.run { bytes in try await writer.write(ByteBuffer(bytes: bytes)) }
                    try await writer.finish(nil)
                }
            )
        }
    }
}
