import Synchronization

/// One weighted backend of a Service: the Deployment that receives traffic and its share.
///
/// Weights are relative (a TrafficSplit's 90/10 or 100/0); values outside 0...100 are clamped when routing.
public struct MeshBackend: Sendable, Hashable {
    /// The Deployment that serves this backend's share of the traffic.
    public var deployment: String
    /// The backend's weight, 0...100; a weight of 0 receives no traffic.
    public var weight: Int
    /// A mirror receives a copy of every request (its answer is dropped) instead of a share of the traffic.
    public var mirror: Bool

    /// A backend sending `weight` parts of the Service's traffic to `deployment`, or a copy of all of it when
    /// `mirror` is set.
    public init(deployment: String, weight: Int, mirror: Bool = false) {
        self.deployment = deployment
        self.weight = weight
        self.mirror = mirror
    }
}

/// What routing may look at in a request: its method, its path (with the query string) and its headers.
public struct MeshRequestInfo: Sendable {
    public var method: String
    public var path: String
    public var headers: [(name: String, value: String)]

    public init(method: String = "GET", path: String, headers: [(name: String, value: String)] = []) {
        self.method = method
        self.path = path
        self.headers = headers
    }
}

/// How a Deployment's current revision behaves in the simulated mesh.
public struct MeshBehaviour: Sendable, Hashable {
    /// The share of requests that succeed, in percent (0...100). Failures answer HTTP 500.
    public var successRate: Double
    /// The time every request takes, in milliseconds.
    public var latencyMilliseconds: Double

    /// A behaviour; the default is a healthy revision (100 % success, 20 ms).
    public init(successRate: Double = 100, latencyMilliseconds: Double = 20) {
        self.successRate = successRate
        self.latencyMilliseconds = latencyMilliseconds
    }
}

/// What a simulated request got back.
public struct MeshResponse: Sendable, Hashable {
    /// The HTTP status code the Deployment answered with.
    public var status: Int
    /// How long the request took, in simulated milliseconds (nobody actually waits).
    public var latencyMilliseconds: Double
    /// The Deployment that served the request.
    public var deployment: String

    /// A response from `deployment`.
    public init(status: Int, latencyMilliseconds: Double, deployment: String) {
        self.status = status
        self.latencyMilliseconds = latencyMilliseconds
        self.deployment = deployment
    }
}

/// A simulated Linkerd mesh: routes requests by weight, applies each revision's behaviour and keeps the inbound
/// metrics a Linkerd proxy would export, so Flagger's built-in Linkerd checks can run without a real mesh.
///
/// This is a simulation for tests and the demo. Nothing is sent over a network and nobody sleeps: a request returns
/// the status and latency the revision would have produced, and records them in `response_total` and
/// `response_latency_ms` series labelled with `namespace`, `deployment` and `direction="inbound"`. Those series are
/// served in Prometheus text format by ``exposition()`` (a real Prometheus can scrape them) and answered directly by
/// ``query(_:)``, which understands only the two built-in queries of Flagger's Linkerd provider.
///
/// Time comes from the injected `now` closure (seconds, monotonic) so a demo running at high speed compresses
/// rate windows along with everything else. Traffic is kept per simulated second for one hour.
public final class MeshSimulator: Sendable {
    /// How many seconds of per-second samples are kept for rate windows; longer windows see only this much.
    static let retentionSeconds = 3600

    let now: @Sendable () -> Double
    let route: @Sendable (_ namespace: String, _ service: String, _ request: MeshRequestInfo) -> [MeshBackend]
    let behaviour: @Sendable (_ namespace: String, _ deployment: String) -> MeshBehaviour?
    let state = Mutex(MeshState())

