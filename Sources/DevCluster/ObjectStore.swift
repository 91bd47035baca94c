import Foundation
import JSONValue
import Synchronization

/// What happened to one object, as a watch reports it.
public struct StoreEvent: Sendable {
    public enum Kind: String, Sendable {
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
        case bookmark = "BOOKMARK"
    }

    public var kind: Kind
    /// `group/resource`, e.g. `apps/deployments`.
    public var resource: String
    public var namespace: String
    public var name: String
    public var object: JSONValue
    public var revision: Int64
}

/// Where one object lives.
public struct ObjectKey: Hashable, Sendable {
    public var resource: String
    public var namespace: String
    public var name: String

    public init(resource: String, namespace: String, name: String) {
        self.resource = resource
        self.namespace = namespace
        self.name = name
    }
}

/// A write refused by the store.
enum StoreError: Error, Equatable {
    case notFound
    case alreadyExists
    /// The caller's resourceVersion is not the stored one.
    case conflict
    /// A watch asked for history the store no longer holds.
    case expired(requested: Int64, oldest: Int64)
}

/// Objects of every kind, one global monotonic revision (the resourceVersion), and the recent history watches
/// resume from. All mutation happens under one lock so revisions and watch order agree.
public final class ObjectStore: Sendable {
    struct Watcher {
        var resource: String
        var namespace: String?
        var filter: @Sendable (JSONValue) -> Bool
        var continuation: AsyncStream<StoreEvent>.Continuation
    }

    struct State {
        var revision: Int64 = 1
        var buckets: [String: [String: JSONValue]] = [:]
        var history: [StoreEvent] = []
        var historyStart = 0
        var watchers: [Int: Watcher] = [:]
        var nextWatcher = 0
        var listeners: [Int: @Sendable (StoreEvent) -> Void] = [:]
    }

    private let state = Mutex(State())
    /// How many past events a watch can resume over.
    let historyLimit: Int

    public init(historyLimit: Int = 20_000) {
        self.historyLimit = historyLimit
    }

    /// The latest revision handed out.
    public var revision: Int64 { state.withLock { $0.revision } }

    static func slot(_ namespace: String, _ name: String) -> String {
        namespace.isEmpty ? name : "\(namespace)/\(name)"
    }

    public func get(_ key: ObjectKey) -> JSONValue? {
        state.withLock { $0.buckets[key.resource]?[Self.slot(key.namespace, key.name)] }
    }

    /// Objects of a resource (in one namespace, or all when `namespace` is nil) sorted by namespace and name, with
    /// the revision the list reflects.
    public func list(resource: String, namespace: String?) -> (items: [JSONValue], revision: Int64) {
        state.withLock { state in
            let bucket = state.buckets[resource] ?? [:]
            var entries: [(String, JSONValue)]
            if let namespace {
                let prefix = namespace + "/"
                entries = bucket.filter { namespace.isEmpty ? !$0.key.contains("/") : $0.key.hasPrefix(prefix) }
                    .map { ($0.key, $0.value) }
            } else {
                entries = bucket.map { ($0.key, $0.value) }
            }
            entries.sort { $0.0 < $1.0 }
            return (entries.map(\.1), state.revision)
        }
    }

    /// Every object of every resource (garbage collection, persistence).
    func everything() -> [(resource: String, object: JSONValue)] {
        state.withLock { state in
            state.buckets.flatMap { resource, bucket in bucket.values.map { (resource, $0) } }
        }
    }

    /// Stores a new object, stamping its resourceVersion; fails when the name is taken.
    func create(_ key: ObjectKey, _ build: (Int64) -> JSONValue) throws(StoreError) -> JSONValue {
        let result: Result<JSONValue, StoreError> = state.withLock { state in
            let slot = Self.slot(key.namespace, key.name)
            if state.buckets[key.resource]?[slot] != nil { return .failure(.alreadyExists) }
            state.revision += 1
            let object = Self.stamp(build(state.revision), state.revision)
            state.buckets[key.resource, default: [:]][slot] = object
            Self.publish(
                StoreEvent(kind: .added, key: key, object: object, revision: state.revision),
                in: &state,
                limit: historyLimit
            )
            return .success(object)
        }
        return try result.get()
    }

