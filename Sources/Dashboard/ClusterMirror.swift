import Foundation
import JSONValue
import KubeModels
import Logging
import ServiceLifecycle
import Synchronization

/// What the dashboard knows of the cluster: every Canary it may list and their Events, kept current by a list and
/// a watch of each, as the user.
public final class ClusterMirror: Service, Sendable {
    /// Whose Canaries: every namespace, or one.
    public enum Scope: Sendable, Equatable {
        case allNamespaces
        case namespace(String)

        var label: String {
            switch self {
            case .allNamespaces: return "all namespaces"
            case .namespace(let name): return "namespace \(name)"
            }
        }
    }

    /// The state of one collection's list and watch, for the page.
    public struct Feed: Sendable, Equatable, Codable {
        /// Whether the first list succeeded and the watch runs.
        public var live: Bool
        /// The last error, shown on the page (a 403 says the user's RBAC refuses the list or watch).
        public var error: String?
        /// The namespaces read (`all namespaces` or `namespace prod`).
        public var scope: String
    }

    struct State {
        var canaries: [String: JSONValue] = [:]
        var events: [String: JSONValue] = [:]
        var feeds: [String: Feed] = [:]
        var subscribers: [Int: AsyncStream<Void>.Continuation] = [:]
        var nextSubscriber = 0
    }

    /// The most objects kept of each kind; the oldest Events go first.
    public static let canaryLimit = 2000
    public static let eventLimit = 10000

    let cluster: any DashboardCluster
    let scope: Scope
    /// The namespace to fall back to when listing every namespace is forbidden.
    let fallbackNamespace: String?
    let logger: Logger
    let sleep: @Sendable (Duration) async throws -> Void
    private let state = Mutex(State())

    public init(
        cluster: any DashboardCluster,
        scope: Scope,
        fallbackNamespace: String? = nil,
        logger: Logger,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.cluster = cluster
        self.scope = scope
        self.fallbackNamespace = fallbackNamespace
        self.logger = logger
        self.sleep = sleep
    }

    /// Every Canary, sorted by namespace and name.
    public var canaries: [JSONValue] {
        state.withLock { Array($0.canaries.values) }.sorted { Self.key(of: $0) < Self.key(of: $1) }
    }

    /// One Canary.
    public func canary(namespace: String, name: String) -> JSONValue? {
        state.withLock { $0.canaries["\(namespace)/\(name)"] }
    }

    /// The Events about one Canary.
    public func events(namespace: String, name: String) -> [JSONValue] {
        state.withLock { state in
            state.events.values.filter {
                $0["involvedObject", "name"]?.stringValue == name
                    && ($0["involvedObject", "namespace"]?.stringValue ?? $0["metadata", "namespace"]?.stringValue)
                        == namespace
            }
        }
    }

    /// The state of the Canary and Event feeds.
    public var feeds: [String: Feed] { state.withLock { $0.feeds } }