    /// A mesh with no traffic yet.
    ///
    /// - Parameters:
    ///   - now: The simulated clock in seconds; it must not go backwards. Rate windows are measured against it.
    ///   - route: The weighted backends of a Service (the TrafficSplit, or the Service's own Deployment at 100).
    ///     An empty list, or only zero weights, means the Service routes nowhere.
    ///   - behaviour: The behaviour of a Deployment's current revision, or `nil` when it has no ready pods: requests
    ///     routed there fail with 503 in the client's proxy and never reach the Deployment's inbound metrics.
    ///
    /// The closures are called without the simulator's lock held, so they may read other shared state.
    public convenience init(
        now: @escaping @Sendable () -> Double,
        route: @escaping @Sendable (_ namespace: String, _ service: String) -> [MeshBackend],
        behaviour: @escaping @Sendable (_ namespace: String, _ deployment: String) -> MeshBehaviour?
    ) {
        self.init(now: now, routeRequest: { namespace, service, _ in route(namespace, service) }, behaviour: behaviour)
    }

    /// A mesh whose routes may depend on the request (Gateway API matches on path, headers and query).
    public init(
        now: @escaping @Sendable () -> Double,
        routeRequest:
            @escaping @Sendable (_ namespace: String, _ service: String, _ request: MeshRequestInfo) ->
            [MeshBackend],
        behaviour: @escaping @Sendable (_ namespace: String, _ deployment: String) -> MeshBehaviour?
    ) {
        self.now = now
        self.route = routeRequest
        self.behaviour = behaviour
    }

    /// Sends one request to a Service and records what the chosen Deployment answered.
    ///
    /// The backend is chosen by smooth weighted round robin, so weights 50/50 alternate and 90/10 send exactly one
    /// request in ten to the second backend. Failures are spread deterministically with an error accumulator per
    /// Deployment: at 60 % success, every run of 5 requests has exactly 2 failures. Paths behave like podinfo's:
    /// `/status/NNN` answers exactly NNN (without consuming the accumulator), `/delay/N` adds N seconds to the
    /// revision's latency. A query string in `path` is ignored.
    ///
    /// - Returns: The response, or `nil` when the Service routes nowhere (no backends, or all weights 0).
    public func request(
        namespace: String,
        service: String,
        method: String = "GET",
        path: String,
        headers: [(name: String, value: String)] = []
    ) -> MeshResponse? {
        let backends = route(namespace, service, MeshRequestInfo(method: method, path: path, headers: headers))
        let key = MeshServiceKey(namespace: namespace, service: service)
        let weighted = backends.filter { !$0.mirror }
        guard let deployment = state.withLock({ $0.pickBackend(for: key, among: weighted) }) else { return nil }
        for mirror in Set(backends.filter(\.mirror).map(\.deployment)) where mirror != deployment {
            _ = serve(namespace: namespace, deployment: mirror, path: path)
        }
        return serve(namespace: namespace, deployment: deployment, path: path)
    }

    /// One request answered by `deployment` and recorded in its inbound metrics.
    func serve(namespace: String, deployment: String, path: String) -> MeshResponse {
        guard let behaviour = behaviour(namespace, deployment) else {
            return MeshResponse(status: 503, latencyMilliseconds: 0, deployment: deployment)
        }
        let shape = MeshRequestPath(path)
        let latency = max(0, behaviour.latencyMilliseconds) + shape.extraLatencyMilliseconds
        let time = now()
        let series = MeshDeploymentKey(namespace: namespace, deployment: deployment)
        let status = state.withLock { state -> Int in
            let status: Int
            if let forced = shape.forcedStatus {
                status = forced
            } else {
                status = state.nextOutcomeSucceeds(for: series, successRate: behaviour.successRate) ? 200 : 500
            }
            state.record(series, status: status, latencyMilliseconds: latency, at: time)
            return status
        }
        return MeshResponse(status: status, latencyMilliseconds: latency, deployment: deployment)
    }

