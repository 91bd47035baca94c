import CanaryModel
import DevCluster
import Foundation
import JSONValue
import KubeClient
import Progression
import Synchronization
import Testing

/// SCENARIOS.md replayed one tick at a time against the embedded cluster.
@Suite("Release scenarios", .serialized)
struct ScenarioTests {
    @Test("init: primary, three services and a TrafficSplit at 100/0; the target scaled to 0")
    func initialisation() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary()
            try await harness.initialise()
            #expect(try await harness.replicas("podinfo-primary") == 1)
            #expect(try await harness.replicas("podinfo") == 0)
            for service in ["podinfo", "podinfo-canary", "podinfo-primary"] {
                #expect(try await harness.client.getIfPresent("/api/v1/namespaces/default/services/\(service)") != nil)
            }
            let apex = try await harness.client.get("/api/v1/namespaces/default/services/podinfo")
            #expect(apex["spec", "selector"] == ["app": "podinfo-primary"])
            let split = try await harness.splitWeights()
            #expect(split?.0 == 100 && split?.1 == 0)
            let canary = try await harness.canary()
            #expect(canary["status", "lastAppliedSpec"] == canary["status", "lastPromotedSpec"])
            #expect(canary["status", "conditions"]?[0]?["type"] == "Promoted")
            #expect(canary["status", "conditions"]?[0]?["status"] == "True")
            #expect(harness.messages.contains("Initialization done! podinfo.default"))
            // The primary reads copies of the configs.
            let primary = try await harness.client.get("\(harness.deployments)/podinfo-primary")
            let container = primary["spec", "template", "spec", "containers"]?[0]
            #expect(container?["envFrom"]?[0]?["configMapRef", "name"] == "podinfo-config-env-primary")
            #expect(container?["env"]?[0]?["valueFrom", "secretKeyRef", "name"] == "podinfo-secret-env-primary")
            #expect(
                primary["spec", "template", "spec", "volumes"]?[0]?["configMap", "name"] == "podinfo-config-vol-primary"
            )
            #expect(
                try await harness.client.getIfPresent(
                    "/api/v1/namespaces/default/configmaps/podinfo-config-env-primary"
                ) != nil
            )
        }
    }

    @Test("new revision: the target is scaled up and the phase is Progressing")
    func newRevision() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary()
            try await harness.initialise()
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            try await harness.tick()
            #expect(try await harness.phase() == "Progressing")
            #expect(try await harness.replicas("podinfo") == 1)
            #expect(harness.messages.contains("New revision detected! Scaling up podinfo.default"))
        }
    }

    @Test("weights step to maxWeight, clamped (20 with max 50: 100, 80, 60, 50), then promotion to Succeeded")
    func weightSequence() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary(["stepWeight": 20, "maxWeight": 50])
            try await harness.initialise()
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            try await harness.tick()
            var primaries: [Int] = []
            for _ in 0..<3 {
                try await harness.tick()
                primaries.append(try await harness.splitWeights()?.0 ?? -1)
            }
            #expect(primaries == [80, 60, 50])
            try await harness.tick()
            #expect(try await harness.phase() == "Promoting")
            try await harness.tick()
            #expect(try await harness.phase() == "Finalising")
            #expect(try await harness.splitWeights()?.0 == 100)
            try await harness.tick()
            #expect(try await harness.phase() == "Succeeded")
            #expect(try await harness.replicas("podinfo") == 0)
            let primary = try await harness.client.get("\(harness.deployments)/podinfo-primary")
            #expect(
                primary["spec", "template", "spec", "containers"]?[0]?["image"] == "ghcr.io/stefanprodan/podinfo:6.0.1"
            )
            let canary = try await harness.canary()
            #expect(canary["status", "lastPromotedSpec"] == canary["status", "lastAppliedSpec"])
            #expect(harness.messages.contains("Promotion completed! Scaling down podinfo.default"))
        }
    }

    @Test("stepWeights [1, 2, 10, 80]: primary 99, 98, 90, 20")
    func stepWeights() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary(["stepWeight": nil, "maxWeight": nil, "stepWeights": [1, 2, 10, 80]])
            try await harness.initialise()
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            try await harness.tick()
            var primaries: [Int] = []
            for _ in 0..<4 {
                try await harness.tick()
                primaries.append(try await harness.splitWeights()?.0 ?? -1)
            }
            #expect(primaries == [99, 98, 90, 20])
        }
    }

    @Test("rollback: failed metric checks reach the threshold; traffic 100/0, target 0, phase Failed")
    func rollback() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary(["threshold": 2])
            try await harness.initialise()
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            try await harness.tick()
            try await harness.tick()  // starts the analysis, weight 10
            harness.receiver.state.value.withLock { $0 = 50 }
            try await harness.tick()
            try await harness.tick()
            #expect(try await harness.canary()["status", "failedChecks"] == 2)
            try await harness.tick()
            #expect(try await harness.phase() == "Failed")
            let split = try await harness.splitWeights()
            #expect(split?.0 == 100 && split?.1 == 0)
            #expect(try await harness.replicas("podinfo") == 0)
            #expect(harness.messages.contains("Rolling back podinfo.default failed checks threshold reached 2"))
            #expect(harness.messages.contains("Canary failed! Scaling down podinfo.default"))
            #expect(harness.messages.contains { $0.hasPrefix("Halt podinfo.default advancement success rate 50") })
        }
    }

    @Test("analysis phases with stepWeight 100 and stepWeightPromotion 50")
    func phases() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary(["stepWeight": 100, "maxWeight": 100, "stepWeightPromotion": 50])
            try await harness.initialise()
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            var seen: [String] = []
            for _ in 0..<6 {
                try await harness.tick()
                seen.append("\(try await harness.phase() ?? "") w\(try await harness.canaryWeight() ?? -1)")
            }
            #expect(
                seen == [
                    "Progressing w0", "Progressing w100", "Promoting w100", "Promoting w50", "Finalising w0",
                    "Succeeded w0",
                ]
            )
        }
    }

    @Test("blue/green: iterations then all traffic to the canary, promotion, Succeeded")
    func blueGreen() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary(["stepWeight": nil, "maxWeight": nil, "iterations": 2])
            try await harness.initialise()
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            var phases: [String] = []
            for _ in 0..<7 {
                try await harness.tick()
                phases.append(try await harness.phase() ?? "")
            }
            #expect(
                phases == [
                    "Progressing", "Progressing", "Progressing", "Progressing", "Promoting", "Finalising", "Succeeded",
                ]
            )
            #expect(harness.messages.contains("Routing all traffic to canary"))
        }
    }

    @Test("a newer revision during the analysis restarts it at 100/0")
    func restart() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary()
            try await harness.initialise()
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            try await harness.tick()
            try await harness.tick()
            #expect(try await harness.splitWeights()?.1 == 10)
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.2")
            try await harness.tick()
            let split = try await harness.splitWeights()
            #expect(split?.0 == 100 && split?.1 == 0)
            #expect(try await harness.canary()["status", "failedChecks"] == 0)
            #expect(harness.messages.contains("New revision detected! Restarting analysis for podinfo.default"))
        }
    }

    @Test("reverting to the promoted template starts nothing")
    func revert() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary(["stepWeight": 50, "maxWeight": 50])
            try await harness.initialise()
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            for _ in 0..<6 where try await harness.phase() != "Succeeded" { try await harness.tick() }
            #expect(try await harness.phase() == "Succeeded")
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            #expect(try await harness.tick() == .idle)
            // Back to the previous template: also the last promoted one? No: 6.0.1 is promoted now.
            #expect(try await harness.phase() == "Succeeded")
        }
    }

    @Test("skipAnalysis promotes at once")
    func skipAnalysis() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary([:], spec: ["skipAnalysis": true])
            try await harness.initialise()
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            try await harness.tick()
            try await harness.tick()
            #expect(try await harness.phase() == "Succeeded")
            #expect(harness.messages.contains("Promotion completed! Canary analysis was skipped for podinfo.default"))
        }
    }

    @Test("port discovery: the canary service gets every container port")
    func portDiscovery() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary([:], spec: ["service": ["port": 9898, "portDiscovery": true]])
            try await harness.initialise()
            let service = try await harness.client.get("/api/v1/namespaces/default/services/podinfo-canary")
            let ports = (service["spec", "ports"]?.arrayValue ?? []).map {
                "\($0["name"]?.stringValue ?? "") \($0["port"]?.intValue ?? 0)"
            }
            #expect(Set(ports) == ["http 9898", "http-metrics 8080", "tcp-podinfod-2 8888"])
        }
    }

    @Test("a canary that never becomes ready is rolled back after progressDeadlineSeconds (we differ)")
    func progressDeadline() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary([:], spec: ["progressDeadlineSeconds": 60])
            try await harness.initialise()
            _ = try await harness.client.patch(
                "\(harness.deployments)/podinfo",
                ["spec": ["template": ["metadata": ["annotations": ["playground.fledge.dev/ready": "false"]]]]],
                type: .merge
            )
            try await harness.tick()
            #expect(try await harness.phase() == "Progressing")
            try await harness.tick()
            #expect(harness.messages.last?.hasPrefix("canary deployment podinfo.default not ready") == true)
            harness.clock.advance(by: .seconds(61))
            try await harness.tick()
            #expect(try await harness.phase() == "Failed")
            #expect(
                harness.messages.contains { $0.hasPrefix("Rolling back podinfo.default progress deadline exceeded") }
            )
        }
    }
}
