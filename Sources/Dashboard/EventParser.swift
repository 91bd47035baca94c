import Foundation
import KubeModels

/// A metric check's measured value against its threshold, as a Halt event states it or as Prometheus answered it.
public struct MetricReading: Codable, Sendable, Equatable {
    /// `request-success-rate`, `request-duration`, or the metric's own name.
    public var metric: String
    /// The measured value: percent for the success rate, milliseconds for the duration.
    public var value: Double
    /// The limit the value was held against, in the same unit; `nil` when unknown.
    public var threshold: Double?
    /// `<` when the value fell below a minimum, `>` when it rose above a maximum.
    public var comparison: String?
    /// `%`, `ms` or empty.
    public var unit: String
    /// Whether the check passed.
    public var passed: Bool

    public init(
        metric: String,
        value: Double,
        threshold: Double?,
        comparison: String?,
        unit: String,
        passed: Bool
    ) {
        self.metric = metric
        self.value = value
        self.threshold = threshold
        self.comparison = comparison
        self.unit = unit
        self.passed = passed
    }
}

/// What one of Flagger's event messages about a Canary says, read from its words.
public enum ReleaseNote: Sendable, Equatable {
    /// `Initialization done! podinfo.prod`
    case initialized
    /// `New revision detected! Scaling up podinfo.prod`
    case releaseStarted
    /// `New revision detected! Restarting analysis for podinfo.prod`
    case releaseRestarted
    /// `Starting canary analysis for podinfo.prod`
    case analysisStarted
    /// `Advance podinfo.prod canary weight 10`
    case canaryWeight(Int)
    /// `Advance podinfo.prod primary weight 60` (promotion in steps)
    case primaryWeight(Int)
    /// `Advance podinfo.prod canary iteration 2/10`
    case iteration(done: Int, wanted: Int)
    /// `Halt podinfo.prod advancement success rate 87.18% < 99%` and the like.
    case metricFailed(MetricReading)
    /// `Halt advancement no values found for linkerd metric request-success-rate …`
    case noValues(metric: String)
    /// A check that failed without a value: a query error, a missing template.
    case checkError(String)
    /// `Pre-rollout check acceptance-test passed`, `Confirm-promotion check gate passed`, …
    case hookPassed(type: String, name: String)
    /// `Halt … advancement pre-rollout check NAME failed …`, `… external check NAME failed …`,
    /// `Post-rollout hook NAME failed …`
    case hookFailed(type: String, name: String, detail: String)
    /// `Halt … advancement waiting for approval NAME` (and for traffic increase or promotion approval).
    case gateWaiting(type: String, name: String)
    /// `canary deployment podinfo.prod not ready: …`
    case canaryNotReady(String)
    /// `Copying podinfo.prod template spec to podinfo-primary.prod`
    case promoting
    /// `Routing all traffic to primary`
    case routingToPrimary
    /// `Routing all traffic to canary` (blue/green), also after mirroring.
    case routingToCanary
    /// `Promotion completed! Scaling down podinfo.prod` (or `… Canary analysis was skipped …`)
    case promoted
    /// `Rolling back podinfo.prod failed checks threshold reached 5` and the other reasons.
    case rollingBack(reason: String)
    /// `Canary failed! Scaling down podinfo.prod`
    case failed
    /// `Promotion failed! podinfo-primary.prod …`
    case promotionFailed(String)
    /// `Ignoring fledge.dev/action=promote: …`
    case actionIgnored(action: String, reason: String)
    /// Anything else.
    case other(String)
}