    /// A signal after each change; several changes between two reads arrive as one.
    public func changes() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { state in
            defer { state.nextSubscriber += 1 }
            state.subscribers[state.nextSubscriber] = continuation
            return state.nextSubscriber
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Follows both collections until graceful shutdown or cancellation, then ends every ``changes()`` stream.
    public func run() async throws {
        await cancelWhenGracefulShutdown { await self.followAll() }
        // Finished outside the lock: finishing runs `onTermination`, which takes the lock.
        let subscribers = state.withLock { state in
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for continuation in subscribers { continuation.finish() }
    }

    func followAll() async {
        await withDiscardingTaskGroup { group in
            group.addTask {
                await self.follow(feed: "canaries", group: "flagger.app", version: "v1beta1", plural: "canaries") {
                    $0["kind"]?.stringValue != "Status"
                }
            }
            group.addTask {
                await self.follow(
                    feed: "events",
                    group: "",
                    version: "v1",
                    plural: "events",
                    selector: "involvedObject.kind=Canary"
                ) {
                    $0["involvedObject", "kind"]?.stringValue == "Canary"
                }
            }
        }
    }

    /// Lists then watches one collection until cancelled or shut down: re-lists on 410 Gone and after errors (with
    /// backoff), and falls back to one namespace when every namespace is forbidden.
    func follow(
        feed name: String,
        group: String,
        version: String,
        plural: String,
        selector: String? = nil,
        keep: @escaping @Sendable (JSONValue) -> Bool
    ) async {
        var scope = self.scope
        var resourceVersion: String?
        var backoff = Duration.milliseconds(500)
        // Why the scope is narrower than asked, shown for as long as it is.
        var notice: String?
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let namespace: String? = if case .namespace(let ns) = scope { ns } else { nil }
            let path = APIPath.collection(group: group, version: version, plural: plural, namespace: namespace)
            do {
                if resourceVersion == nil {
                    let (items, version) = try await cluster.list(path, fieldSelector: selector)
                    replace(name, with: items.filter(keep))
                    resourceVersion = version
                    setFeed(name, Feed(live: true, error: notice, scope: scope.label))
                    backoff = .milliseconds(500)
                }
                var events = 0
                try await cluster.watch(path, resourceVersion: resourceVersion, fieldSelector: selector) { event in
                    events += 1
                    if let version = event.object["metadata", "resourceVersion"]?.stringValue {
                        resourceVersion = version
                    }
                    guard event.kind != .bookmark, keep(event.object) else { return }
                    apply(name, event)
                }
                // A watch the server ends at once, again and again, must not spin.
                if events == 0 { try await sleep(.seconds(1)) }
            } catch let error as ClusterError where error.kind == .gone {
                resourceVersion = nil
            } catch is CancellationError {
                return
            } catch {
                resourceVersion = nil
                let clusterError = error as? ClusterError
                if clusterError?.kind == .forbidden, scope == .allNamespaces, let fallbackNamespace {
                    scope = .namespace(fallbackNamespace)
                    notice =
                        "Forbidden (403): your RBAC does not allow listing \(plural) in all namespaces; showing "
                        + "namespace \(fallbackNamespace) (pass --namespace to choose)"
                    setFeed(name, Feed(live: false, error: notice, scope: scope.label))
                    continue
                }
                let text =
                    clusterError?.kind == .forbidden
                    ? "Forbidden (403): your RBAC does not allow list and watch of \(plural) in \(scope.label): "
                        + (clusterError?.message ?? "")
                    : "\(plural): \(error)"
                setFeed(name, Feed(live: false, error: text, scope: scope.label))
                logger.warning("dashboard feed failed", metadata: ["feed": "\(name)", "error": "\(text)"])
                do { try await sleep(backoff) } catch { return }
                backoff = min(backoff * 2, .seconds(30))
            }
        }
    }

    static func key(of object: JSONValue) -> String {
        "\(object["metadata", "namespace"]?.stringValue ?? "")/\(object["metadata", "name"]?.stringValue ?? "")"
    }

    func replace(_ feed: String, with items: [JSONValue]) {
        var map: [String: JSONValue] = [:]
        for item in items { map[Self.key(of: item)] = item }
        state.withLock { state in
            if feed == "canaries" { state.canaries = map } else { state.events = map }
            trim(&state)
        }
        notify()
    }

    func apply(_ feed: String, _ event: ClusterWatchEvent) {
        let key = Self.key(of: event.object)
        state.withLock { state in
            switch (feed, event.kind) {
            case ("canaries", .deleted): state.canaries[key] = nil
            case ("canaries", _): state.canaries[key] = event.object
            case (_, .deleted): state.events[key] = nil
            default: state.events[key] = event.object
            }
            trim(&state)
        }
        notify()
    }

    func trim(_ state: inout State) {
        if state.events.count > Self.eventLimit {
            let ordered = TimelineBuilder.ordered(Array(state.events.values))
            for event in ordered.prefix(state.events.count - Self.eventLimit) {
                state.events[Self.key(of: event)] = nil
            }
        }
        if state.canaries.count > Self.canaryLimit {
            for key in state.canaries.keys.sorted().suffix(state.canaries.count - Self.canaryLimit) {
                state.canaries[key] = nil
            }
        }
    }

    func setFeed(_ name: String, _ feed: Feed) {
        state.withLock { $0.feeds[name] = feed }
        notify()
    }

    func notify() {
        let subscribers = state.withLock { Array($0.subscribers.values) }
        for continuation in subscribers { continuation.yield() }
    }
}
