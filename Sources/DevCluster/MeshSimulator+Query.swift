import JSONValue
import Synchronization

extension MeshSimulator {
    /// Answers an instant query at the current simulated time, like Prometheus' `GET /api/v1/query`.
    ///
    /// Only Flagger's two built-in Linkerd queries are understood (request-success-rate and request-duration, for
    /// any namespace, deployment matcher and range; see BEHAVIOUR.md §5). They are computed from the increments
    /// recorded inside the range: the success rate is 100 × non-failures / all responses, the duration is
    /// `histogram_quantile` over the summed bucket increments with Prometheus' linear interpolation.
    ///
    /// - Returns: 200 and `{"status":"success","data":{"resultType":"vector","result":[…]}}` with one sample whose
    ///   metric has no labels, or an empty `result` when the range saw no traffic (Flagger reads both NaN and an
    ///   empty vector as "no values found"). Anything else gets 400 and Prometheus' error JSON with
    ///   `errorType` `bad_data`.
    public func query(_ promQL: String) -> (status: Int, body: JSONValue) {
        let parsed: LinkerdQuery
        do {
            parsed = try LinkerdQuery(parsing: promQL)
        } catch {
            return Self.badData(error.message)
        }
        let matches: (String) -> Bool
        switch parsed.deployment {
        case .equal(let name):
            matches = { $0 == name }
        case .regex(let pattern):
            let regex: Regex<AnyRegexOutput>
            do {
                regex = try Regex(pattern)
            } catch {
                return Self.badData("invalid regular expression \"\(pattern)\" in deployment=~: \(error)")
            }
            matches = { (try? regex.wholeMatch(in: $0)) != nil }
        }

        let time = now()
        let increments = state.withLock { state -> MeshWindowIncrements in
            var increments = MeshWindowIncrements()
            for (key, series) in state.series where key.namespace == parsed.namespace && matches(key.deployment) {
                for sample in series.samples(within: parsed.window, endingAt: time) {
                    increments.add(sample)
                }
            }
            return increments
        }

        let value: Double
        switch parsed.kind {
        case .requestSuccessRate:
            let all = increments.successes + increments.failures
            value = all == 0 ? .nan : 100 * Double(increments.successes) / Double(all)
        case .requestDuration(let quantile):
            value = Self.bucketQuantile(quantile, bounds: meshLatencyBucketBounds, counts: increments.buckets)
        }
        return (200, Self.vector(value, at: time))
    }

    /// Answers a `/api/v1/query` call from its URL query string or form-encoded body (`query=…&time=…`).
    ///
    /// The `time` parameter is ignored: queries always run at the current simulated time.
    public func query(formEncoded parameters: String) -> (status: Int, body: JSONValue) {
        for pair in parameters.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard Self.formDecode(parts[0]) == "query" else { continue }
            return query(parts.count > 1 ? Self.formDecode(parts[1]) : "")
        }
        return Self.badData("invalid parameter \"query\": no query given; \(LinkerdQueryError.scope)")
    }

    /// Prometheus' error JSON for a query it cannot run, with HTTP status 400.
    static func badData(_ message: String) -> (status: Int, body: JSONValue) {
        (400, ["status": "error", "errorType": "bad_data", "error": .string(message)])
    }

    /// A success response holding one unlabelled sample, or an empty vector when `value` is NaN.
    static func vector(_ value: Double, at time: Double) -> JSONValue {
        let result: [JSONValue] =
            value.isNaN ? [] : [["metric": [:], "value": [.double(time), .string(formatSample(value))]]]
        return ["status": "success", "data": ["resultType": "vector", "result": .array(result)]]
    }

    /// Prometheus' `histogram_quantile` over per-bucket (not cumulative) counts whose last element is `+Inf`.
    ///
    /// Linear interpolation inside the bucket holding the rank, the lowest bucket starting at 0; a rank in the `+Inf`
    /// bucket answers the highest finite bound; no observations answer NaN.
    static func bucketQuantile(_ quantile: Double, bounds: [Double], counts: [UInt64]) -> Double {
        if quantile.isNaN { return .nan }
        if quantile < 0 { return -.infinity }
        if quantile > 1 { return .infinity }
        guard counts.count == bounds.count + 1, !bounds.isEmpty else { return .nan }
        var cumulative: [Double] = []
        var running = 0.0
        for count in counts {
            running += Double(count)
            cumulative.append(running)
        }
        let observations = running
        guard observations > 0 else { return .nan }
        var rank = quantile * observations
        let bucket = cumulative.dropLast().firstIndex { $0 >= rank } ?? bounds.count
        if bucket == bounds.count { return bounds[bounds.count - 1] }
        if bucket == 0, bounds[0] <= 0 { return bounds[0] }
        var start = 0.0
        var count = cumulative[bucket]
        if bucket > 0 {
            start = bounds[bucket - 1]
            count -= cumulative[bucket - 1]
            rank -= cumulative[bucket - 1]
        }
        return start + (bounds[bucket] - start) * (rank / count)
    }

    /// Decodes one `application/x-www-form-urlencoded` component: `+` is a space, `%XX` a byte.
    static func formDecode(_ component: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(component.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), iterator.count >= 2,
                let high = hexValue(iterator[iterator.startIndex]),
                let low = hexValue(iterator[iterator.startIndex + 1])
            {
                bytes.append(high << 4 | low)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// Increments summed over the matching series and the query's range.
struct MeshWindowIncrements {
    var successes: UInt64 = 0
    var failures: UInt64 = 0
    var buckets = [UInt64](repeating: 0, count: meshLatencyBucketBounds.count + 1)

    mutating func add(_ sample: MeshSecondSample) {
        successes += sample.successes
        failures += sample.failures
        for index in buckets.indices { buckets[index] += sample.buckets[index] }
    }
}
