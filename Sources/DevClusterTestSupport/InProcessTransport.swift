import DevCluster
import KubeClient

/// A ``KubeTransport`` that hands each request to an embedded cluster directly: the same API, no socket and no TLS,
/// so tests of the worker run in process and in milliseconds.
public struct InProcessTransport: KubeTransport {
    public let cluster: DevCluster
    /// Sent as the request's bearer token, for what the cluster's admission sees as the user.
    public let token: String

    public init(cluster: DevCluster, token: String = "test") {
        self.cluster = cluster
        self.token = token
    }

    public var server: String { "in-process" }

    func apiRequest(_ request: KubeRequest) -> APIRequest {
        var headers: [String: String] = ["authorization": "Bearer \(token)"]
        for header in request.headers { headers[header.name.lowercased()] = header.value }
        var query: [String: String] = [:]
        for item in request.queryItems { query[item.name] = item.value }
        return APIRequest(
            method: request.method,
            path: String(request.path),
            query: query,
            headers: headers,
            body: request.body ?? []
        )
    }

    static func headers(_ response: APIResponse) -> [String: String] {
        var headers = ["content-type": response.contentType]
        for (name, value) in response.headers where headers[name.lowercased()] == nil {
            headers[name.lowercased()] = value
        }
        return headers
    }

    public func send(_ request: KubeRequest, timeout: Duration) async throws -> KubeResponse {
        let response = await cluster.handle(apiRequest(request))
        return KubeResponse(status: response.status, headers: Self.headers(response), body: response.bytes)
    }

    public func stream(_ request: KubeRequest, timeout: Duration) async throws -> KubeStreamingResponse {
        let response = await cluster.handle(apiRequest(request))
        guard case .watch(let watch) = response.body else {
            let bytes = response.bytes
            return KubeStreamingResponse(
                status: response.status,
                headers: Self.headers(response),
                body: AsyncThrowingStream { continuation in
                    continuation.yield(bytes)
                    continuation.finish()
                }
            )
        }
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: [UInt8].self)
        // The watch pushes its events; a task relays them until the reader stops or the watch ends.
        let relay = Task {
            do {
                try await watch.run { chunk in continuation.yield(chunk) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in relay.cancel() }
        return KubeStreamingResponse(status: response.status, headers: Self.headers(response), body: stream)
    }

    public func shutdown() async throws {}
}