/// Reads Flagger's event messages (and Fledge's, which use the same words) into ``ReleaseNote``s.
///
/// Pure: a message in, a note out; a message it does not know is ``ReleaseNote/other(_:)``, never an error.
public enum EventParser {
    public static func parse(_ message: String) -> ReleaseNote {
        let text = message.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("Initialization done!") { return .initialized }
        if text.hasPrefix("New revision detected! Restarting analysis") { return .releaseRestarted }
        if text.hasPrefix("New revision detected!") { return .releaseStarted }
        if text.hasPrefix("Starting canary analysis") { return .analysisStarted }
        if text.hasPrefix("Advance ") { return advance(text) }
        if text.hasPrefix("Halt advancement no values found for ") { return noValues(text) }
        if text.hasPrefix("Halt ") { return halt(text) }
        if text.hasPrefix("Copying "), text.contains(" template spec to ") { return .promoting }
        if text == "Routing all traffic to primary" { return .routingToPrimary }
        if text == "Routing all traffic to canary" || text.hasPrefix("Stop traffic mirroring") {
            return .routingToCanary
        }
        if text.hasPrefix("Promotion completed!") { return .promoted }
        if text.hasPrefix("Promotion failed!") {
            return .promotionFailed(String(text.dropFirst("Promotion failed!".count)).trimmed)
        }
        if text.hasPrefix("Canary failed!") { return .failed }
        if text.hasPrefix("Rolling back ") {
            // "Rolling back podinfo.prod <reason>"
            let rest = text.dropFirst("Rolling back ".count)
            let reason = rest.split(separator: " ", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
            return .rollingBack(reason: reason)
        }
        if text.hasPrefix("Ignoring fledge.dev/action=") {
            let rest = text.dropFirst("Ignoring fledge.dev/action=".count)
            let parts = rest.split(separator: ":", maxSplits: 1)
            return .actionIgnored(
                action: parts.first.map(String.init) ?? "",
                reason: parts.count > 1 ? String(parts[1]).trimmed : ""
            )
        }
        if text.hasPrefix("canary deployment "), let range = text.range(of: " not ready") {
            let why = text[range.upperBound...].drop { $0 == ":" || $0 == " " }
            return .canaryNotReady(String(why))
        }
        if text.hasPrefix("Post-rollout hook ") {
            let rest = text.dropFirst("Post-rollout hook ".count)
            if let failed = rest.range(of: " failed") {
                return .hookFailed(
                    type: "post-rollout",
                    name: String(rest[..<failed.lowerBound]),
                    detail: String(rest[failed.upperBound...]).trimmed
                )
            }
        }
        for (label, type) in hookLabels where text.hasPrefix(label + " check ") && text.hasSuffix(" passed") {
            let name = text.dropFirst(label.count + " check ".count).dropLast(" passed".count)
            return .hookPassed(type: type, name: String(name))
        }
        if text.hasPrefix("Prometheus query failed") || text.hasPrefix("Metric query failed")
            || text.hasPrefix("Metric template ")
        {
            return .checkError(text)
        }
        return .other(text)
    }

    static let hookLabels: [(String, String)] = [
        ("Pre-rollout", "pre-rollout"), ("Post-rollout", "post-rollout"), ("Confirm-rollout", "confirm-rollout"),
        ("Confirm-traffic-increase", "confirm-traffic-increase"), ("Confirm-promotion", "confirm-promotion"),
    ]

    /// `Advance podinfo.prod canary weight 10`, `… primary weight 60`, `… canary iteration 2/10`.
    static func advance(_ text: String) -> ReleaseNote {
        let words = text.split(separator: " ").map(String.init)
        guard words.count == 5 else { return .other(text) }
        switch (words[2], words[3]) {
        case ("canary", "weight"):
            if let weight = Int(words[4]) { return .canaryWeight(clampPercent(weight)) }
        case ("primary", "weight"):
            if let weight = Int(words[4]) { return .primaryWeight(clampPercent(weight)) }
        case ("canary", "iteration"):
            let parts = words[4].split(separator: "/")
            if parts.count == 2, let done = Int(parts[0]), let wanted = Int(parts[1]) {
                return .iteration(done: max(done, 0), wanted: max(wanted, 0))
            }
        default:
            break
        }
        return .other(text)
    }

    /// `Halt advancement no values found for linkerd metric request-success-rate probably …`,
    /// `… for metric: NAME`, `… for custom metric: NAME: error`.
    static func noValues(_ text: String) -> ReleaseNote {
        let rest = text.dropFirst("Halt advancement no values found for ".count)
        if let range = rest.range(of: "metric: ") {
            let name = rest[range.upperBound...].split(separator: ":", maxSplits: 1).first ?? ""
            return .noValues(metric: String(name).trimmed)
        }
        // "<provider> metric <name> probably …"
        let words = rest.split(separator: " ")
        if words.count >= 3, words[1] == "metric" { return .noValues(metric: String(words[2])) }
        return .noValues(metric: "")
    }

    /// `Halt <canary> advancement <what>`.
    static func halt(_ text: String) -> ReleaseNote {
        let words = text.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
        guard words.count == 4, words[2] == "advancement" else { return .other(text) }
        let what = String(words[3])
        if let reading = successRate(what) { return .metricFailed(reading) }
        if let reading = duration(what) { return .metricFailed(reading) }
        for (prefix, type) in [("pre-rollout check ", "pre-rollout"), ("external check ", "rollout")]
        where what.hasPrefix(prefix) {
            let rest = what.dropFirst(prefix.count)
            guard let failed = rest.range(of: " failed") else { break }
            return .hookFailed(
                type: type,
                name: String(rest[..<failed.lowerBound]),
                detail: String(rest[failed.upperBound...]).trimmed
            )
        }
        for (prefix, type) in [
            ("waiting for approval ", "confirm-rollout"),
            ("waiting for traffic increase approval ", "confirm-traffic-increase"),
            ("waiting for promotion approval ", "confirm-promotion"),
        ] where what.hasPrefix(prefix) {
            return .gateWaiting(type: type, name: String(what.dropFirst(prefix.count)))
        }
        if let reading = custom(what) { return .metricFailed(reading) }
        return .checkError(text)
    }

    /// `success rate 87.18% < 99%`
    static func successRate(_ what: String) -> MetricReading? {
        guard what.hasPrefix("success rate ") else { return nil }
        let words = what.dropFirst("success rate ".count).split(separator: " ")
        guard words.count == 3, words[0].hasSuffix("%"), words[2].hasSuffix("%"),
            let value = Double(words[0].dropLast()), let threshold = Double(words[2].dropLast()),
            words[1] == "<" || words[1] == ">"
        else { return nil }
        return MetricReading(
            metric: "request-success-rate",
            value: value,
            threshold: threshold,
            comparison: String(words[1]),
            unit: "%",
            passed: false
        )
    }

    /// `request duration 1.2s > 500ms` (Go durations).
    static func duration(_ what: String) -> MetricReading? {
        guard what.hasPrefix("request duration ") else { return nil }
        let words = what.dropFirst("request duration ".count).split(separator: " ")
        guard words.count == 3, words[1] == "<" || words[1] == ">",
            let value = GoDuration(String(words[0])), let threshold = GoDuration(String(words[2]))
        else { return nil }
        return MetricReading(
            metric: "request-duration",
            value: Double(value.nanoseconds) / 1e6,
            threshold: Double(threshold.nanoseconds) / 1e6,
            comparison: String(words[1]),
            unit: "ms",
            passed: false
        )
    }

    /// `error-rate 2.50 > 1`: a metric name (no spaces), the value, `<` or `>`, the threshold.
    static func custom(_ what: String) -> MetricReading? {
        let words = what.split(separator: " ")
        guard words.count == 4, words[2] == "<" || words[2] == ">",
            let value = Double(words[1]), let threshold = Double(words[3]), value.isFinite, threshold.isFinite
        else { return nil }
        return MetricReading(
            metric: String(words[0]),
            value: value,
            threshold: threshold,
            comparison: String(words[2]),
            unit: "",
            passed: false
        )
    }

    static func clampPercent(_ value: Int) -> Int { min(max(value, 0), 100) }
}

extension StringProtocol {
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
