import Foundation
import JSONValue

/// One point of a release's timeline: an Event read into what it means for the release.
public struct TimelineStep: Codable, Sendable, Equatable {
    /// What happened: `start`, `restart`, `analysis`, `weight`, `iteration`, `check-failed`, `hook-passed`,
    /// `hook-failed`, `gate`, `not-ready`, `promoting`, `routing`, `promoted`, `rolling-back`, `failed`,
    /// `action-ignored` or `note`.
    public var kind: String
    /// The event's time as the cluster recorded it (RFC 3339), when it has one.
    public var time: String?
    /// The canary's traffic weight (percent) after this point.
    public var weight: Int
    /// Failed checks counted in this release so far.
    public var failedChecks: Int
    /// The event's message, unchanged.
    public var message: String
    /// How many times the event was recorded in a row (Kubernetes folds direct repeats into one Event).
    public var count: Int
    /// `Warning` or `Normal`.
    public var type: String
    /// The metric and its value, for a failed metric check (from the event) or a passed one (from Prometheus).
    public var readings: [MetricReading]
    /// The hook or gate, for hook and gate points: its type and name.
    public var hook: String?
}

/// One release: from `New revision detected!` to its outcome.
public struct ReleaseRecord: Codable, Sendable, Equatable {
    /// `in-progress`, `promoted`, `rolled-back`, `promotion-failed`, `superseded` (a newer revision restarted the
    /// analysis) or `unknown` (the events that would say have expired).
    public var outcome: String
    /// Why it ended that way, when an event says (`failed checks threshold reached 5`).
    public var reason: String?
    public var steps: [TimelineStep]
    /// The highest canary weight reached.
    public var peakWeight: Int
    /// Failed checks counted in the release.
    public var failedChecks: Int
}

/// A metric the Canary's analysis checks, with the limits a chart draws.
public struct CheckSpec: Codable, Sendable, Equatable {
    public var name: String
    /// The lowest passing value, in ``unit``.
    public var min: Double?
    /// The highest passing value, in ``unit``.
    public var max: Double?
    public var unit: String
    public var interval: String
}

/// One Canary in the list.
public struct CanarySummary: Codable, Sendable, Equatable {
    public var namespace: String
    public var name: String
    public var phase: String
    public var weight: Int
    public var failedChecks: Int
    public var threshold: Int
    public var lastEvent: String?
    public var lastEventType: String?
    public var lastEventTime: String?
    /// The Promoted condition's message: why the release waits, or how it ended.
    public var message: String?
}

/// Everything the page shows for one Canary.
public struct CanaryDetail: Codable, Sendable, Equatable {
    public var summary: CanarySummary
    /// The releases the cluster's Events still tell, oldest first; the last is the current or latest one.
    public var releases: [ReleaseRecord]
    public var checks: [CheckSpec]
    public var hooks: [String]
    public var maxWeight: Int
    public var stepWeights: [Int]
    public var interval: String
    /// The annotation a promote, abort or retry request left for the worker, while it has not acted on it.
    public var pendingAction: String?
    /// Events that belong to no release (initialisation, warnings between releases), newest last.
    public var otherEvents: [TimelineStep]
    /// Where measured values of passed checks come from, or why there are none.
    public var measurements: String
}

/// Builds what the page shows from a Canary and its Events: pure, so a restarted dashboard shows the same.
public enum TimelineBuilder {
    /// The most releases a detail keeps (the current one and those before it).
    public static let releaseLimit = 3

    /// Events in the order they were recorded: by first timestamp, then by name (client-go and Fledge name an Event
    /// after the object and the time in hexadecimal nanoseconds, so names sort in recording order).
    public static func ordered(_ events: [JSONValue]) -> [JSONValue] {
        events.sorted { left, right in
            let a = eventTime(left)
            let b = eventTime(right)
            if a != b { return a < b }
            return (left["metadata", "name"]?.stringValue ?? "") < (right["metadata", "name"]?.stringValue ?? "")
        }
    }

    static func eventTime(_ event: JSONValue) -> String {
        let candidates = [
            event["firstTimestamp"]?.stringValue, event["eventTime"]?.stringValue,
            event["lastTimestamp"]?.stringValue, event["metadata", "creationTimestamp"]?.stringValue,
        ]
        // RFC 3339 times in UTC sort as text once the fraction is gone.
        let text = candidates.compactMap { $0 }.first { !$0.isEmpty } ?? ""
        return normalizedTime(text)
    }

