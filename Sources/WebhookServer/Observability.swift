import Foundation
import Hummingbird
import HummingbirdCore
import NIOCore

/// Where the server exposes `/metrics`, and whether a bearer token guards it.
public struct MetricsExposure: Sendable, Equatable {
    /// The port `/metrics` is served on.
    public enum Place: Sendable, Equatable {
        /// On the webhook's own HTTPS port, beside the admission paths.
        case webhookPort
        /// On a separate plain-HTTP listener (port 0 picks a free one); the webhook port then answers it 404. This
        /// listener also serves `/healthz`, `/livez` and `/readyz`, for probes that cannot present a client
        /// certificate.
        case separate(host: String, port: Int)
    }

    /// The port `/metrics` is served on.
    public var place: Place
    /// A file holding the token a scrape must send as `Authorization: Bearer <token>`; read at every scrape, so a
    /// rotated Secret takes effect without a restart.
    public var tokenFile: String?

    /// Serves `/metrics` at `place`, behind the token in `tokenFile` when one is given.
    public init(place: Place, tokenFile: String? = nil) {
        self.place = place
        self.tokenFile = tokenFile
    }
}

/// Serves `/metrics`, checking the bearer token when one is configured.
struct MetricsAccess: Sendable {
    let tokenFile: String?

    func respond(to request: Request, metrics: WebhookMetrics) -> Response {
        if let tokenFile {
            guard let data = FileManager.default.contents(atPath: tokenFile) else {
                return ProbeResponder.text(.serviceUnavailable, "the metrics token file \(tokenFile) cannot be read\n")
            }
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty, Self.matches(request.headers[.authorization], token: token) else {
                var response = ProbeResponder.text(.unauthorized, "a bearer token is required for /metrics\n")
                response.headers[.wwwAuthenticate] = "Bearer"
                return response
            }
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition()))
        )
    }

    /// Whether `header` is `Bearer <token>`, compared in time independent of where the bytes differ.
    static func matches(_ header: String?, token: String) -> Bool {
        guard let header else { return false }
        let prefix = "Bearer "
        guard header.count > prefix.count, header.prefix(prefix.count).lowercased() == prefix.lowercased() else {
            return false
        }
        let given = Array(header.utf8.dropFirst(prefix.utf8.count))
        let wanted = Array(token.utf8)
        var difference = UInt8(given.count == wanted.count ? 0 : 1)
        for index in 0..<max(given.count, wanted.count) {
            let left = index < given.count ? given[index] : 0
            let right = index < wanted.count ? wanted[index] : 0
            difference |= left ^ right
        }
        return difference == 0
    }
}

/// The probe paths every listener of the server answers.
enum ProbeResponder {
    static func respond(path: String, readiness: Readiness) -> Response? {
        switch path {
        case "/healthz", "/livez":
            return text(.ok, "ok\n")
        case "/readyz":
            return readiness.isReady ? text(.ok, "ok\n") : text(.serviceUnavailable, "not ready\n")
        default:
            return nil
        }
    }

    static func text(_ status: HTTPResponse.Status, _ message: String) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: message))
        )
    }
}

/// The separate plain-HTTP listener: `/metrics` and the probes.
struct ObservabilityResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let metrics: WebhookMetrics
    let readiness: Readiness
    let access: MetricsAccess

    func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        if let response = ProbeResponder.respond(path: path, readiness: readiness) { return response }
        if path == "/metrics" { return access.respond(to: request, metrics: metrics) }
        return ProbeResponder.text(.notFound, "no such path \(path); this port serves /metrics, /healthz and /readyz\n")
    }
}
