import Synchronization

extension MeshSimulator {
    /// The `Content-Type` to serve ``exposition()`` with: Prometheus text format 0.0.4.
    public static let expositionContentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Every counter in Prometheus text exposition format, as a Linkerd proxy's `/metrics` would show them.
    ///
    /// Two families: the counter `response_total{namespace, deployment, direction="inbound", classification,
    /// status_code}` and the histogram `response_latency_ms{namespace, deployment, direction="inbound"}` with
    /// Linkerd's bucket bounds (1 ms to 50 s, then `+Inf`), as `_bucket{le}`, `_sum` and `_count` lines. Series are
    /// sorted by namespace and deployment, so the text is stable for equal counters.
    public func exposition() -> String {
        let snapshot = state.withLock { state in
            state.series.map { ($0.key, $0.value.exported) }.sorted { $0.0 < $1.0 }
        }
        var text = "# HELP response_total Total count of HTTP responses.\n"
        text += "# TYPE response_total counter\n"
        for (key, series) in snapshot {
            for (status, count) in series.responses.sorted(by: { $0.key < $1.key }) {
                let classification = meshClassifiesAsFailure(status) ? "failure" : "success"
                let labels = Self.labels(
                    key,
                    [("classification", classification), ("status_code", String(status))]
                )
                text += "response_total\(labels) \(count)\n"
            }
        }
        text += "# HELP response_latency_ms Elapsed times between a request's headers being received "
        text += "and its response stream completing\n"
        text += "# TYPE response_latency_ms histogram\n"
        for (key, series) in snapshot {
            var cumulative: UInt64 = 0
            for (index, count) in series.buckets.enumerated() {
                cumulative += count
                let bound = index < meshLatencyBucketBounds.count ? meshLatencyBucketBounds[index] : .infinity
                let labels = Self.labels(key, [("le", Self.formatSample(bound))])
                text += "response_latency_ms_bucket\(labels) \(cumulative)\n"
            }
            text += "response_latency_ms_sum\(Self.labels(key, [])) \(Self.formatSample(series.latencySum))\n"
            text += "response_latency_ms_count\(Self.labels(key, [])) \(series.count)\n"
        }
        return text
    }

    /// `{namespace="…",deployment="…",direction="inbound",…}` with values escaped for the text format.
    static func labels(_ key: MeshDeploymentKey, _ extra: [(String, String)]) -> String {
        let pairs = [("namespace", key.namespace), ("deployment", key.deployment), ("direction", "inbound")] + extra
        return "{" + pairs.map { "\($0.0)=\"\(escapeLabelValue($0.1))\"" }.joined(separator: ",") + "}"
    }

    /// Escapes a label value for the text format: backslash, double quote and line feed.
    static func escapeLabelValue(_ value: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(value.utf8.count)
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// A sample value as Prometheus prints one: `NaN`, `+Inf`, `-Inf`, integers without a fraction.
    static func formatSample(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value.rounded() == value, abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}

/// The running totals of a series, copied out of the lock for the exposition.
struct MeshExportedSeries {
    var responses: [Int: UInt64]
    var buckets: [UInt64]
    var latencySum: Double
    var count: UInt64
}

extension MeshDeploymentSeries {
    var exported: MeshExportedSeries {
        MeshExportedSeries(responses: responses, buckets: buckets, latencySum: latencySum, count: count)
    }
}