    /// `2026-01-01T10:00:00.123456Z` → `2026-01-01T10:00:00Z`.
    static func normalizedTime(_ text: String) -> String {
        guard let dot = text.firstIndex(of: "."), let zone = text[dot...].firstIndex(where: { $0 == "Z" || $0 == "+" })
        else { return text }
        return String(text[..<dot]) + String(text[zone...])
    }

    /// The Events' steps, cut into releases. `phase` (the Canary's status) closes a release whose ending Event has
    /// expired or not been recorded yet.
    public static func releases(
        events: [JSONValue],
        phase: String?
    ) -> (releases: [ReleaseRecord], others: [TimelineStep]) {
        var releases: [ReleaseRecord] = []
        var others: [TimelineStep] = []
        var current: ReleaseRecord?
        var weight = 0
        var failed = 0
        var rollbackReason: String?

        func open() {
            if var release = current {
                if release.outcome == "in-progress" { release.outcome = "superseded" }
                releases.append(release)
            }
            current = ReleaseRecord(outcome: "in-progress", reason: nil, steps: [], peakWeight: 0, failedChecks: 0)
            weight = 0
            failed = 0
            rollbackReason = nil
        }

        for event in ordered(events) {
            let message = event["message"]?.stringValue ?? ""
            let note = EventParser.parse(message)
            var step = TimelineStep(
                kind: "note",
                time: eventTime(event).isEmpty ? nil : eventTime(event),
                weight: weight,
                failedChecks: failed,
                message: message,
                count: Int(clamping: max(event["count"]?.intValue ?? 1, 1)),
                type: event["type"]?.stringValue ?? "Normal",
                readings: [],
                hook: nil
            )
            var ends: (outcome: String, reason: String?)?
            switch note {
            case .initialized:
                step.kind = "initialized"
            case .releaseStarted:
                open()
                step.kind = "start"
            case .releaseRestarted:
                open()
                step.kind = "restart"
            case .analysisStarted:
                step.kind = "analysis"
            case .canaryWeight(let value):
                weight = value
                step.kind = "weight"
            case .primaryWeight(let value):
                weight = 100 - value
                step.kind = "weight"
            case .iteration:
                step.kind = "iteration"
            case .metricFailed(let reading):
                failed += 1
                step.kind = "check-failed"
                step.readings = [reading]
            case .noValues(let metric):
                failed += 1
                step.kind = "check-failed"
                step.hook = metric.isEmpty ? nil : metric
            case .checkError:
                failed += 1
                step.kind = "check-failed"
            case .hookPassed(let type, let name):
                step.kind = "hook-passed"
                step.hook = "\(type) \(name)"
            case .hookFailed(let type, let name, _):
                // Only pre-rollout and rollout hooks count as failed checks; a post-rollout failure is reported.
                if type != "post-rollout" { failed += 1 }
                step.kind = "hook-failed"
                step.hook = "\(type) \(name)"
            case .gateWaiting(let type, let name):
                step.kind = "gate"
                step.hook = "\(type) \(name)"
            case .canaryNotReady:
                step.kind = "not-ready"
            case .promoting:
                step.kind = "promoting"
            case .routingToPrimary:
                weight = 0
                step.kind = "routing"
            case .routingToCanary:
                weight = 100
                step.kind = "routing"
            case .promoted:
                weight = 0
                step.kind = "promoted"
                ends = ("promoted", nil)
            case .rollingBack(let reason):
                rollbackReason = reason
                step.kind = "rolling-back"
            case .failed:
                weight = 0
                step.kind = "failed"
                ends = ("rolled-back", rollbackReason)
            case .promotionFailed(let reason):
                step.kind = "failed"
                ends = ("promotion-failed", reason)
            case .actionIgnored:
                step.kind = "action-ignored"
            case .other:
                step.kind = "note"
            }
            step.weight = weight
            step.failedChecks = failed
            let belongs = !["initialized"].contains(step.kind)
            if current == nil, belongs,
                ["weight", "iteration", "check-failed", "promoting", "routing", "rolling-back"]
                    .contains(step.kind)
            {
                // The start of this release has expired: begin from what is left.
                open()
            }
            if var release = current, belongs, release.outcome == "in-progress" {
                release.steps.append(step)
                release.peakWeight = max(release.peakWeight, weight)
                release.failedChecks = failed
                if let ends {
                    release.outcome = ends.outcome
                    release.reason = ends.reason
                }
                current = release
            } else {
                others.append(step)
            }
        }
        if var release = current {
            if release.outcome == "in-progress" {
                switch phase {
                case "Succeeded": release.outcome = "promoted"
                case "Failed": release.outcome = "rolled-back"
                case "Initialized", "Initializing": release.outcome = "unknown"
                default: break
                }
            }
            releases.append(release)
        }
        return (Array(releases.suffix(releaseLimit)), Array(others.suffix(20)))
    }

