import AsyncHTTPClient
import Foundation
import JSONValue
import KubeModels
import NIOCore
import NIOHTTP1
import Progression
import Synchronization

/// Answers "what was this query's value at that time": Prometheus' instant query with `time`.
public protocol MetricSource: Sendable {
    /// The query's value at `time`, `nil` when Prometheus has none; throws when it cannot be asked.
    func value(of query: String, at time: Date) async throws -> Double?
    /// What the page says about where measured values come from.
    var label: String { get }
}

/// A Prometheus HTTP API.
public struct PrometheusSource: MetricSource {
    public let address: String
    let http: HTTPClient

    public init(address: String, http: HTTPClient) {
        self.address = address.hasSuffix("/") ? String(address.dropLast()) : address
        self.http = http
    }

    public var label: String { "Prometheus at \(address)" }

    public func value(of query: String, at time: Date) async throws -> Double? {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let encoded = PrometheusClient.compact(query).addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
        let url = "\(address)/api/v1/query?query=\(encoded)&time=\(String(format: "%.3f", time.timeIntervalSince1970))"
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        let response = try await http.execute(request, timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status.code == 200 else {
            throw ClusterError(
                kind: .other,
                code: Int(response.status.code),
                message: "Prometheus answered \(response.status.code)"
            )
        }
        return Self.sample(in: try JSONValue(parsing: Array(body.readableBytesView)))
    }

    /// The value of the first sample of a vector (or a scalar) answer; `nil` for an empty one or NaN.
    public static func sample(in answer: JSONValue) -> Double? {
        let data = answer["data"]
        let value: JSONValue?
        switch data?["resultType"]?.stringValue {
        case "vector": value = data?["result"]?[0]?["value"]?[1]
        case "scalar": value = data?["result"]?[1]
        default: value = nil
        }
        guard let text = value?.stringValue, let number = Double(text), number.isFinite else { return nil }
        return number
    }
}

/// Measured values of passed checks for a timeline: each metric's query at the time of each point where the checks
/// passed (a weight step or an iteration), from a ``MetricSource``, cached (history does not change).
public final class MetricHistory: Sendable {
    let source: any MetricSource
    let cluster: any DashboardCluster
    private let cache = Mutex<[String: Double?]>([:])
    /// The most queries one detail may send (the newest points first).
    public static let queryBudget = 80

    public init(source: any MetricSource, cluster: any DashboardCluster) {
        self.source = source
        self.cluster = cluster
    }

    public var label: String { source.label }

    /// Adds a passed reading to each weight or iteration point of `detail`'s releases.
    public func annotate(_ detail: inout CanaryDetail, canary: JSONValue) async -> String {
        let queries = await self.queries(canary)
        if queries.isEmpty { return "\(source.label): no metric of this Canary has a query the dashboard can run" }
        var budget = Self.queryBudget
        var failure: String?
        for releaseIndex in detail.releases.indices.reversed() {
            for stepIndex in detail.releases[releaseIndex].steps.indices.reversed() {
                let step = detail.releases[releaseIndex].steps[stepIndex]
                guard step.kind == "weight" || step.kind == "iteration", let text = step.time,
                    let time = RFC3339.parse(text)
                else { continue }
                for (check, query) in queries {
                    let key = "\(Int(time.timeIntervalSince1970))|\(query)"
                    var value: Double?
                    if let cached = cache.withLock({ $0[key] }) {
                        value = cached
                    } else {
                        guard budget > 0 else { continue }
                        budget -= 1
                        do {
                            value = try await source.value(of: query, at: time)
                            cache.withLock { $0[key] = .some(value) }
                        } catch {
                            failure = "\(source.label): \(error)"
                            continue
                        }
                    }
                    guard let value else { continue }
                    detail.releases[releaseIndex].steps[stepIndex].readings.append(
                        MetricReading(
                            metric: check.name,
                            value: value,
                            threshold: check.min ?? check.max,
                            comparison: check.min != nil ? "<" : check.max != nil ? ">" : nil,
                            unit: check.unit,
                            passed: true
                        )
                    )
                }
            }
        }
        cache.withLock { cache in
            if cache.count > 20_000 { cache.removeAll() }
        }
        return failure ?? "\(source.label): the value of each check at each step"
    }

    /// Each metric with a query the dashboard can render: built-in, inline or from a MetricTemplate.
    func queries(_ canary: JSONValue) async -> [(CheckSpec, String)] {
        let namespace = canary["metadata", "namespace"]?.stringValue ?? "default"
        let name = canary["metadata", "name"]?.stringValue ?? ""
        let target = canary["spec", "targetRef", "name"]?.stringValue ?? ""
        let service = canary["spec", "service", "name"]?.stringValue ?? target
        let metrics = TimelineBuilder.analysis(canary)?["metrics"]?.arrayValue ?? []
        var result: [(CheckSpec, String)] = []
        for (metric, check) in zip(metrics, TimelineBuilder.checks(canary)) {
            let interval = metric["interval"]?.stringValue ?? "1m"
            let variables = (metric["templateVariables"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
            var text: String?
            if let templateName = metric["templateRef", "name"]?.stringValue {
                let templateNamespace = metric["templateRef", "namespace"]?.stringValue ?? namespace
                let path = APIPath.object(
                    group: "flagger.app",
                    version: "v1beta1",
                    plural: "metrictemplates",
                    namespace: templateNamespace,
                    name: templateName
                )
                text = (try? await cluster.get(path))?["spec", "query"]?.stringValue
            } else if let inline = metric["query"]?.stringValue {
                text = inline
            } else if let builtin = LinkerdQueries.query(
                for: check.name,
                namespace: namespace,
                target: target,
                interval: interval
            ) {
                result.append((check, builtin))
                continue
            }
            guard let text,
                let rendered = try? MetricTemplateRenderer.render(
                    text,
                    name: name,
                    namespace: namespace,
                    target: target,
                    service: service,
                    interval: interval,
                    variables: variables
                )
            else { continue }
            result.append((check, rendered))
        }
        return result
    }
}
