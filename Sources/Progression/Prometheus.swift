import AsyncHTTPClient
import CanaryModel
import Foundation
import JSONValue
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOSSL

/// How a ``PrometheusClient`` authenticates: nothing, a bearer token, or HTTP basic auth.
///
/// A MetricTemplate's `secretRef` Secret supplies these, as in Flagger: a `token` key gives ``bearer(_:)``,
/// otherwise `username` and `password` give ``basic(user:password:)``.
public enum PrometheusAuth: Sendable, Hashable {
    /// No `Authorization` header.
    case none
    /// `Authorization: Bearer <token>`.
    case bearer(String)
    /// `Authorization: Basic base64(user:password)`.
    case basic(user: String, password: String)

    /// The `Authorization` header value, or `nil` for ``none``.
    public var headerValue: String? {
        switch self {
        case .none:
            return nil
        case .bearer(let token):
            return "Bearer \(token)"
        case .basic(let user, let password):
            return "Basic \(Data("\(user):\(password)".utf8).base64EncodedString())"
        }
    }
}

/// Why a metric could not be read: the query's answer, the transport, or the template that built the query.
///
/// ``Kind-swift.enum/noValues`` is the case Flagger calls "no values found" (an empty vector or NaN): the canary is
/// probably not receiving traffic. Every other kind is a failed query.
public struct MetricQueryError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The class of failure.
    public enum Kind: String, Sendable, Hashable {
        /// The query answered an empty vector, or NaN.
        case noValues
        /// The answer was not a vector or scalar Prometheus response (a matrix, a string, bad JSON).
        case badResult
        /// Prometheus answered an HTTP status of 400 or more.
        case http
        /// The request could not be made: bad address, connection refused, reset.
        case unreachable
        /// No complete answer within the timeout.
        case timeout
        /// The query template could not be rendered (an unknown variable, an unclosed action).
        case template
    }

    /// The class of failure.
    public var kind: Kind
    /// A one-line human description, without the text of the answer (see ``answer``).
    public var message: String
    /// The HTTP status for ``Kind-swift.enum/http`` errors.
    public var statusCode: Int?
    /// An excerpt of the answer that explains the failure, kept apart so it reaches Events only where allowed.
    public var answer: String?

    /// Creates an error of `kind` described by `message`.
    public init(_ kind: Kind, _ message: String, statusCode: Int? = nil, answer: String? = nil) {
        self.kind = kind
        self.message = message
        self.statusCode = statusCode
        self.answer = answer
    }

    /// The message with the answer's excerpt, for logs and where answers may be shown.
    public var messageWithAnswer: String {
        guard let answer, !answer.isEmpty else { return message }
        return "\(message): \(answer)"
    }

    /// Flagger's `ErrNoValuesFound`.
    public static let noValuesFound = MetricQueryError(.noValues, "no values found")

    /// The ``message``.
    public var description: String { message }
}

/// A Prometheus instant-query client with Flagger's reading of the answer.
///
/// `query(_:)` sends `GET <address>/api/v1/query?query=<escaped>` with the query's whitespace runs collapsed to one
/// space (Flagger's `trimQuery`), and reads the value: the first sample of a vector, or a scalar. An empty vector or
/// NaN is ``MetricQueryError/noValuesFound``; a matrix or any other result type is a
/// ``MetricQueryError/Kind-swift.enum/badResult`` error.
/// The whole request, body included, must finish within `timeout` (Flagger: 5 s).
public final class PrometheusClient: Sendable {
    /// The server address as given, e.g. `http://prometheus.linkerd-viz:9090`.
    public let address: String
    let http: HTTPClient
    let auth: PrometheusAuth
    let headers: [String: String]
    let timeout: Duration
    let insecureSkipVerify: Bool

    /// The largest answer read; Prometheus instant queries of one sample are a few hundred bytes.
    static let maximumBodySize = 4 << 20

    /// Creates a client for the Prometheus at `address`.
    ///
    /// - Parameters:
    ///   - address: `http://` or `https://` URL of the server, optionally with a path prefix.
    ///   - http: the shared HTTP client; this class never shuts it down.
    ///   - auth: credentials sent with every query.
    ///   - headers: extra request headers (a MetricTemplate's `provider.headers`).
    ///   - timeout: the limit for one query, connection included.
    ///   - insecureSkipVerify: skip TLS certificate verification (a MetricTemplate's `provider.insecureSkipVerify`).
    public init(
        address: String,
        http: HTTPClient,
        auth: PrometheusAuth = .none,
        headers: [String: String] = [:],
        timeout: Duration = .seconds(5),
        insecureSkipVerify: Bool = false
    ) {
        self.address = address
        self.http = http
        self.auth = auth
        self.headers = headers
        self.timeout = timeout
        self.insecureSkipVerify = insecureSkipVerify
    }

