import Foundation
import JSONValue
import KubeModels
import Logging
import ServiceLifecycle
import Synchronization

/// A list-and-watch cache of one collection (e.g. every Canary): it lists, watches from the list's
/// resourceVersion, re-lists on 410 Gone, reconnects with backoff, and tells subscribers which objects changed.
public final class Informer: Service, Sendable {
    /// What changed.
    public struct Change: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            case upsert
            case delete
        }

        public var kind: Kind
        public var namespace: String
        public var name: String
        public var object: JSONValue
    }

    let client: KubeClient
    let path: String
    let labelSelector: String?
    let logger: Logger
    private let state = Mutex(State())

    struct State {
        var objects: [String: JSONValue] = [:]
        var synced = false
        var subscribers: [Int: AsyncStream<Change>.Continuation] = [:]
        var nextSubscriber = 0
        var lists = 0
    }

    /// `path` is a collection, e.g. `/apis/flagger.app/v1beta1/canaries` (all namespaces).
    public init(client: KubeClient, path: String, labelSelector: String? = nil, logger: Logger) {
        self.client = client
        self.path = path
        self.labelSelector = labelSelector
        self.logger = logger
    }

    /// Every cached object.
    public var objects: [JSONValue] { state.withLock { Array($0.objects.values) } }
    /// Whether the first list has completed.
    public var hasSynced: Bool { state.withLock { $0.synced } }
    /// How many LISTs were made (one at start, one per 410).
    public var listCount: Int { state.withLock { $0.lists } }

    public func get(namespace: String, name: String) -> JSONValue? {
        state.withLock { $0.objects[Self.key(namespace, name)] }
    }

    /// Changes from now on; the stream ends when the informer stops.
    public func changes() -> AsyncStream<Change> {
        let (stream, continuation) = AsyncStream<Change>.makeStream(bufferingPolicy: .bufferingNewest(4096))
        let id = state.withLock { state in
            let id = state.nextSubscriber
            state.nextSubscriber += 1
            state.subscribers[id] = continuation
            return id
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    static func key(_ namespace: String, _ name: String) -> String { "\(namespace)/\(name)" }

    public func run() async throws {
        var backoff = Duration.milliseconds(200)
        var resourceVersion: String?
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                if resourceVersion == nil { resourceVersion = try await relist() }
                resourceVersion = try await watch(from: resourceVersion)
                backoff = .milliseconds(200)
            } catch let error as KubeAPIError where error.reason == .gone {
                logger.debug("watch expired; listing again", metadata: ["path": "\(path)"])
                resourceVersion = nil
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled { break }
                logger.warning("informer error; retrying", metadata: ["path": "\(path)", "error": "\(error)"])
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(10))
            }
        }
        let subscribers = state.withLock { state in
            let all = state.subscribers.values
            state.subscribers = [:]
            return Array(all)
        }
        for subscriber in subscribers { subscriber.finish() }
    }

    /// Lists everything, replaces the cache, reports differences; returns the list's resourceVersion.
    func relist() async throws -> String? {
        var query = "?limit=500"
        if let labelSelector { query += "&labelSelector=\(KubeClient.escape(labelSelector))" }
        var items: [JSONValue] = []
        var continueToken: String?
        var version: String?
        repeat {
            let page = try await client.get(
                path + query + (continueToken.map { "&continue=\(KubeClient.escape($0))" } ?? "")
            )
            items += page["items"]?.arrayValue ?? []
            continueToken = page["metadata", "continue"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            version = page["metadata", "resourceVersion"]?.stringValue
        } while continueToken != nil
        var fresh: [String: JSONValue] = [:]
        for item in items {
            fresh[
                Self.key(item["metadata", "namespace"]?.stringValue ?? "", item["metadata", "name"]?.stringValue ?? "")
            ] = item
        }
        let (changes, subscribers) = state.withLock { state in
            var changes: [Change] = []
            for (key, object) in fresh where state.objects[key] != object {
                changes.append(Self.change(.upsert, object))
            }
            for (key, object) in state.objects where fresh[key] == nil {
                changes.append(Self.change(.delete, object))
            }
            state.objects = fresh
            state.synced = true
            state.lists += 1
            return (changes, Array(state.subscribers.values))
        }
        for change in changes { for subscriber in subscribers { subscriber.yield(change) } }
        return version
    }

    /// Applies watch events until the stream ends; returns the last resourceVersion seen.
    func watch(from resourceVersion: String?) async throws -> String? {
        var version = resourceVersion
        let events = client.watch(path, resourceVersion: version, labelSelector: labelSelector, timeoutSeconds: 300)
        for try await event in events.cancelOnGracefulShutdown() {
            if let seen = event.resourceVersion { version = seen }
            let change: Change
            switch event.kind {
            case .bookmark: continue
            case .deleted: change = Self.change(.delete, event.object)
            default: change = Self.change(.upsert, event.object)
            }
            let subscribers = state.withLock { state in
                let key = Self.key(change.namespace, change.name)
                if change.kind == .delete { state.objects[key] = nil } else { state.objects[key] = change.object }
                return Array(state.subscribers.values)
            }
            for subscriber in subscribers { subscriber.yield(change) }
        }
        return version
    }

    static func change(_ kind: Change.Kind, _ object: JSONValue) -> Change {
        Change(
            kind: kind,
            namespace: object["metadata", "namespace"]?.stringValue ?? "",
            name: object["metadata", "name"]?.stringValue ?? "",
            object: object
        )
    }
}
