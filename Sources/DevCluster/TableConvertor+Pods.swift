import Foundation
import JSONValue
import KubeModels

/// printers.go `printPod`: readiness, the status reason kubectl shows, restarts and the wide columns.
enum PodPrinter {
    static func cells(_ pod: JSONValue, now: Date) -> [JSONValue] {
        let spec = pod["spec"]
        let status = pod["status"]
        let containers = spec?["containers"]?.arrayValue ?? []
        let initContainers = spec?["initContainers"]?.arrayValue ?? []
        let conditions = status?["conditions"]?.arrayValue ?? []

        var restarts: Int64 = 0
        var restartableInitRestarts: Int64 = 0
        var totalContainers = containers.count
        var readyContainers = 0
        var lastRestart: Date?
        var lastRestartableInitRestart: Date?

        let phase = TableConvertor.nonEmpty(status?["phase"]) ?? "Pending"
        var reason = TableConvertor.nonEmpty(status?["reason"]) ?? phase
        for condition in conditions
        where condition["type"]?.stringValue == "PodScheduled" && condition["reason"]?.stringValue == "SchedulingGated"
        {
            reason = "SchedulingGated"
        }

        var restartable: [String: Bool] = [:]
        for container in initContainers {
            let isRestartable = container["restartPolicy"]?.stringValue == "Always"
            restartable[container["name"]?.stringValue ?? ""] = isRestartable
            if isRestartable { totalContainers += 1 }
        }

        var initializing = false
        for (index, container) in (status?["initContainerStatuses"]?.arrayValue ?? []).enumerated() {
            let count = container["restartCount"]?.intValue ?? 0
            restarts += count
            let finished = finishedAt(container)
            lastRestart = later(lastRestart, finished)
            let isRestartable = restartable[container["name"]?.stringValue ?? ""] ?? false
            if isRestartable {
                restartableInitRestarts += count
                lastRestartableInitRestart = later(lastRestartableInitRestart, finished)
            }
            let terminated = state(container, "terminated")
            let waiting = state(container, "waiting")
            if let terminated, terminated["exitCode"]?.intValue ?? 0 == 0 {
                continue
            } else if isRestartable, container["started"]?.boolValue == true {
                if container["ready"]?.boolValue == true { readyContainers += 1 }
                continue
            } else if let terminated {
                if let terminatedReason = TableConvertor.nonEmpty(terminated["reason"]) {
                    reason = "Init:" + terminatedReason
                } else if let signal = terminated["signal"]?.intValue, signal != 0 {
                    reason = "Init:Signal:\(signal)"
                } else {
                    reason = "Init:ExitCode:\(terminated["exitCode"]?.intValue ?? 0)"
                }
                initializing = true
            } else if let waitingReason = TableConvertor.nonEmpty(waiting?["reason"]),
                waitingReason != "PodInitializing"
            {
                reason = "Init:" + waitingReason
                initializing = true
            } else {
                reason = "Init:\(index)/\(initContainers.count)"
                initializing = true
            }
            break
        }

        let initialized = conditions.contains {
            $0["type"]?.stringValue == "Initialized" && $0["status"]?.stringValue == "True"
        }
        if !initializing || initialized {
            restarts = restartableInitRestarts
            lastRestart = lastRestartableInitRestart
            var hasRunning = false
            for container in (status?["containerStatuses"]?.arrayValue ?? []).reversed() {
                restarts += container["restartCount"]?.intValue ?? 0
                lastRestart = later(lastRestart, finishedAt(container))
                let terminated = state(container, "terminated")
                if let waitingReason = TableConvertor.nonEmpty(state(container, "waiting")?["reason"]) {
                    reason = waitingReason
                } else if let terminated, let terminatedReason = TableConvertor.nonEmpty(terminated["reason"]) {
                    reason = terminatedReason
                } else if let terminated {
                    if let signal = terminated["signal"]?.intValue, signal != 0 {
                        reason = "Signal:\(signal)"
                    } else {
                        reason = "ExitCode:\(terminated["exitCode"]?.intValue ?? 0)"
                    }
                } else if container["ready"]?.boolValue == true, state(container, "running") != nil {
                    hasRunning = true
                    readyContainers += 1
                }
            }
            if reason == "Completed" && hasRunning {
                let ready = conditions.contains {
                    $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True"
                }
                reason = ready ? "Running" : "NotReady"
            }
        }

        let deleting = TableConvertor.nonEmpty(pod["metadata", "deletionTimestamp"]) != nil
        if deleting && status?["reason"]?.stringValue == "NodeLost" {
            reason = "Unknown"
        } else if deleting && phase != "Failed" && phase != "Succeeded" {
            reason = "Terminating"
        }

        var restartText = String(restarts)
        if restarts != 0, let lastRestart {
            restartText = "\(restarts) (\(HumanDuration.string(since: lastRestart, now: now)) ago)"
        }

        let podIP =
            TableConvertor.nonEmpty(status?["podIPs"]?[0]?["ip"]) ?? TableConvertor.nonEmpty(status?["podIP"])
            ?? "<none>"
        let nodeName = TableConvertor.nonEmpty(spec?["nodeName"]) ?? "<none>"
        let nominated = TableConvertor.nonEmpty(status?["nominatedNodeName"]) ?? "<none>"
        var readinessGates = "<none>"
        let gates = spec?["readinessGates"]?.arrayValue ?? []
        if !gates.isEmpty {
            var satisfied = 0
            for gate in gates {
                let type = gate["conditionType"]?.stringValue
                if let condition = conditions.first(where: { $0["type"]?.stringValue == type }),
                    condition["status"]?.stringValue == "True"
                {
                    satisfied += 1
                }
            }
            readinessGates = "\(satisfied)/\(gates.count)"
        }

        return [
            .string(pod["metadata", "name"]?.stringValue ?? ""), .string("\(readyContainers)/\(totalContainers)"),
            .string(reason), .string(restartText), .string(TableConvertor.ageString(pod, now: now)), .string(podIP),
            .string(nodeName), .string(nominated), .string(readinessGates),
        ]
    }

