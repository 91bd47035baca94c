import Admission
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Prometheus
import Synchronization

/// Whether the server should receive traffic: ready once it listens with a certificate, not ready while draining.
public final class Readiness: Sendable {
    private let state = Mutex<(listening: Bool, draining: Bool)>((false, false))

    public init() {}

    public var isReady: Bool { state.withLock { $0.listening && !$0.draining } }

    func markListening() { state.withLock { $0.listening = true } }
    func markDraining() { state.withLock { $0.draining = true } }
}

/// Routes HTTP requests: the three admission webhooks (POST only, JSON only, at most 7 MiB), `/healthz`, `/readyz`,
/// `/livez` and `/metrics`.
struct WebhookResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let admission: AdmissionService
    let metrics: WebhookMetrics
    let readiness: Readiness
    let maximumBodyBytes: Int

    func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        if let endpoint = AdmissionEndpoint(path: path) {
            return await review(request, endpoint: endpoint, logger: context.logger)
        }
        switch path {
        case "/healthz", "/livez":
            return text(.ok, "ok\n")
        case "/readyz":
            return readiness.isReady ? text(.ok, "ok\n") : text(.serviceUnavailable, "not ready\n")
        case "/metrics":
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition()))
            )
        default:
            return json(
                AdmissionService.failure(
                    404,
                    "no such path \(path); the webhooks are "
                        + AdmissionEndpoint.allCases.map(\.rawValue).joined(separator: ", ")
                )
            )
        }
    }

    func review(_ request: Request, endpoint: AdmissionEndpoint, logger: Logger) async -> Response {
        let start = ContinuousClock.now
        metrics.inFlight.increment()
        let answer = await answer(request, endpoint: endpoint)
        metrics.inFlight.decrement()
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        metrics.recordRequest(webhook: endpoint.label, code: answer.status, verdict: answer.verdict, seconds: seconds)
        var response = json(answer)
        if answer.status == 405 { response.headers[.allow] = "POST" }
        return response
    }

    func answer(_ request: Request, endpoint: AdmissionEndpoint) async -> AdmissionHTTPResponse {
        guard request.method == .post else {
            return AdmissionService.failure(
                405,
                "method \(request.method) is not allowed; admission reviews are POSTed"
            )
        }
        let contentType = request.headers[.contentType] ?? ""
        guard Self.isJSON(contentType) else {
            return AdmissionService.failure(
                415,
                "content type \"\(contentType)\" is not supported; send application/json"
            )
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maximumBodyBytes {
            return AdmissionService.failure(413, tooLarge)
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maximumBodyBytes)
        } catch {
            return AdmissionService.failure(413, tooLarge)
        }
        return await admission.handle(endpoint: endpoint, body: body.readableBytesView)
    }

    /// Whether a Content-Type names `application/json` (any case, parameters such as `charset` allowed).
    static func isJSON(_ contentType: String) -> Bool {
        var utf8 = Substring(contentType).utf8[...]
        while utf8.first == UInt8(ascii: " ") || utf8.first == UInt8(ascii: "\t") { utf8 = utf8.dropFirst() }
        let expected = "application/json".utf8
        guard utf8.count >= expected.count else { return false }
        // ASCII case folding is enough: a media type is a token of ASCII letters, digits and punctuation.
        let matches = zip(utf8, expected).allSatisfy { byte, wanted in
            ((0x41...0x5A).contains(byte) ? byte | 0x20 : byte) == wanted
        }
        guard matches else { return false }
        let rest = utf8.dropFirst(expected.count)
        guard let next = rest.first(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }) else {
            return true
        }
        return next == UInt8(ascii: ";")
    }

    var tooLarge: String { "request body is larger than \(maximumBodyBytes) bytes" }

    func json(_ answer: AdmissionHTTPResponse) -> Response {
        Response(
            status: HTTPResponse.Status(code: answer.status),
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: answer.body))
        )
    }

    func text(_ status: HTTPResponse.Status, _ message: String) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: message))
        )
    }
}
