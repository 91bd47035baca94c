import Foundation
import JSONValue
import KubeModels
import Logging
import ServiceLifecycle
import Synchronization

/// A list-and-watch cache of one kind (e.g. every Canary): it lists, watches from the list's resourceVersion,
/// re-lists on 410 Gone, reconnects with backoff, and tells subscribers which objects changed.
///
/// It keeps only the objects `keep` accepts (a worker keeps the Deployments its Canaries name, not every
/// Deployment of the cluster) with `managedFields` and the last-applied annotation dropped, so its memory follows
/// what its owner cares about. Objects written by its owner can be put in at once (``upsert(_:)``), so a read right
/// after a write sees the write; a watch event older than what is cached never replaces it. An object the model
/// cannot read is remembered as unreadable with the reason, never dropped silently.
public final class Informer<Object: KubeResource>: Service, Sendable {
    /// What changed.
    public struct Change: Sendable {
        public enum Kind: Sendable, Equatable {
            case upsert
            case delete
        }

        public var kind: Kind
        public var namespace: String
        public var name: String
        /// The object after the change (nil for a delete, or when it could not be read).
        public var object: Object?
    }

    /// What the cache holds for a name.
    public enum Entry: Sendable {
        case present(Object)
        /// The object exists but does not fit the model; the reason names the member at fault.
        case unreadable(String)
        /// Known not to exist (a GET found nothing, or the watch saw it deleted): no need to ask again until the
        /// watch says otherwise.
        case absent
    }

    let client: KubeClient
    let namespace: String?
    let version: String
    let keep: @Sendable (_ namespace: String, _ name: String) -> Bool
    let logger: Logger
    private let state = Mutex(State())

    struct State {
        var entries: [String: (entry: Entry, revision: Int64?)] = [:]
        var synced = false
        var subscribers: [Int: AsyncStream<Change>.Continuation] = [:]
        var nextSubscriber = 0
        var lists = 0
        var syncWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// An informer of `Object` in `namespace` (all when nil), at `version`.
    ///
    /// - Parameter keep: whether to cache an object (by namespace and name); everything by default.
    public init(
        client: KubeClient,
        namespace: String? = nil,
        version: String = Object.version,
        keep: @escaping @Sendable (_ namespace: String, _ name: String) -> Bool = { _, _ in true },
        logger: Logger
    ) {
        self.client = client
        self.namespace = namespace
        self.version = version
        self.keep = keep
        self.logger = logger
    }

    /// Every cached object that could be read.
    public var objects: [Object] {
        state.withLock { state in
            state.entries.values.compactMap {
                if case .present(let object) = $0.entry { return object }
                return nil
            }
        }
    }

    /// How many names are cached (readable or not).
    public var count: Int { state.withLock { $0.entries.count } }
    /// Whether the first list has completed.
    public var hasSynced: Bool { state.withLock { $0.synced } }
    /// How many LISTs were made (one at start, one per 410).
    public var listCount: Int { state.withLock { $0.lists } }

    /// The cached entry for a name, or nil when none is cached.
    public func entry(namespace: String, name: String) -> Entry? {
        state.withLock { $0.entries[Self.key(namespace, name)]?.entry }
    }

    /// The cached object, or nil when none is cached or it could not be read.
    public func get(namespace: String, name: String) -> Object? {
        if case .present(let object) = entry(namespace: namespace, name: name) { return object }
        return nil
    }

    /// Returns once the first list has completed.
    public func waitForSync() async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state in
                if state.synced { return true }
                state.syncWaiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// Puts an object its owner just read or wrote into the cache (ignored when the cache holds a newer one), so
    /// the next read sees it before its watch event arrives.
    public func upsert(_ object: Object) {
        let key = object.key
        _ = state.withLock { state in
            Self.store(.present(Self.trimmed(object)), revision: Self.revision(object), at: key, in: &state)
        }
    }

    /// Notes that the object does not exist (its owner just asked), so the next read needs no request; a watch
    /// event creating it replaces the note.
    public func markAbsent(namespace: String, name: String) {
        _ = state.withLock { state in
            Self.store(.absent, revision: nil, at: Self.key(namespace, name), in: &state)
        }
    }

