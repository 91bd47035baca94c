import Admission
import Foundation
import Hummingbird
import HummingbirdCore
import JSONValue
import KubeModels
import Logging
import NIOCore
import Prometheus
import ServerGuards
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
/// `/livez` and, when the server exposes it here, `/metrics`.
struct WebhookResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let reviewer: any AdmissionReviewer
    let executor: AdmissionExecutor
    let inlineReviewBytes: Int
    let budget: ByteBudget
    let budgetPatience: Duration
    let metrics: WebhookMetrics
    let readiness: Readiness
    let maximumBodyBytes: Int
    /// Serves `/metrics` on this port, behind the token when there is one; `nil` answers it 404.
    let metricsAccess: MetricsAccess?

    func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        if let endpoint = AdmissionEndpoint(path: path) {
            return await review(request, endpoint: endpoint, logger: context.logger)
        }
        if let response = ProbeResponder.respond(path: path, readiness: readiness) { return response }
        if path == "/metrics", let metricsAccess {
            return metricsAccess.respond(to: request, metrics: metrics)
        }
        return json(
            AdmissionService.failure(
                404,
                "no such path \(path); the webhooks are "
                    + AdmissionEndpoint.allCases.map(\.rawValue).joined(separator: ", ")
            )
        )
    }

    func review(_ request: Request, endpoint: AdmissionEndpoint, logger: Logger) async -> Response {
        let start = ContinuousClock.now
        metrics.inFlight.increment()
        let answer = await answer(request, endpoint: endpoint, logger: logger)
        metrics.inFlight.decrement()
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        metrics.recordRequest(webhook: endpoint.label, code: answer.status, verdict: answer.verdict, seconds: seconds)
        var response = json(answer)
        if answer.status == 405 { response.headers[.allow] = "POST" }
        if answer.status == 429 { response.headers[.retryAfter] = "1" }
        return response
    }

    func answer(_ request: Request, endpoint: AdmissionEndpoint, logger: Logger) async -> AdmissionHTTPResponse {
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
        let declared = request.headers[.contentLength].flatMap(Int.init)
        if let declared, declared > maximumBodyBytes {
            return AdmissionService.failure(413, tooLarge)
        }
        // The body and the work on it are held within the memory budget: a body of unknown length may grow to the
        // limit, so it reserves that much.
        guard let reserved = await budget.reserve(declared ?? maximumBodyBytes, waitingAtMost: budgetPatience) else {
            logger.warning(
                "admission memory budget exhausted; answering 429",
                metadata: ["bytes": "\(declared ?? maximumBodyBytes)", "budget": "\(budget.capacity)"]
            )
            return Self.busy(budget: budget.capacity)
        }
        defer { budget.release(reserved) }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maximumBodyBytes)
        } catch {
            return AdmissionService.failure(413, tooLarge)
        }
        let reviewer = self.reviewer
        guard body.readableBytes > inlineReviewBytes else {
            return await reviewer.review(endpoint, body: body.readableBytesView)
        }
        let large = body.readableBytes >= Self.trimAfterBytes
        return await withTaskExecutorPreference(executor) {
            let answer = await reviewer.review(endpoint, body: body.readableBytesView)
            if large { releaseFreedMemory() }
            return answer
        }
    }

    /// After a review of at least this many bytes, memory it freed is handed back to the operating system.
    static let trimAfterBytes = 1024 * 1024

    /// The answer when the memory budget has no room: 429 with `Retry-After`, which the API server's client retries
    /// within the webhook's timeout.
    static func busy(budget: Int) -> AdmissionHTTPResponse {
        let message =
            "the admission gate is busy: reviews in flight hold its memory budget of \(budget) bytes; retry shortly"
        let status = Status(message: message, reason: "TooManyRequests", code: 429)
        let body = (try? JSONValueEncoder().encode(status))?.serializedBytes() ?? Array(message.utf8)
        return AdmissionHTTPResponse(status: 429, body: body, verdict: "error")
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
}