    /// Runs an instant query and returns its single value.
    ///
    /// - Throws: ``MetricQueryError``; ``MetricQueryError/noValuesFound`` when the answer holds no usable sample.
    public func query(_ promQL: String) async throws(MetricQueryError) -> Double {
        let compacted = Self.compact(promQL)
        let url: String
        do {
            url = try Self.queryURL(address: address, query: compacted)
        } catch {
            throw MetricQueryError(.unreachable, "prometheus address \(address) is not allowed: \(error.message)")
        }
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        request.headers.add(name: "Accept", value: "application/json")
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            request.headers.replaceOrAdd(name: name, value: value)
        }
        if let authorization = auth.headerValue {
            request.headers.replaceOrAdd(name: "Authorization", value: authorization)
        }
        if insecureSkipVerify {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .none
            request.tlsConfiguration = tls
        }

        let status: HTTPResponseStatus
        let body: ByteBuffer
        do {
            (status, body) = try await HTTPText.fetch(
                request,
                with: http,
                timeout: timeout,
                maximumBodySize: Self.maximumBodySize
            )
        } catch {
            throw Self.transportError(error, address: address, timeout: timeout)
        }
        let text = String(buffer: body)
        if status.code >= 400 {
            throw MetricQueryError(
                .http,
                "error response: \(status.code) \(status.reasonPhrase)",
                statusCode: Int(status.code),
                answer: HTTPText.excerpt(text)
            )
        }
        return try Self.value(fromResponse: text)
    }

    /// Flagger's `trimQuery`: every run of whitespace (spaces, tabs, newlines) becomes one space.
    ///
    /// Leading and trailing runs become one space too, exactly as Flagger sends them.
    public static func compact(_ promQL: String) -> String {
        var result = ""
        result.reserveCapacity(promQL.utf8.count)
        var inWhitespace = false
        for character in promQL {
            if character.isWhitespace {
                if !inWhitespace { result.append(" ") }
                inWhitespace = true
            } else {
                result.append(character)
                inWhitespace = false
            }
        }
        return result
    }

    /// The query URL for `query` (already compacted) against `address`: the address parsed as an ``OutboundURL``
    /// (no query or fragment of its own, so nothing can be smuggled past `/api/v1/query`), its path kept as a prefix.
    static func queryURL(address: String, query: String) throws(OutboundURLError) -> String {
        let base = try OutboundURL(address.trimmingCharacters(in: .whitespaces), allowQuery: false)
        return base.appending(path: "/api/v1/query", query: [("query", query)])
    }

    /// Reads the value out of a `/api/v1/query` answer.
    static func value(fromResponse text: String) throws(MetricQueryError) -> Double {
        let json: JSONValue
        do {
            json = try JSONValue(parsing: text)
        } catch {
            throw MetricQueryError(.badResult, "error unmarshaling result: \(error)", answer: HTTPText.excerpt(text))
        }
        if let status = json["status"]?.stringValue, status != "success" {
            let reason = json["error"]?.stringValue ?? "unknown error"
            throw MetricQueryError(.badResult, "query status \(status): \(reason)")
        }
        guard let data = json["data"], let resultType = data["resultType"]?.stringValue else {
            throw MetricQueryError(.badResult, "answer has no data.resultType", answer: HTTPText.excerpt(text))
        }
        let sample: JSONValue?
        switch resultType {
        case "vector":
            guard let results = data["result"]?.arrayValue else {
                throw MetricQueryError(.badResult, "vector answer has no result array")
            }
            guard let first = results.first else { throw MetricQueryError.noValuesFound }
            sample = first["value"]
        case "scalar":
            sample = data["result"]
        default:
            throw MetricQueryError(
                .badResult,
                "unsupported result type \(resultType): the query must return a single vector sample or a scalar"
            )
        }
        guard let pair = sample?.arrayValue, pair.count == 2, let valueText = pair[1].stringValue else {
            throw MetricQueryError(.badResult, "sample is not a [timestamp, \"value\"] pair")
        }
        guard let value = parseSampleValue(valueText) else {
            throw MetricQueryError(.badResult, "sample value \(valueText) is not a number")
        }
        if value.isNaN { throw MetricQueryError.noValuesFound }
        return value
    }

    /// Prometheus writes values with Go's `strconv.FormatFloat`: `99.5`, `1e+06`, `NaN`, `+Inf`, `-Inf`.
    static func parseSampleValue(_ text: String) -> Double? {
        switch text {
        case "NaN": return .nan
        case "+Inf", "Inf": return .infinity
        case "-Inf": return -.infinity
        default: return Double(text)
        }
    }

    static func transportError(_ error: any Error, address: String, timeout: Duration) -> MetricQueryError {
        if HTTPText.isTimeout(error) {
            return MetricQueryError(
                .timeout,
                "request to \(address) timed out after \(HTTPText.goDuration(timeout))"
            )
        }
        return MetricQueryError(.unreachable, "request to \(address) failed: \(error)")
    }
}
