import Dashboard
import JSONValue
import Synchronization

/// A cluster in memory: objects by path, lists by collection path, watch events the test feeds, and errors to
/// answer with.
final class FakeCluster: DashboardCluster {
    struct State {
        var objects: [String: JSONValue] = [:]
        var lists: [String: [JSONValue]] = [:]
        var getErrors: [String: ClusterError] = [:]
        var listErrors: [String: ClusterError] = [:]
        var patchErrors: [ClusterError] = []
        var patches: [(path: String, patch: JSONValue)] = []
        var listCalls: [String] = []
        var watchers: [String: AsyncStream<ClusterWatchEvent>.Continuation] = [:]
    }

    let state = Mutex(State())
    let watchStarted: AsyncStream<String>
    private let watchStartedContinuation: AsyncStream<String>.Continuation

    init() {
        (watchStarted, watchStartedContinuation) = AsyncStream<String>.makeStream()
    }

    func put(_ path: String, _ object: JSONValue) { state.withLock { $0.objects[path] = object } }

    func get(_ path: String) async throws -> JSONValue {
        try state.withLock { state in
            if let error = state.getErrors[path] { throw error }
            guard let object = state.objects[path] else {
                throw ClusterError(kind: .notFound, code: 404, message: "\(path) not found")
            }
            return object
        }
    }

    func list(_ path: String, fieldSelector: String?) async throws -> (items: [JSONValue], resourceVersion: String?) {
        try state.withLock { state in
            state.listCalls.append(path)
            if let error = state.listErrors[path] { throw error }
            return (state.lists[path] ?? [], "1")
        }
    }

    func watch(
        _ path: String,
        resourceVersion: String?,
        fieldSelector: String?,
        onEvent: (ClusterWatchEvent) async throws -> Void
    ) async throws {
        let (stream, continuation) = AsyncStream<ClusterWatchEvent>.makeStream()
        state.withLock { $0.watchers[path] = continuation }
        watchStartedContinuation.yield(path)
        for await event in stream { try await onEvent(event) }
        try Task.checkCancellation()
    }

    /// Sends a watch event to the watcher of `path`; false when no watch is open there.
    @discardableResult
    func send(_ path: String, _ event: ClusterWatchEvent) -> Bool {
        guard let continuation = state.withLock({ $0.watchers[path] }) else { return false }
        continuation.yield(event)
        return true
    }

    func mergePatch(_ path: String, _ patch: JSONValue) async throws -> JSONValue {
        try state.withLock { state in
            if !state.patchErrors.isEmpty { throw state.patchErrors.removeFirst() }
            state.patches.append((path, patch))
            return state.objects[path] ?? [:]
        }
    }
}

/// A Canary as the worker leaves it.
func canaryObject(
    namespace: String = "prod",
    name: String = "podinfo",
    phase: String,
    weight: Int = 0,
    failedChecks: Int = 0,
    lastApplied: String = "abc",
    annotations: JSONValue? = nil
) -> JSONValue {
    var metadata: JSONValue = [
        "name": .string(name), "namespace": .string(namespace), "resourceVersion": "42",
    ]
    if let annotations { metadata.setMember(["annotations"], annotations) }
    return [
        "apiVersion": "flagger.app/v1beta1", "kind": "Canary",
        "metadata": metadata,
        "spec": [
            "targetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": .string(name)],
            "analysis": [
                "interval": "10s", "threshold": 5, "maxWeight": 50, "stepWeight": 5,
                "metrics": [
                    ["name": "request-success-rate", "thresholdRange": ["min": 99], "interval": "1m"],
                    ["name": "request-duration", "thresholdRange": ["max": 500], "interval": "30s"],
                ],
                "webhooks": [["name": "acceptance-test", "type": "pre-rollout", "url": "http://x/"]],
            ],
        ],
        "status": [
            "phase": .string(phase), "canaryWeight": .int(Int64(weight)), "failedChecks": .int(Int64(failedChecks)),
            "lastAppliedSpec": .string(lastApplied), "lastPromotedSpec": .string(lastApplied),
        ],
    ]
}

/// An Event about a Canary as Fledge records it.
func eventObject(
    _ message: String,
    second: Int,
    type: String = "Normal",
    count: Int = 1,
    name: String = "podinfo"
)
    -> JSONValue
{
    let time =
        "2026-01-01T10:\(second / 60 < 10 ? "0" : "")\(second / 60):\(second % 60 < 10 ? "0" : "")\(second % 60)Z"
    return [
        "apiVersion": "v1", "kind": "Event",
        "metadata": [
            "name": .string("\(name).\(String(1000 + second, radix: 16))"), "namespace": "prod",
            "resourceVersion": .string("\(second)"),
        ],
        "involvedObject": ["kind": "Canary", "name": .string(name), "namespace": "prod"],
        "message": .string(message), "type": .string(type), "reason": "Synced",
        "firstTimestamp": .string(time), "lastTimestamp": .string(time), "count": .int(Int64(count)),
    ]
}
