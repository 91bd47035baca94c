import Foundation
import Hummingbird
import HummingbirdCore
import NIOCore
import ServerGuards

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
    /// Read at every scrape (no caching): a rotated Secret takes effect at once.
    let token: BearerTokenFile?

    init(tokenFile: String?) {
        self.tokenFile = tokenFile
        token = tokenFile.flatMap { try? BearerTokenFile(path: $0, recheckInterval: .zero) }
    }

    func respond(to request: Request, metrics: WebhookMetrics) -> Response {
        if let tokenFile {
            guard let token = token ?? (try? BearerTokenFile(path: tokenFile, recheckInterval: .zero)) else {
                return ProbeResponder.text(.serviceUnavailable, "the metrics token file \(tokenFile) cannot be read\n")
            }
            guard token.accepts(request.headers[.authorization]) else {
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