    /// Records one inbound response of a Deployment, as its Linkerd proxy would.
    ///
    /// Status codes of 500 and above (and anything that is not an HTTP status) are classified as failures, like
    /// Linkerd's default response classifier.
    public func record(namespace: String, deployment: String, status: Int, latencyMilliseconds: Double) {
        let time = now()
        let series = MeshDeploymentKey(namespace: namespace, deployment: deployment)
        state.withLock { state in
            state.record(series, status: status, latencyMilliseconds: max(0, latencyMilliseconds), at: time)
        }
    }
}

/// A Service in a namespace.
struct MeshServiceKey: Hashable {
    var namespace: String
    var service: String
}

/// A Deployment in a namespace: one set of series.
struct MeshDeploymentKey: Hashable, Comparable {
    var namespace: String
    var deployment: String

    static func < (lhs: MeshDeploymentKey, rhs: MeshDeploymentKey) -> Bool {
        (lhs.namespace, lhs.deployment) < (rhs.namespace, rhs.deployment)
    }
}

/// What a podinfo-style request path asks for.
struct MeshRequestPath: Equatable {
    /// The status `/status/NNN` asks for (200 for `/token`), when the path is one.
    var forcedStatus: Int?
    /// The latency `/delay/N` adds, in milliseconds.
    var extraLatencyMilliseconds: Double = 0

    init(_ path: String) {
        let withoutQuery = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let segments = withoutQuery.split(separator: "/")
        // podinfo's `/token` (the tutorial's acceptance test) is an endpoint of the app, not the load the revision's
        // simulated failures stand for (the tutorial makes those with `/status/500`): it always answers.
        if segments == ["token"] {
            forcedStatus = 200
            return
        }
        guard segments.count == 2 else { return }
        switch segments[0] {
        case "status":
            if let code = Int(segments[1]), (100...599).contains(code) { forcedStatus = code }
        case "delay":
            if let seconds = Double(segments[1]), seconds.isFinite, seconds >= 0 {
                extraLatencyMilliseconds = seconds * 1000
            }
        default:
            break
        }
    }
}

/// The Linkerd proxy's latency histogram bucket upper bounds, in milliseconds (`+Inf` follows).
let meshLatencyBucketBounds: [Double] = [
    1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500,
    1000, 2000, 3000, 4000, 5000, 10000, 20000, 30000, 40000, 50000,
]

/// Linkerd's response classification: 5xx (and non-HTTP codes) are failures.
func meshClassifiesAsFailure(_ status: Int) -> Bool {
    status >= 500 || status < 100
}

/// The increments of one Deployment's series during one simulated second.
struct MeshSecondSample {
    var second: Int64
    var successes: UInt64 = 0
    var failures: UInt64 = 0
    /// Per-bucket (not cumulative) observation counts; the last element is the `+Inf` bucket.
    var buckets = [UInt64](repeating: 0, count: meshLatencyBucketBounds.count + 1)
}

/// One Deployment's counters: running totals for the exposition and per-second increments for rate windows.
struct MeshDeploymentSeries {
    /// `response_total` by status code.
    var responses: [Int: UInt64] = [:]
    /// Per-bucket (not cumulative) totals; the last element is the `+Inf` bucket.
    var buckets = [UInt64](repeating: 0, count: meshLatencyBucketBounds.count + 1)
    var latencySum: Double = 0
    var count: UInt64 = 0
    /// Samples for seconds that had traffic, oldest first, from `historyStart` on.
    var history: [MeshSecondSample] = []
    var historyStart = 0

    static func bucketIndex(for latency: Double) -> Int {
        meshLatencyBucketBounds.firstIndex { latency <= $0 } ?? meshLatencyBucketBounds.count
    }

    mutating func record(status: Int, latencyMilliseconds latency: Double, at time: Double) {
        let bucket = Self.bucketIndex(for: latency)
        let failed = meshClassifiesAsFailure(status)
        responses[status, default: 0] += 1
        buckets[bucket] += 1
        latencySum += latency
        count += 1

        let second = Self.second(of: time)
        if history.count == historyStart || history[history.count - 1].second < second {
            history.append(MeshSecondSample(second: second))
        }
        // A clock that went backwards adds to the newest sample rather than reordering history.
        let last = history.count - 1
        if failed { history[last].failures += 1 } else { history[last].successes += 1 }
        history[last].buckets[bucket] += 1
        trim(before: time)
    }