    /// Forgets an object its owner deleted or no longer cares about.
    public func forget(namespace: String, name: String) {
        _ = state.withLock { $0.entries.removeValue(forKey: Self.key(namespace, name)) }
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

    /// The object's resourceVersion as a number, when it is one (etcd revisions are): used only to refuse going
    /// back in time; an opaque version never blocks an update.
    static func revision(_ object: Object) -> Int64? { object.metadata.resourceVersion.flatMap { Int64($0) } }

    /// What the cache keeps of an object: everything but its managed-fields bookkeeping and kubectl's copy of the
    /// last applied configuration, which can double an object's size and which Fledge never reads.
    static func trimmed(_ object: Object) -> Object {
        var object = object
        object.metadata.managedFields = nil
        object.metadata.annotations?["kubectl.kubernetes.io/last-applied-configuration"] = nil
        return object
    }

    /// Stores `entry` unless the cached one is newer; returns whether it was stored.
    static func store(_ entry: Entry, revision: Int64?, at key: String, in state: inout State) -> Bool {
        if let revision, let cached = state.entries[key]?.revision, cached > revision { return false }
        state.entries[key] = (entry, revision)
        return true
    }

    public func run() async throws {
        var backoff = Duration.milliseconds(200)
        var resourceVersion: String?
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                if resourceVersion == nil { resourceVersion = try await relist() }
                resourceVersion = try await watch(from: resourceVersion)
                backoff = .milliseconds(200)
            } catch let error as KubeAPIError where error.reason == .gone {
                logger.debug("watch expired; listing again", metadata: ["kind": "\(Object.kind)"])
                resourceVersion = nil
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled { break }
                logger.warning("informer error; retrying", metadata: ["kind": "\(Object.kind)", "error": "\(error)"])
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(10))
            }
        }
        let (subscribers, waiters) = state.withLock { state in
            let all = Array(state.subscribers.values)
            state.subscribers = [:]
            let waiters = state.syncWaiters
            state.syncWaiters = []
            return (all, waiters)
        }
        for subscriber in subscribers { subscriber.finish() }
        for waiter in waiters { waiter.resume() }
    }

    /// The entry for one listed or watched object.
    func decode(_ json: JSONValue) -> (key: String, namespace: String, name: String, entry: Entry, revision: Int64?) {
        let namespace = json["metadata", "namespace"]?.stringValue ?? ""
        let name = json["metadata", "name"]?.stringValue ?? ""
        let revision = json["metadata", "resourceVersion"]?.stringValue.flatMap { Int64($0) }
        do {
            let object = Self.trimmed(try JSONValueDecoder().decode(Object.self, from: json))
            return (Self.key(namespace, name), namespace, name, .present(object), revision)
        } catch let error as DecodingError {
            return (
                Self.key(namespace, name), namespace, name, .unreadable("\(error.fieldPath): \(error.problem)"),
                revision
            )
        } catch {
            return (Self.key(namespace, name), namespace, name, .unreadable("\(error)"), revision)
        }
    }

    /// Lists everything, replaces the cache, reports differences; returns the list's resourceVersion.
    func relist() async throws -> String? {
        let path = Object.collectionPath(namespace: namespace, version: version)
        var items: [JSONValue] = []
        var continueToken: String?
        var listVersion: String?
        repeat {
            let page = try await client.get(
                path + "?limit=500" + (continueToken.map { "&continue=\(KubeClient.escape($0))" } ?? "")
            )
            items += page["items"]?.arrayValue ?? []
            continueToken = page["metadata", "continue"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            listVersion = page["metadata", "resourceVersion"]?.stringValue
        } while continueToken != nil
        var fresh: [String: (namespace: String, name: String, entry: Entry, revision: Int64?)] = [:]
        for item in items {
            let decoded = decode(item)
            guard keep(decoded.namespace, decoded.name) else { continue }
            fresh[decoded.key] = (decoded.namespace, decoded.name, decoded.entry, decoded.revision)
        }
        let (changes, subscribers, waiters) = state.withLock { state in
            var changes: [Change] = []
            for (key, item) in fresh {
                let before = state.entries[key]?.revision
                if before == nil || before != item.revision {
                    state.entries[key] = (item.entry, item.revision)
                    changes.append(Self.change(.upsert, item.namespace, item.name, item.entry))
                }
            }
            for (key, cached) in state.entries where fresh[key] == nil {
                state.entries[key] = nil
                if case .absent = cached.entry { continue }
                let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
                changes.append(Change(kind: .delete, namespace: parts.first ?? "", name: parts.last ?? "", object: nil))
            }
            state.synced = true
            state.lists += 1
            let waiters = state.syncWaiters
            state.syncWaiters = []
            return (changes, Array(state.subscribers.values), waiters)
        }
        for waiter in waiters { waiter.resume() }
        for change in changes { for subscriber in subscribers { subscriber.yield(change) } }
        return listVersion
    }

    /// Applies watch events until the stream ends; returns the last resourceVersion seen.
    func watch(from resourceVersion: String?) async throws -> String? {
        var version = resourceVersion
        let events = client.watch(
            Object.collectionPath(namespace: namespace, version: self.version),
            resourceVersion: version,
            timeoutSeconds: 300
        )
        for try await event in events.cancelOnGracefulShutdown() {
            if let seen = event.resourceVersion { version = seen }
            if event.kind == .bookmark { continue }
            let decoded = decode(event.object)
            guard keep(decoded.namespace, decoded.name) else { continue }
            let (change, subscribers): (Change?, [AsyncStream<Change>.Continuation]) = state.withLock { state in
                if event.kind == .deleted {
                    state.entries[decoded.key] = (.absent, nil)
                    return (Change(kind: .delete, namespace: decoded.namespace, name: decoded.name, object: nil), [])
                }
                guard Self.store(decoded.entry, revision: decoded.revision, at: decoded.key, in: &state) else {
                    return (nil, [])
                }
                return (Self.change(.upsert, decoded.namespace, decoded.name, decoded.entry), [])
            }
            guard let change else { continue }
            let all = subscribers.isEmpty ? state.withLock { Array($0.subscribers.values) } : subscribers
            for subscriber in all { subscriber.yield(change) }
        }
        return version
    }

    static func change(_ kind: Change.Kind, _ namespace: String, _ name: String, _ entry: Entry) -> Change {
        if case .present(let object) = entry {
            return Change(kind: kind, namespace: namespace, name: name, object: object)
        }
        return Change(kind: kind, namespace: namespace, name: name, object: nil)
    }
}
