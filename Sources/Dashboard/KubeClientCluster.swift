import Foundation
import JSONValue
import KubeClient

/// ``DashboardCluster`` on ``KubeClient``: the only file that knows the client's API.
public struct KubeClientCluster: DashboardCluster {
    public let client: KubeClient

    public init(client: KubeClient) { self.client = client }

    public func get(_ path: String) async throws -> JSONValue {
        try await mapped { try await client.get(path) }
    }

    public func list(
        _ path: String,
        fieldSelector: String?
    ) async throws -> (
        items: [JSONValue], resourceVersion: String?
    ) {
        var items: [JSONValue] = []
        var resourceVersion: String?
        var token: String?
        repeat {
            var query = ["limit=500"]
            if let fieldSelector { query.append("fieldSelector=\(Self.escape(fieldSelector))") }
            if let token { query.append("continue=\(Self.escape(token))") }
            let page = try await mapped { try await client.get(path + "?" + query.joined(separator: "&")) }
            items += page["items"]?.arrayValue ?? []
            if resourceVersion == nil { resourceVersion = page["metadata", "resourceVersion"]?.stringValue }
            token = page["metadata", "continue"]?.stringValue
            if token?.isEmpty == true { token = nil }
        } while token != nil
        return (items, resourceVersion)
    }

    public func watch(
        _ path: String,
        resourceVersion: String?,
        fieldSelector: String?,
        onEvent: (ClusterWatchEvent) async throws -> Void
    ) async throws {
        var events = client.watch(path, resourceVersion: resourceVersion, fieldSelector: fieldSelector)
            .makeAsyncIterator()
        while true {
            let next: WatchEvent?
            do {
                next = try await events.next()
            } catch let error as KubeAPIError {
                throw Self.map(error)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                throw ClusterError(kind: .unreachable, code: 0, message: "the watch of \(path) ended: \(error)")
            }
            guard let event = next else { return }
            guard let kind = ClusterWatchEvent.Kind(rawValue: event.kind.rawValue) else { continue }
            // What the handler throws reaches the caller unchanged.
            try await onEvent(ClusterWatchEvent(kind: kind, object: event.object))
        }
    }

    public func mergePatch(_ path: String, _ patch: JSONValue) async throws -> JSONValue {
        try await mapped { try await client.patch(path, patch, type: .merge) }
    }

    func mapped<T>(_ call: () async throws -> T) async throws -> T {
        do {
            return try await call()
        } catch let error as KubeAPIError {
            throw Self.map(error)
        }
    }

    static func map(_ error: KubeAPIError) -> ClusterError {
        let kind: ClusterError.Kind
        switch error.reason {
        case .forbidden: kind = .forbidden
        case .unauthorized: kind = .unauthorized
        case .notFound: kind = .notFound
        case .conflict, .alreadyExists: kind = .conflict
        case .gone: kind = .gone
        case .invalid, .badRequest: kind = .invalid
        case .unreachable: kind = .unreachable
        case .tooManyRequests, .serverError: kind = .other
        }
        return ClusterError(kind: kind, code: error.code, message: error.message)
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~")))
            ?? text
    }
}
