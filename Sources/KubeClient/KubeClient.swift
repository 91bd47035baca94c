import AsyncHTTPClient
import Foundation
import JSONValue
import KubeModels
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOSSL

/// A failed request to the API server, classified by the `Status` it returned.
public struct KubeAPIError: Error, CustomStringConvertible, Sendable {
    public enum Reason: String, Sendable {
        case notFound = "NotFound"
        case alreadyExists = "AlreadyExists"
        case conflict = "Conflict"
        case invalid = "Invalid"
        case forbidden = "Forbidden"
        case unauthorized = "Unauthorized"
        case tooManyRequests = "TooManyRequests"
        case gone = "Gone"
        case badRequest = "BadRequest"
        case serverError = "InternalError"
        case unreachable = "Unreachable"
    }

    public var reason: Reason
    public var code: Int
    public var message: String
    public var status: Status?
    /// Seconds to wait before retrying, from `Retry-After` or the Status details.
    public var retryAfterSeconds: Int?

    public var description: String { message }

    static func from(code: Int, body: [UInt8], retryAfter: String?) -> KubeAPIError {
        let status = try? JSONValueDecoder().decode(Status.self, from: body)
        let reason: Reason
        switch (status?.reason, code) {
        case ("NotFound", _), (_, 404): reason = .notFound
        case ("AlreadyExists", _): reason = .alreadyExists
        case ("Conflict", _), (_, 409): reason = .conflict
        case ("Invalid", _), (_, 422): reason = .invalid
        case ("Forbidden", _), (_, 403): reason = .forbidden
        case (_, 401): reason = .unauthorized
        case (_, 429): reason = .tooManyRequests
        case ("Expired", _), ("Gone", _), (_, 410): reason = .gone
        case (_, 400): reason = .badRequest
        default: reason = .serverError
        }
        let text = status?.message ?? String(decoding: body.prefix(500), as: UTF8.self)
        return KubeAPIError(
            reason: reason,
            code: code,
            message: text.isEmpty ? "HTTP \(code)" : text,
            status: status,
            retryAfterSeconds: retryAfter.flatMap(Int.init) ?? status?.details?.retryAfterSeconds
        )
    }
}

/// A small Kubernetes REST client over AsyncHTTPClient: JSON in and out, every request bounded by a timeout, errors
/// classified from the API server's `Status`.
public final class KubeClient: Sendable {
    public let config: KubeConfig
    let http: HTTPClient
    /// For watches: no read timeout, since a watch may stay quiet for minutes; the request's deadline (the
    /// watch's `timeoutSeconds` plus a margin) bounds it instead. Its own pool, so watches never hold the
    /// connections that requests need.
    let watchHTTP: HTTPClient
    let requestTimeout: TimeAmount
    let logger: Logger

    public init(config: KubeConfig, requestTimeout: Duration = .seconds(10), logger: Logger) throws {
        self.config = config
        self.logger = logger
        self.requestTimeout = .nanoseconds(
            requestTimeout.components.seconds * 1_000_000_000 + requestTimeout.components.attoseconds / 1_000_000_000
        )
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
        configuration.timeout = .init(connect: .seconds(5), read: self.requestTimeout)
        http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        var watchConfiguration = HTTPClient.Configuration(tlsConfiguration: tls)
        watchConfiguration.timeout = .init(connect: .seconds(5), read: nil)
        watchHTTP = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: watchConfiguration)
    }

    /// Closes the client's connections.
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

    /// Sends one request and returns the decoded JSON body; throws ``KubeAPIError`` for any status above 299.
    public func request(
        _ method: HTTPMethod,
        _ path: String,
        body: JSONValue? = nil,
        contentType: String = "application/json"
    ) async throws -> JSONValue {
        var request = HTTPClientRequest(url: config.server + path)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "fledge/0.1")
        if let token = bearerToken() { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body.serializedBytes()))
        }
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await http.execute(request, timeout: requestTimeout)
            bytes = try await response.body.collect(upTo: 64 * 1024 * 1024)
        } catch {
            throw KubeAPIError(
                reason: .unreachable,
                code: 0,
                message: "cannot reach the Kubernetes API at \(config.server): \(error)"
            )
        }
        let data = Array(bytes.readableBytesView)
        guard (200..<300).contains(Int(response.status.code)) else {
            throw KubeAPIError.from(
                code: Int(response.status.code),
                body: data,
                retryAfter: response.headers.first(name: "Retry-After")
            )
        }
        do {
            return try JSONValue(parsing: data)
        } catch {
            throw KubeAPIError(reason: .serverError, code: Int(response.status.code), message: "\(error)")
        }
    }

    /// GET a path and return its JSON.
    public func get(_ path: String) async throws -> JSONValue { try await request(.GET, path) }

    /// GET an object, or `nil` when it does not exist.
    public func getIfPresent(_ path: String) async throws -> JSONValue? {
        do {
            return try await request(.GET, path)
        } catch let error as KubeAPIError where error.reason == .notFound {
            return nil
        }
    }

    /// LIST a collection, following `continue` tokens, and return every item.
    public func listAll(
        _ path: String,
        labelSelector: String? = nil,
        fieldSelector: String? = nil,
        limit: Int = 500
    ) async throws -> [JSONValue] {
        var items: [JSONValue] = []
        var token: String?
        repeat {
            var query = ["limit=\(limit)"]
            if let labelSelector { query.append("labelSelector=\(Self.escape(labelSelector))") }
            if let fieldSelector { query.append("fieldSelector=\(Self.escape(fieldSelector))") }
            if let token { query.append("continue=\(Self.escape(token))") }
            let page = try await request(.GET, path + "?" + query.joined(separator: "&"))
            items += page["items"]?.arrayValue ?? []
            token = page["metadata", "continue"]?.stringValue
            if token?.isEmpty == true { token = nil }
        } while token != nil
        return items
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~")))
            ?? text
    }
}
