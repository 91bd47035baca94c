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

/// A small Kubernetes REST client: JSON in and out, every request bounded by a timeout, errors classified from the
/// API server's `Status`, over a ``KubeTransport`` (HTTPS to a real API server, or in process).
public final class KubeClient: Sendable {
    public let transport: any KubeTransport
    /// The kubeconfig, when the client talks HTTPS.
    public var config: KubeConfig? { (transport as? HTTPSTransport)?.config }
    let requestTimeout: Duration
    let logger: Logger

    /// A client over HTTPS with the credentials of `config`.
    public convenience init(config: KubeConfig, requestTimeout: Duration = .seconds(10), logger: Logger) throws {
        try self.init(
            transport: HTTPSTransport(config: config, readTimeout: requestTimeout),
            requestTimeout: requestTimeout,
            logger: logger
        )
    }

    /// A client over `transport`.
    public init(transport: any KubeTransport, requestTimeout: Duration = .seconds(10), logger: Logger) {
        self.transport = transport
        self.requestTimeout = requestTimeout
        self.logger = logger
    }

    /// Closes the client's connections.
    public func shutdown() async throws { try await transport.shutdown() }

    /// Sends one request and returns the decoded JSON body; throws ``KubeAPIError`` for any status above 299.
    public func request(
        _ method: HTTPMethod,
        _ path: String,
        body: JSONValue? = nil,
        contentType: String = "application/json"
    ) async throws -> JSONValue {
        var headers: [(name: String, value: String)] = [("Accept", "application/json"), ("User-Agent", "fledge/0.1")]
        if body != nil { headers.append(("Content-Type", contentType)) }
        let response: KubeResponse
        do {
            response = try await transport.send(
                KubeRequest(method: method.rawValue, target: path, headers: headers, body: body?.serializedBytes()),
                timeout: requestTimeout
            )
        } catch {
            throw KubeAPIError(
                reason: .unreachable,
                code: 0,
                message: "cannot reach the Kubernetes API at \(transport.server): \(error)"
            )
        }
        guard (200..<300).contains(response.status) else {
            throw KubeAPIError.from(
                code: response.status,
                body: response.body,
                retryAfter: response.headers["retry-after"]
            )
        }
        do {
            return try JSONValue(parsing: response.body)
        } catch {
            throw KubeAPIError(reason: .serverError, code: response.status, message: "\(error)")
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