    /// A container state (`waiting`, `running`, `terminated`) when present.
    static func state(_ container: JSONValue, _ name: String) -> JSONValue? {
        guard let value = container["state"]?[name], case .object = value else { return nil }
        return value
    }

    static func finishedAt(_ container: JSONValue) -> Date? {
        guard let text = TableConvertor.nonEmpty(container["lastState"]?["terminated"]?["finishedAt"]) else {
            return nil
        }
        return RFC3339.parse(text)
    }

    static func later(_ current: Date?, _ candidate: Date?) -> Date? {
        guard let candidate else { return current }
        guard let current else { return candidate }
        return current < candidate ? candidate : current
    }
}

/// printers.go `printHorizontalPodAutoscaler` and `formatHPAMetrics`, for `autoscaling/v2` and `autoscaling/v1`
/// objects.
enum HPAPrinter {
    static func cells(_ hpa: JSONValue, name: JSONValue, age: JSONValue) -> [JSONValue] {
        let spec = hpa["spec"]
        let reference =
            (spec?["scaleTargetRef"]?["kind"]?.stringValue ?? "") + "/"
            + (spec?["scaleTargetRef"]?["name"]?.stringValue ?? "")
        let minPods = spec?["minReplicas"]?.intValue.map(String.init) ?? "1"
        return [
            name, .string(reference), .string(targets(hpa)), .string(minPods),
            .int(TableConvertor.int(spec?["maxReplicas"])), .int(TableConvertor.int(hpa["status", "currentReplicas"])),
            age,
        ]
    }

    /// The metric specs and statuses in `autoscaling/v2` shape; a v1 object's CPU target becomes a resource metric,
    /// and an HPA with no metrics gets the server's default of 80% CPU.
    static func metrics(_ hpa: JSONValue) -> ([JSONValue], [JSONValue]) {
        if let specs = hpa["spec", "metrics"]?.arrayValue, !specs.isEmpty {
            return (specs, hpa["status", "currentMetrics"]?.arrayValue ?? [])
        }
        let target = hpa["spec", "targetCPUUtilizationPercentage"]?.intValue ?? 80
        let spec: JSONValue = [
            "type": "Resource",
            "resource": ["name": "cpu", "target": ["type": "Utilization", "averageUtilization": .int(target)]],
        ]
        var statuses: [JSONValue] = []
        if let current = hpa["status", "currentCPUUtilizationPercentage"]?.intValue {
            statuses = [
                ["type": "Resource", "resource": ["name": "cpu", "current": ["averageUtilization": .int(current)]]]
            ]
        } else if let current = hpa["status", "currentMetrics"]?.arrayValue {
            statuses = current
        }
        return ([spec], statuses)
    }

    static func quantity(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let text)?: return text
        case .int(let int)?: return String(int)
        case .double(let double)?: return GoFormat.formatFloatV(double)
        default: return nil
        }
    }

    static func targets(_ hpa: JSONValue) -> String {
        let (specs, statuses) = metrics(hpa)
        var list: [String] = []
        for (index, spec) in specs.enumerated() {
            let status: JSONValue? = index < statuses.count ? statuses[index] : nil
            switch spec["type"]?.stringValue {
            case "External":
                list.append(valueOrAverage(spec["external"]?["target"], status?["external"]?["current"]))
            case "Pods":
                let current = quantity(status?["pods"]?["current"]?["averageValue"]) ?? "<unknown>"
                list.append(current + "/" + (quantity(spec["pods"]?["target"]?["averageValue"]) ?? ""))
            case "Object":
                list.append(valueOrAverage(spec["object"]?["target"], status?["object"]?["current"]))
            case "Resource":
                list.append(resource(spec["resource"], status?["resource"]))
            case "ContainerResource":
                list.append(resource(spec["containerResource"], status?["containerResource"]))
            default:
                list.append("<unknown type>")
            }
        }
        if list.isEmpty { return "<none>" }
        if list.count > 2 { return list.prefix(2).joined(separator: ", ") + " + \(list.count - 2) more..." }
        return list.joined(separator: ", ")
    }

    static func valueOrAverage(_ target: JSONValue?, _ current: JSONValue?) -> String {
        if let average = quantity(target?["averageValue"]) {
            return (quantity(current?["averageValue"]) ?? "<unknown>") + "/" + average + " (avg)"
        }
        return (quantity(current?["value"]) ?? "<unknown>") + "/" + (quantity(target?["value"]) ?? "")
    }

    static func resource(_ spec: JSONValue?, _ status: JSONValue?) -> String {
        let name = spec?["name"]?.stringValue ?? ""
        if let average = quantity(spec?["target"]?["averageValue"]) {
            return name + ": " + (quantity(status?["current"]?["averageValue"]) ?? "<unknown>") + "/" + average
        }
        let current = status?["current"]?["averageUtilization"]?.intValue.map { "\($0)%" } ?? "<unknown>"
        let target = spec?["target"]?["averageUtilization"]?.intValue.map { "\($0)%" } ?? "<auto>"
        return name + ": " + current + "/" + target
    }
}