    /// Replaces an object when its stored resourceVersion is `expected` (any when nil). `transform` sees the stored
    /// object and returns the new one, or nil to leave it unchanged (no new revision, no event).
    func update(
        _ key: ObjectKey,
        expected: String?,
        _ transform: (JSONValue, Int64) -> JSONValue?
    ) throws(StoreError) -> JSONValue {
        let result: Result<JSONValue, StoreError> = state.withLock { state in
            let slot = Self.slot(key.namespace, key.name)
            guard let current = state.buckets[key.resource]?[slot] else { return .failure(.notFound) }
            if let expected, current["metadata", "resourceVersion"]?.stringValue != expected {
                return .failure(.conflict)
            }
            guard let changed = transform(current, state.revision + 1) else { return .success(current) }
            state.revision += 1
            let object = Self.stamp(changed, state.revision)
            state.buckets[key.resource, default: [:]][slot] = object
            Self.publish(
                StoreEvent(kind: .modified, key: key, object: object, revision: state.revision),
                in: &state,
                limit: historyLimit
            )
            return .success(object)
        }
        return try result.get()
    }

    /// Removes an object (when its resourceVersion is `expected`, if given) and returns it as last seen, stamped
    /// with the deletion's revision.
    func remove(_ key: ObjectKey, expected: String? = nil) throws(StoreError) -> JSONValue {
        let result: Result<JSONValue, StoreError> = state.withLock { state in
            let slot = Self.slot(key.namespace, key.name)
            guard let current = state.buckets[key.resource]?[slot] else { return .failure(.notFound) }
            if let expected, current["metadata", "resourceVersion"]?.stringValue != expected {
                return .failure(.conflict)
            }
            state.buckets[key.resource]?[slot] = nil
            state.revision += 1
            let object = Self.stamp(current, state.revision)
            Self.publish(
                StoreEvent(kind: .deleted, key: key, object: object, revision: state.revision),
                in: &state,
                limit: historyLimit
            )
            return .success(object)
        }
        return try result.get()
    }

    /// Loads objects as they were persisted, keeping their resourceVersions; the store's revision continues after
    /// the highest.
    func restore(_ objects: [(resource: String, object: JSONValue)]) {
        state.withLock { state in
            for (resource, object) in objects {
                let namespace = object["metadata", "namespace"]?.stringValue ?? ""
                guard let name = object["metadata", "name"]?.stringValue else { continue }
                state.buckets[resource, default: [:]][Self.slot(namespace, name)] = object
                if let revision = object["metadata", "resourceVersion"]?.stringValue.flatMap(Int64.init) {
                    state.revision = max(state.revision, revision)
                }
            }
        }
    }

    /// A stream of changes to one resource after `revision` (0: the current objects as ADDED first), or `.expired`
    /// when that history is gone. The stream ends when the consumer stops iterating or `cancel` is called.
    /// The annotation of the bookmark that ends a watch's initial events (`sendInitialEvents=true`).
    static let initialEventsEndAnnotation = "k8s.io/initial-events-end"