    /// The list row of a Canary, with its last Event.
    public static func summary(canary: JSONValue, events: [JSONValue]) -> CanarySummary {
        let last = ordered(events).last
        let conditions = canary["status", "conditions"]?.arrayValue ?? []
        let promoted = conditions.first { $0["type"]?.stringValue == "Promoted" }
        return CanarySummary(
            namespace: canary["metadata", "namespace"]?.stringValue ?? "",
            name: canary["metadata", "name"]?.stringValue ?? "",
            phase: canary["status", "phase"]?.stringValue ?? "Initializing",
            weight: clampPercent(canary["status", "canaryWeight"]?.intValue ?? 0),
            failedChecks: clampCount(canary["status", "failedChecks"]?.intValue ?? 0),
            threshold: clampCount(analysis(canary)?["threshold"]?.intValue ?? 1),
            lastEvent: last?["message"]?.stringValue,
            lastEventType: last?["type"]?.stringValue,
            lastEventTime: last.map(eventTime),
            message: promoted?["message"]?.stringValue
        )
    }

    /// The page's view of one Canary and its Events.
    public static func detail(canary: JSONValue, events: [JSONValue], measurements: String) -> CanaryDetail {
        let summary = Self.summary(canary: canary, events: events)
        let (releases, others) = Self.releases(events: events, phase: summary.phase)
        let analysis = analysis(canary)
        let stepWeights = (analysis?["stepWeights"]?.arrayValue ?? []).compactMap { $0.intValue }.map {
            clampPercent($0)
        }
        let maxWeight = stepWeights.last ?? analysis?["maxWeight"]?.intValue.map { clampPercent($0) } ?? 50
        let hooks = (analysis?["webhooks"]?.arrayValue ?? []).map { hook -> String in
            let type = hook["type"]?.stringValue ?? ""
            return "\(type.isEmpty ? "rollout" : type) \(hook["name"]?.stringValue ?? "")"
        }
        return CanaryDetail(
            summary: summary,
            releases: releases,
            checks: checks(canary),
            hooks: hooks,
            maxWeight: maxWeight,
            stepWeights: stepWeights,
            interval: analysis?["interval"]?.stringValue ?? "",
            pendingAction: canary["metadata", "annotations", "fledge.dev/action"]?.stringValue,
            otherEvents: others,
            measurements: measurements
        )
    }

    /// The metrics the analysis checks, with their limits in the unit the events use.
    public static func checks(_ canary: JSONValue) -> [CheckSpec] {
        (analysis(canary)?["metrics"]?.arrayValue ?? []).map { metric in
            let name = metric["name"]?.stringValue ?? ""
            let range = metric["thresholdRange"]
            var low = range?["min"]?.doubleValue
            var high = range?["max"]?.doubleValue
            let legacy = metric["threshold"]?.doubleValue
            let builtin = metric["templateRef"] == nil && metric["query"] == nil
            if range == nil, let legacy {
                if builtin && name == "request-success-rate" { low = legacy } else { high = legacy }
            }
            let unit =
                builtin && name == "request-success-rate" ? "%" : builtin && name == "request-duration" ? "ms" : ""
            return CheckSpec(
                name: name,
                min: low,
                max: high,
                unit: unit,
                interval: metric["interval"]?.stringValue ?? "1m"
            )
        }
    }

    static func analysis(_ canary: JSONValue) -> JSONValue? {
        canary["spec", "analysis"] ?? canary["spec", "canaryAnalysis"]
    }

    static func clampPercent(_ value: Int64) -> Int { Int(min(max(value, 0), 100)) }
    static func clampPercent(_ value: Int) -> Int { min(max(value, 0), 100) }
    static func clampCount(_ value: Int64) -> Int { Int(min(max(value, 0), 1_000_000)) }
}
