import AsyncHTTPClient
import Foundation
import KubeModels
import NIOCore
import NIOHTTP1

/// Small helpers shared by the HTTP callers: message excerpts, timeout detection, Go duration text.
enum HTTPText {
    /// The most characters of a response body quoted in a message.
    static let excerptLimit = 2048

    /// `text` trimmed of surrounding whitespace and cut to ``excerptLimit`` characters.
    static func excerpt(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.count <= excerptLimit { return trimmed }
        return String(trimmed.prefix(excerptLimit)) + "…"
    }

    /// Thrown by ``fetch(_:with:timeout:maximumBodySize:)`` when the body did not arrive in time.
    struct TimedOut: Error {}

    /// Executes `request` and collects its whole body, all within `timeout`.
    ///
    /// AsyncHTTPClient's deadline stops at the response head; a body trickling in after it is bounded here by
    /// racing the collection against a sleep.
    static func fetch(
        _ request: HTTPClientRequest,
        with http: HTTPClient,
        timeout: Duration,
        maximumBodySize: Int
    ) async throws -> (status: HTTPResponseStatus, body: ByteBuffer) {
        try await withThrowingTaskGroup(of: (status: HTTPResponseStatus, body: ByteBuffer)?.self) { group in
            group.addTask {
                let response = try await http.execute(request, deadline: .now() + TimeAmount(timeout))
                return (response.status, try await response.body.collect(upTo: maximumBodySize))
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let result = first else { throw TimedOut() }
            return result
        }
    }

    /// Whether `error` means the request ran out of time rather than failed outright.
    static func isTimeout(_ error: any Error) -> Bool {
        if error is TimedOut { return true }
        if let client = error as? HTTPClientError {
            return client == .deadlineExceeded || client == .readTimeout || client == .connectTimeout
                || client == .writeTimeout || client == .tlsHandshakeTimeout
                || client == .getConnectionFromPoolTimeout
        }
        return false
    }

    /// `duration` the way Go prints a `time.Duration`: `5s`, `500ms`, `1m30s`.
    static func goDuration(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !nanoseconds.overflow else { return "\(seconds)s" }
        return GoDuration(nanoseconds: nanoseconds.partialValue + attoseconds / 1_000_000_000).description
    }

    /// A Swift `Duration` from Go duration text, or `nil` when the text does not parse.
    static func duration(fromGo text: String) -> Duration? {
        GoDuration(text).map { .nanoseconds($0.nanoseconds) }
    }
}
