import AsyncHTTPClient
import CanaryModel
import DevCluster
import Foundation
import JSONValue
import KubeClient
import KubeModels
import Metrics
import Progression
import Synchronization
import Testing

@Suite("Releases survive restarts and faults", .serialized)
struct FaultTests {
    @Test("a worker replaced mid-release resumes at the recorded weight and promotes exactly once")
    func restartMidRelease() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary(["stepWeight": 10, "maxWeight": 50])
            try await harness.initialise()
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            for _ in 0..<3 { try await harness.tick() }
            #expect(try await harness.canaryWeight() == 20)
            // A new process: nothing in memory, everything from the Canary's status.
            let successorEvents = EventLog()
            let successor = harness.successor(events: successorEvents)
            var weights: [Int64] = []
            for _ in 0..<10 where try await harness.phase() != "Succeeded" {
                _ = await successor.tick(namespace: "default", name: "podinfo")
                try await harness.settle()
                weights.append(try await harness.canaryWeight() ?? -1)
            }
            #expect(Array(weights.prefix(3)) == [30, 40, 50])
            #expect(try await harness.phase() == "Succeeded")
            let messages = successorEvents.messages
            #expect(messages.filter { $0.hasPrefix("Copying podinfo.default template spec") }.count == 1)
            #expect(messages.filter { $0 == "Promotion completed! Scaling down podinfo.default" }.count == 1)
            // Ticks after the end change nothing.
            #expect(await successor.tick(namespace: "default", name: "podinfo") == .idle)
        }
    }

    @Test(
        "a worker that dies between a tick's writes (weight written, status not; promotion copied, phase not) resumes without skipping or repeating a step",
        arguments: ["trafficsplits", "deployments"]
    )
    func deathBetweenWrites(resource: String) async throws {
        // Every status write fails while armed: the tick ends after its first effects, as if the process died.
        let armed = Mutex(false)
        let faults: @Sendable (APIRequest) -> APIError? = { request in
            guard armed.withLock({ $0 }), request.method == "PATCH", request.path.hasSuffix("/canaries/podinfo/status")
            else { return nil }
            return APIError(code: 503, reason: "ServiceUnavailable", message: "injected: the process died here")
        }
        try await withHarness(faults: faults) { harness in
            try await harness.installWorkload()
            try await harness.installCanary(["stepWeight": 25, "maxWeight": 50])
            try await harness.initialise()
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            try await harness.tick()
            try await harness.tick()
            #expect(try await harness.canaryWeight() == 25)
            if resource == "deployments" {
                try await harness.tick()
                #expect(try await harness.canaryWeight() == 50)
            }
            armed.withLock { $0 = true }
            try await harness.tick()
            armed.withLock { $0 = false }
            // A new process takes over from whatever was written.
            let successorEvents = EventLog()
            let successor = harness.successor(events: successorEvents)
            var seen: [String] = []
            for _ in 0..<8 where try await harness.phase() != "Succeeded" {
                _ = await successor.tick(namespace: "default", name: "podinfo")
                try await harness.settle()
                let split = try await harness.splitWeights()
                seen.append("\(try await harness.phase() ?? "") \(split?.1 ?? -1)")
            }
            #expect(try await harness.phase() == "Succeeded", "\(seen)")
            let split = try await harness.splitWeights()
            #expect(split?.0 == 100 && split?.1 == 0)
            // The traffic never went past maxWeight, and the promotion was copied once after the restart at most.
            #expect(!seen.contains { $0.hasSuffix(" 75") || $0.hasSuffix(" 100") }, "\(seen)")
            let primary = try await harness.client.get("\(harness.deployments)/podinfo-primary")
            #expect(
                primary["spec", "template", "spec", "containers"]?[0]?["image"] == "ghcr.io/stefanprodan/podinfo:6.0.1"
            )
            #expect(try await harness.replicas("podinfo") == 0)
        }
    }

    @Test("a conflict on the primary's config copy during promotion is read again and applied in the same tick")
    func conflictOnApply() async throws {
        let conflicts = Mutex(0)
        let faults: @Sendable (APIRequest) -> APIError? = { request in
            guard request.method == "PUT", request.path.hasSuffix("/configmaps/podinfo-config-env-primary") else {
                return nil
            }
            let first = conflicts.withLock { count -> Bool in
                count += 1
                return count == 1
            }
            guard first else { return nil }
            return .injectedConflict(#"configmaps "podinfo-config-env-primary""#)
        }
        try await withHarness(faults: faults) { harness in
            try await harness.installWorkload()
            try await harness.installCanary(["stepWeight": 50, "maxWeight": 50])
            try await harness.initialise()
            _ = try await harness.client.patch(
                "/api/v1/namespaces/default/configmaps/podinfo-config-env",
                ["data": ["color": "red"]],
                type: .merge
            )
            for _ in 0..<3 { try await harness.tick() }
            #expect(try await harness.phase() == "Promoting", "\(harness.messages)")
            #expect(conflicts.withLock { $0 } == 2, "one conflict, then the retried write")
            let config = try await harness.client.get(
                "/api/v1/namespaces/default/configmaps/podinfo-config-env-primary"
            )
            #expect(config["data", "color"] == "red")
            #expect(!harness.messages.contains { $0.contains("injected") })
        }
    }

    @Test("409, 429 and 500 answers to one write in four: the release still ends promoted")
    func injectedErrors() async throws {
        let counter = Mutex(0)
        let armed = Mutex(false)
        let faults: @Sendable (APIRequest) -> APIError? = { request in
            guard request.method != "GET", armed.withLock({ $0 }) else { return nil }
            let count = counter.withLock { value -> Int in
                value += 1
                return value
            }
            switch count % 12 {
            case 3: return .injectedConflict()
            case 6:
                return .injectedThrottle(retryAfter: 1)
            case 9: return .injectedServerError
            default: return nil
            }
        }
        try await withHarness(faults: faults) { harness in
            try await harness.installWorkload()
            try await harness.installCanary(["stepWeight": 25, "maxWeight": 50])
            try await harness.initialise()
            armed.withLock { $0 = true }
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            for _ in 0..<30 where try await harness.phase() != "Succeeded" { try await harness.tick() }
            #expect(try await harness.phase() == "Succeeded")
            #expect(counter.withLock { $0 } > 12, "faults were injected")
            let primary = try await harness.client.get("\(harness.deployments)/podinfo-primary")
            #expect(
                primary["spec", "template", "spec", "containers"]?[0]?["image"] == "ghcr.io/stefanprodan/podinfo:6.0.1"
            )
            #expect(try await harness.replicas("podinfo") == 0)
            #expect(harness.messages.contains { $0.contains("injected") }, "the failures were reported as events")
        }
    }

    @Test("a 500 and a 429 on the weight write are retried within the tick: no interval is lost, no error event")
    func retriedWrites() async throws {
        let remaining = Mutex(0)
        let faults: @Sendable (APIRequest) -> APIError? = { request in
            guard request.method == "PATCH", request.path.contains("/trafficsplits/") else { return nil }
            let failures = remaining.withLock { value -> Int in
                defer { value = max(value - 1, 0) }
                return value
            }
            switch failures {
            case 2: return .injectedServerError
            case 1:
                return .injectedThrottle(retryAfter: 0)
            default: return nil
            }
        }
        try await withHarness(faults: faults) { harness in
            try await harness.installWorkload()
            try await harness.installCanary(["stepWeight": 25, "maxWeight": 50])
            try await harness.initialise()
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            try await harness.tick()
            #expect(try await harness.phase() == "Progressing")
            remaining.withLock { $0 = 2 }
            #expect(try await harness.tick() == .advanced)
            #expect(remaining.withLock { $0 } == 0, "both faults were answered")
            #expect(try await harness.splitWeights()?.1 == 25)
            #expect(!harness.messages.contains { $0.contains("injected") })
        }
    }

    @Test("Prometheus down for two ticks: failed checks with the reason, then the release recovers")
    func prometheusOutage() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary(["stepWeight": 25, "maxWeight": 50, "threshold": 5])
            try await harness.initialise()
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            try await harness.tick()
            try await harness.tick()
            harness.receiver.state.queryStatus.withLock { $0 = 500 }
            try await harness.tick()
            try await harness.tick()
            #expect(try await harness.canary()["status", "failedChecks"] == 2)
            #expect(harness.messages.contains { $0.contains("prometheus is down") })
            harness.receiver.state.queryStatus.withLock { $0 = 200 }
            for _ in 0..<8 where try await harness.phase() != "Succeeded" { try await harness.tick() }
            #expect(try await harness.phase() == "Succeeded")
        }
    }
}