    func watch(
        resource: String,
        namespace: String?,
        from revision: Int64,
        initialEventsEnd: Bool = false,
        filter: @escaping @Sendable (JSONValue) -> Bool
    ) throws(StoreError) -> (
        events: AsyncStream<StoreEvent>, inject: @Sendable (StoreEvent) -> Void, cancel: @Sendable () -> Void
    ) {
        let (stream, continuation) = AsyncStream<StoreEvent>.makeStream()
        let outcome: Result<Int, StoreError> = state.withLock { state in
            func matches(_ event: StoreEvent) -> Bool {
                event.resource == resource && (namespace == nil || event.namespace == namespace)
            }
            if revision == 0 {
                let bucket = state.buckets[resource] ?? [:]
                for (slot, object) in bucket.sorted(by: { $0.key < $1.key }) {
                    let namespaceOfObject = object["metadata", "namespace"]?.stringValue ?? ""
                    if let namespace, namespaceOfObject != namespace { continue }
                    guard filter(object) else { continue }
                    let name = object["metadata", "name"]?.stringValue ?? slot
                    continuation.yield(
                        StoreEvent(
                            kind: .added,
                            resource: resource,
                            namespace: namespaceOfObject,
                            name: name,
                            object: object,
                            revision: state.revision
                        )
                    )
                }
                if initialEventsEnd {
                    continuation.yield(
                        StoreEvent(
                            kind: .bookmark,
                            resource: resource,
                            namespace: namespace ?? "",
                            name: "",
                            object: ["metadata": ["annotations": [Self.initialEventsEndAnnotation: "true"]]],
                            revision: state.revision
                        )
                    )
                }
            } else if revision < state.revision {
                let retained = state.history[state.historyStart...]
                let oldest = retained.first?.revision ?? state.revision + 1
                if revision < oldest - 1 { return .failure(.expired(requested: revision, oldest: oldest)) }
                for event in retained where event.revision > revision && matches(event) && filter(event.object) {
                    continuation.yield(event)
                }
            }
            let id = state.nextWatcher
            state.nextWatcher += 1
            state.watchers[id] = Watcher(
                resource: resource,
                namespace: namespace,
                filter: filter,
                continuation: continuation
            )
            return .success(id)
        }
        let id = try outcome.get()
        let cancel: @Sendable () -> Void = { [weak self] in
            let watcher = self?.state.withLock { $0.watchers.removeValue(forKey: id) }
            watcher?.continuation.finish()
        }
        continuation.onTermination = { _ in cancel() }
        return (stream, { continuation.yield($0) }, cancel)
    }

    /// Calls `listener` synchronously (under the store's lock, so keep it tiny) for every change; controllers use
    /// it to learn what to look at.
    @discardableResult
    func addListener(_ listener: @escaping @Sendable (StoreEvent) -> Void) -> Int {
        state.withLock { state in
            let id = state.nextWatcher
            state.nextWatcher += 1
            state.listeners[id] = listener
            return id
        }
    }

    /// How many watches are open.
    public var watchCount: Int { state.withLock { $0.watchers.count } }

    /// Ends every watch stream (shutdown).
    public func finishAll() {
        let watchers = state.withLock { state in
            let all = state.watchers
            state.watchers = [:]
            return all
        }
        for watcher in watchers.values { watcher.continuation.finish() }
    }

    private static func stamp(_ object: JSONValue, _ revision: Int64) -> JSONValue {
        guard case .object(var members) = object, case .object(var metadata) = members["metadata"] ?? [:] else {
            return object
        }
        metadata["resourceVersion"] = .string(String(revision))
        members["metadata"] = .object(metadata)
        return .object(members)
    }

    private static func publish(_ event: StoreEvent, in state: inout State, limit: Int) {
        state.history.append(event)
        if state.history.count - state.historyStart > limit {
            state.historyStart += 1
            if state.historyStart > limit {
                state.history.removeFirst(state.historyStart)
                state.historyStart = 0
            }
        }
        for watcher in state.watchers.values
        where watcher.resource == event.resource
            && (watcher.namespace == nil || watcher.namespace == event.namespace) && watcher.filter(event.object)
        {
            watcher.continuation.yield(event)
        }
        for listener in state.listeners.values { listener(event) }
    }
}

extension StoreEvent {
    init(kind: Kind, key: ObjectKey, object: JSONValue, revision: Int64) {
        self.init(
            kind: kind,
            resource: key.resource,
            namespace: key.namespace,
            name: key.name,
            object: object,
            revision: revision
        )
    }
}