    /// Drops samples older than the retention, compacting the array when most of it is dead.
    mutating func trim(before time: Double) {
        let horizon = time - Double(MeshSimulator.retentionSeconds)
        while historyStart < history.count, Double(history[historyStart].second) + 1 <= horizon {
            historyStart += 1
        }
        if historyStart > 64, historyStart * 2 > history.count {
            history.removeFirst(historyStart)
            historyStart = 0
        }
    }

    /// The samples whose second overlaps the window `(time - window, time]`.
    func samples(within window: Double, endingAt time: Double) -> ArraySlice<MeshSecondSample> {
        let start = time - window
        var first = history.count
        while first > historyStart, Double(history[first - 1].second) + 1 > start {
            first -= 1
        }
        return history[first..<history.count]
    }

    static func second(of time: Double) -> Int64 {
        guard time.isFinite else { return 0 }
        let floored = time.rounded(.down)
        if floored >= 9.0e18 { return Int64.max }
        if floored <= -9.0e18 { return Int64.min }
        return Int64(floored)
    }
}

/// Everything behind the simulator's lock.
struct MeshState {
    var series: [MeshDeploymentKey: MeshDeploymentSeries] = [:]
    /// Smooth weighted round robin state per Service: each backend's current weight.
    var currentWeights: [MeshServiceKey: [String: Int]] = [:]
    /// Per Deployment error accumulator, in millionths of a request.
    var errorCredit: [MeshDeploymentKey: Int] = [:]

    /// Picks a backend by smooth weighted round robin (nginx's algorithm): deterministic and evenly interleaved.
    mutating func pickBackend(for service: MeshServiceKey, among backends: [MeshBackend]) -> String? {
        var weights: [(deployment: String, weight: Int)] = []
        for backend in backends {
            let weight = min(max(backend.weight, 0), 100)
            if let index = weights.firstIndex(where: { $0.deployment == backend.deployment }) {
                weights[index].weight += weight
            } else {
                weights.append((backend.deployment, weight))
            }
        }
        weights.removeAll { $0.weight == 0 }
        guard !weights.isEmpty else {
            currentWeights[service] = nil
            return nil
        }
        let previous = currentWeights[service] ?? [:]
        var current: [String: Int] = [:]
        var total = 0
        var best: (deployment: String, weight: Int)?
        for (deployment, weight) in weights {
            let value = (previous[deployment] ?? 0) + weight
            current[deployment] = value
            total += weight
            if best.map({ value > $0.weight }) ?? true { best = (deployment, value) }
        }
        guard let chosen = best else { return nil }
        current[chosen.deployment, default: 0] -= total
        currentWeights[service] = current
        return chosen.deployment
    }

    /// Whether the next request to a Deployment succeeds, spreading failures evenly at the given success rate.
    mutating func nextOutcomeSucceeds(for series: MeshDeploymentKey, successRate: Double) -> Bool {
        let rate = successRate.isNaN ? 100 : min(max(successRate, 0), 100)
        let failurePerMillion = Int(((100 - rate) * 10_000).rounded())
        var credit = errorCredit[series, default: 0] + failurePerMillion
        let fails = credit >= 1_000_000
        if fails { credit -= 1_000_000 }
        errorCredit[series] = credit
        return !fails
    }

    mutating func record(_ key: MeshDeploymentKey, status: Int, latencyMilliseconds: Double, at time: Double) {
        let latency = latencyMilliseconds.isNaN ? 0 : latencyMilliseconds
        series[key, default: MeshDeploymentSeries()].record(status: status, latencyMilliseconds: latency, at: time)
    }
}
