import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// The API server over HTTPS, with the credentials of a ``KubeConfig``: a bearer token (re-read from its file on
/// every request, as it rotates) or a client certificate, and the cluster's CA.
public final class HTTPSTransport: KubeTransport {
    public let config: KubeConfig
    let http: HTTPClient
    /// For watches: no read timeout, since a watch may stay quiet for minutes; the request's deadline (the watch's
    /// `timeoutSeconds` plus a margin) bounds it instead. Its own pool, so watches never hold the connections that
    /// requests need.
    let watchHTTP: HTTPClient

    public var server: String { config.server }

    /// Creates the HTTP clients; throws when the CA or the client certificate does not load.
    public init(config: KubeConfig, readTimeout: Duration) throws {
        self.config = config
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if config.insecureSkipTLSVerify {
            tls.certificateVerification = .none
        } else if let ca = config.certificateAuthorityPEM {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(ca))
            } catch {
                throw KubeConfigError("the cluster CA is not valid PEM: \(error)")
            }
        }
        if case .clientCertificate(let certificatePEM, let keyPEM) = config.credentials {
            do {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(certificatePEM).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: keyPEM, format: .pem))
            } catch {
                throw KubeConfigError("the client certificate or key is not valid PEM: \(error)")
            }
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout = .init(connect: .seconds(5), read: TimeAmount(readTimeout))
        http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        var watchConfiguration = HTTPClient.Configuration(tlsConfiguration: tls)
        watchConfiguration.timeout = .init(connect: .seconds(5), read: nil)
        watchHTTP = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: watchConfiguration)
    }

    public func shutdown() async throws {
        try await watchHTTP.shutdown()
        try await http.shutdown()
    }

    func bearerToken() -> String? {
        switch config.credentials {
        case .token(let token): return token
        case .tokenFile(let path):
            return FileManager.default.contents(atPath: path).map {
                String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            }
        case .none, .clientCertificate: return nil
        }
    }

    func httpRequest(_ request: KubeRequest) -> HTTPClientRequest {
        var http = HTTPClientRequest(url: config.server + request.target)
        http.method = HTTPMethod(rawValue: request.method)
        for header in request.headers { http.headers.add(name: header.name, value: header.value) }
        if let token = bearerToken() { http.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body = request.body { http.body = .bytes(ByteBuffer(bytes: body)) }
        return http
    }

    static func headers(_ fields: HTTPHeaders) -> [String: String] {
        var headers: [String: String] = [:]
        for field in fields where headers[field.name.lowercased()] == nil {
            headers[field.name.lowercased()] = field.value
        }
        return headers
    }

    public func send(_ request: KubeRequest, timeout: Duration) async throws -> KubeResponse {
        let response = try await http.execute(httpRequest(request), timeout: TimeAmount(timeout))
        let bytes = try await response.body.collect(upTo: 64 * 1024 * 1024)
        return KubeResponse(
            status: Int(response.status.code),
            headers: Self.headers(response.headers),
            body: Array(bytes.readableBytesView)
        )
    }

    public func stream(_ request: KubeRequest, timeout: Duration) async throws -> KubeStreamingResponse {
        let response = try await watchHTTP.execute(httpRequest(request), timeout: TimeAmount(timeout))
        let chunks = BodyChunks(response.body.makeAsyncIterator())
        return KubeStreamingResponse(
            status: Int(response.status.code),
            headers: Self.headers(response.headers),
            body: AsyncThrowingStream(unfolding: { try await chunks.next() })
        )
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        self = .nanoseconds(
            duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        )
    }
}

/// The chunks of one response body, read in order: the stream's unfolding closure is only ever called once at a
/// time, so the iterator is never used concurrently.
final class BodyChunks: @unchecked Sendable {
    private var iterator: HTTPClientResponse.Body.AsyncIterator

    init(_ iterator: HTTPClientResponse.Body.AsyncIterator) { self.iterator = iterator }

    func next() async throws -> [UInt8]? { try await iterator.next().map { Array($0.readableBytesView) } }
}
