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

    @Test(
        "each traffic provider writes its own object and version: weights as integers for SMI v1alpha2/v1alpha3 and HTTPRoute v1beta1",
        arguments: [
            ("smi:v1alpha2", "/apis/split.smi-spec.io/v1alpha2/namespaces/default/trafficsplits/podinfo"),
            ("smi:v1alpha3", "/apis/split.smi-spec.io/v1alpha3/namespaces/default/trafficsplits/podinfo"),
            ("gatewayapi:v1beta1", "/apis/gateway.networking.k8s.io/v1beta1/namespaces/default/httproutes/podinfo"),
        ]
    )
    func providers(provider: String, path: String) async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            var spec: [String: JSONValue] = ["provider": .string(provider)]
            if provider.hasPrefix("gatewayapi") {
                spec["service"] = [
                    "port": 9898,
                    "gatewayRefs": [["name": "podinfo", "kind": "Service", "group": "core", "port": 9898]],
                ]
            }
            try await harness.installCanary(["stepWeight": 25, "maxWeight": 50], spec: spec)
            try await harness.initialise()
            /// The canary backend's weight, as written (an integer, never a quantity string, in these versions).
            func canaryWeight() async throws -> JSONValue? {
                let object = try await harness.client.get(path)
                #expect(
                    object["apiVersion"]?.stringValue
                        == String(path.split(separator: "/")[1...2].joined(separator: "/"))
                )
                let backends =
                    object["spec", "backends"]?.arrayValue ?? object["spec", "rules"]?[0]?["backendRefs"]?.arrayValue
                    ?? []
                let canary = backends.first {
                    ($0["service"]?.stringValue ?? $0["name"]?.stringValue) == "podinfo-canary"
                }
                return canary?["weight"]
            }
            #expect(try await canaryWeight() == 0)
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            var weights: [JSONValue?] = []
            for _ in 0..<6 {
                try await harness.tick()
                weights.append(try await canaryWeight())
            }
            #expect(weights == [0, 25, 50, 50, 0, 0])
            #expect(try await harness.phase() == "Succeeded")
        }
    }

    @Test("the kubernetes provider: blue/green with no traffic object, iterations 1")
    func kubernetesProvider() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary(
                ["stepWeight": nil, "maxWeight": nil, "iterations": 1],
                spec: ["provider": "kubernetes"]
            )
            try await harness.initialise()
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            var phases: [String] = []
            for _ in 0..<6 where try await harness.phase() != "Succeeded" {
                try await harness.tick()
                phases.append(try await harness.phase() ?? "")
            }
            #expect(phases.first == "Progressing")
            #expect(Array(phases.suffix(3)) == ["Promoting", "Finalising", "Succeeded"], "\(phases)")
            #expect(try await harness.splitWeights() == nil, "no TrafficSplit for the kubernetes provider")
            let apex = try await harness.client.get("/api/v1/namespaces/default/services/podinfo")
            #expect(apex["spec", "selector"] == ["app": "podinfo-primary"])
            let primary = try await harness.client.get("\(harness.deployments)/podinfo-primary")
            #expect(
                primary["spec", "template", "spec", "containers"]?[0]?["image"] == "ghcr.io/stefanprodan/podinfo:6.0.1"
            )
        }
    }

    @Test("suspend: a suspended Canary starts nothing; resumed, the release runs")
    func suspend() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary()
            try await harness.initialise()
            _ = try await harness.client.patch("\(harness.canaries)/podinfo", ["spec": ["suspend": true]], type: .merge)
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            #expect(try await harness.tick() == .idle)
            #expect(try await harness.phase() == "Initialized")
            #expect(try await harness.replicas("podinfo") == 0)
            _ = try await harness.client.patch(
                "\(harness.canaries)/podinfo",
                ["spec": ["suspend": false]],
                type: .merge
            )
            try await harness.tick()
            #expect(try await harness.phase() == "Progressing")
        }
    }

    @Test("a rollback hook that answers success rolls the release back")
    func rollbackHook() async throws {
        try await withHarness { harness in
            harness.receiver.state.statuses.withLock { $0["/rollback"] = 403 }
            try await harness.installWorkload()
            try await harness.installCanary([
                "webhooks": [["name": "stop", "type": "rollback", "url": .string("\(harness.receiver.url)/rollback")]]
            ])
            try await harness.initialise()
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            try await harness.tick()
            try await harness.tick()
            #expect(try await harness.canaryWeight() == 10)
            harness.receiver.state.statuses.withLock { $0["/rollback"] = 200 }
            try await harness.tick()
            #expect(try await harness.phase() == "Failed")
            #expect(harness.messages.contains("Rolling back podinfo.default manual webhook invoked"))
            let split = try await harness.splitWeights()
            #expect(split?.0 == 100 && split?.1 == 0)
            #expect(try await harness.replicas("podinfo") == 0)
        }
    }

    @Test("the target's HPA is copied for the primary, pointing at it")
    func primaryHPA() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            _ = try await harness.client.create(
                "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers",
                [
                    "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": ["name": "podinfo"],
                    "spec": [
                        "scaleTargetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"],
                        "minReplicas": 2, "maxReplicas": 4,
                        "metrics": [
                            [
                                "type": "Resource",
                                "resource": [
                                    "name": "cpu", "target": ["type": "Utilization", "averageUtilization": 99],
                                ],
                            ]
                        ],
                    ],
                ]
            )
            try await harness.installCanary(
                [:],
                spec: [
                    "autoscalerRef": [
                        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "name": "podinfo",
                        "primaryScalerReplicas": ["minReplicas": 3, "maxReplicas": 6],
                    ]
                ]
            )
            try await harness.initialise()
            let hpa = try await harness.client.get(
                "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/podinfo-primary"
            )
            #expect(hpa["spec", "scaleTargetRef", "name"] == "podinfo-primary")
            #expect(hpa["spec", "minReplicas"] == 3)
            #expect(hpa["spec", "maxReplicas"] == 6)
            #expect(hpa["spec", "metrics"]?[0]?["resource", "name"] == "cpu")
            #expect(hpa["metadata", "ownerReferences"]?[0]?["kind"] == "Canary")
        }
    }

    @Test("a message repeated every tick is one Event whose count grows, as client-go's recorder does")
    func eventCounts() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary()
            try await harness.initialise()
            try await harness.setReady("podinfo", false)
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            for _ in 0..<4 { try await harness.tick() }
            let repeated = harness.messages.filter { $0.hasPrefix("canary deployment podinfo.default not ready") }
            #expect(repeated.count == 3, "\(harness.messages)")
            let events = try await harness.client.listAll("/api/v1/namespaces/default/events").filter {
                $0["message"]?.stringValue?.hasPrefix("canary deployment podinfo.default not ready") == true
            }
            #expect(Set(repeated).count < repeated.count, "some message repeats")
            #expect(events.count == Set(repeated).count)
            #expect(events.map { $0["count"]?.intValue ?? 0 }.reduce(0, +) == Int64(repeated.count))
            #expect(events.allSatisfy { $0["type"] == "Warning" && $0["reason"] == "Synced" })
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

    @Test("reverting the target to the promoted template after a failed release starts nothing (a manual rollback)")
    func revert() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary(["stepWeight": 50, "maxWeight": 50])
            try await harness.initialise()
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            for _ in 0..<6 where try await harness.phase() != "Succeeded" { try await harness.tick() }
            #expect(try await harness.phase() == "Succeeded")
            let promoted = try await harness.canary()["status", "lastPromotedSpec"]
            // 6.0.2 fails its analysis.
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.2")
            try await harness.tick()
            #expect(try await harness.phase() == "Progressing")
            try await harness.annotate("abort")
            try await harness.tick()
            #expect(try await harness.phase() == "Failed")
            // The user puts the promoted image back on the target: the same template as the primary's.
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            let revisions = harness.messages.filter { $0.hasPrefix("New revision detected") }.count
            #expect(try await harness.tick() == .idle)
            #expect(try await harness.tick() == .idle)
            #expect(harness.messages.filter { $0.hasPrefix("New revision detected") }.count == revisions)
            #expect(try await harness.phase() == "Failed")
            #expect(try await harness.canary()["status", "lastPromotedSpec"] == promoted)
            #expect(try await harness.replicas("podinfo") == 0)
            // A genuinely new revision still starts a release.
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.3")
            try await harness.tick()
            #expect(try await harness.phase() == "Progressing")
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
            try await harness.setReady("podinfo", false)
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

    @Test("promotion copies configs: changed ConfigMap and Secret restart the analysis and reach the primary's copies")
    func promotionCopiesConfigs() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary()
            try await harness.initialise()
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            try await harness.tick()
            #expect(try await harness.phase() == "Progressing")
            _ = try await harness.client.patch(
                "/api/v1/namespaces/default/configmaps/podinfo-config-env",
                ["data": ["color": "red"]],
                type: .merge
            )
            _ = try await harness.client.patch(
                "/api/v1/namespaces/default/secrets/podinfo-secret-env",
                ["data": ["password": .string(Data("rotated".utf8).base64EncodedString())]],
                type: .merge
            )
            try await harness.tick()
            #expect(harness.messages.last == "New revision detected! Restarting analysis for podinfo.default")
            // As Flagger's test does: move the routes to 60/40 behind the worker's back.
            try await harness.setSplit(primary: 60, canary: 40)
            try await harness.tick()
            #expect(try await harness.phase() == "Progressing")
            #expect(try await harness.splitWeights()?.1 == 50)
            try await harness.tick()
            #expect(try await harness.phase() == "Promoting")
            try await harness.tick()
            #expect(try await harness.phase() == "Finalising")
            let split = try await harness.splitWeights()
            #expect(split?.0 == 100 && split?.1 == 0)
            let primary = try await harness.client.get("\(harness.deployments)/podinfo-primary")
            #expect(
                primary["spec", "template", "spec", "containers"]?[0]?["image"] == "ghcr.io/stefanprodan/podinfo:6.0.1"
            )
            let config = try await harness.client.get(
                "/api/v1/namespaces/default/configmaps/podinfo-config-env-primary"
            )
            #expect(config["data", "color"] == "red")
            let secret = try await harness.client.get("/api/v1/namespaces/default/secrets/podinfo-secret-env-primary")
            #expect(secret["data", "password"] == .string(Data("rotated".utf8).base64EncodedString()))
            try await harness.tick()
            #expect(try await harness.phase() == "Succeeded")
        }
    }

    @Test("primary fails during promotion: all traffic to the canary, which keeps running; Failed at weight 100")
    func primaryFailsDuringPromotion() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary(["stepWeight": 50, "maxWeight": 50, "stepWeightPromotion": 50])
            try await harness.initialise()
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            try await harness.tick()
            try await harness.tick()
            try await harness.tick()
            #expect(try await harness.phase() == "Promoting")
            let split = try await harness.splitWeights()
            #expect(split?.0 == 50 && split?.1 == 50)
            // The primary's rollout of the promoted template never finishes and passes its deadline.
            try await harness.setReady("podinfo-primary", false, progressDeadlineSeconds: 1)
            try await harness.waitForCondition("podinfo-primary", reason: "ProgressDeadlineExceeded")
            try await harness.tick()
            #expect(try await harness.phase() == "Failed")
            #expect(try await harness.canaryWeight() == 100)
            let after = try await harness.splitWeights()
            #expect(after?.0 == 0 && after?.1 == 100)
            #expect(try await harness.replicas("podinfo") == 1)
            #expect(
                harness.messages.last
                    == "Promotion failed! podinfo-primary.default deployment \"podinfo-primary\" exceeded its "
                    + "progress deadline; routing all traffic to the canary podinfo.default, which keeps running"
            )
            let condition = try await harness.canary()["status", "conditions"]?[0]
            #expect(condition?["status"] == "False")
            // Nothing more happens until a new revision.
            #expect(try await harness.tick() == .idle)
            #expect(try await harness.splitWeights()?.1 == 100)
            // A new revision waits for the primary, with all traffic still on the canary.
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.2")
            #expect(try await harness.tick() == .idle)
            #expect(harness.messages.last?.hasPrefix("podinfo-primary.default not ready:") == true)
            #expect(try await harness.splitWeights()?.1 == 100)
            // Once the primary is ready again, the release starts from all traffic on the primary.
            try await harness.setReady("podinfo-primary", true)
            try await harness.settle()
            try await harness.tick()
            #expect(try await harness.phase() == "Progressing")
            let restarted = try await harness.splitWeights()
            #expect(restarted?.0 == 100 && restarted?.1 == 0)
        }
    }

    @Test("after a failed promotion, a new revision waiting at confirm-rollout takes no traffic; analysis starts at 0")
    func failedPromotionThenGate() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary([
                "stepWeight": 50, "maxWeight": 50, "stepWeightPromotion": 50,
                "webhooks": [
                    ["name": "gate", "type": "confirm-rollout", "url": .string("\(harness.receiver.url)/gate")]
                ],
            ])
            try await harness.initialise()
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            for _ in 0..<3 { try await harness.tick() }
            #expect(try await harness.phase() == "Promoting")
            try await harness.setReady("podinfo-primary", false, progressDeadlineSeconds: 1)
            try await harness.waitForCondition("podinfo-primary", reason: "ProgressDeadlineExceeded")
            try await harness.tick()
            #expect(try await harness.phase() == "Failed")
            #expect(try await harness.splitWeights()?.1 == 100)
            try await harness.setReady("podinfo-primary", true)
            try await harness.settle()
            harness.receiver.state.statuses.withLock { $0["/gate"] = 403 }
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.2")
            try await harness.tick()
            #expect(try await harness.phase() == "Waiting")
            let waiting = try await harness.splitWeights()
            #expect(waiting?.0 == 100 && waiting?.1 == 0)
            harness.receiver.state.statuses.withLock { $0["/gate"] = 200 }
            try await harness.tick()
            #expect(try await harness.phase() == "Progressing")
            let started = try await harness.splitWeights()
            #expect(started?.0 == 100 && started?.1 == 0)
        }
    }

    @Test("a MetricTemplate through a release: variables rendered, bearer token from its Secret, render errors fail")
    func metricTemplate() async throws {
        try await withHarness { harness in
            _ = try await harness.client.create(
                "/api/v1/namespaces/default/secrets",
                [
                    "metadata": ["name": "prom-auth"],
                    "data": ["token": .string(Data("s3cret".utf8).base64EncodedString())],
                ]
            )
            _ = try await harness.client.create(
                "/apis/flagger.app/v1beta1/namespaces/default/metrictemplates",
                [
                    "apiVersion": "flagger.app/v1beta1", "kind": "MetricTemplate", "metadata": ["name": "errors"],
                    "spec": [
                        "provider": [
                            "type": "prometheus", "address": .string(harness.receiver.url),
                            "secretRef": ["name": "prom-auth"],
                        ],
                        "query":
                            #"sum(rate(errors{namespace="{{ namespace }}",app="{{ target }}",env="{{ variables.env }}"}[{{ interval }}]))"#,
                    ],
                ]
            )
            try await harness.installWorkload()
            try await harness.installCanary([
                "stepWeight": 25, "maxWeight": 50, "threshold": 2,
                "metrics": [
                    [
                        "name": "errors", "templateRef": ["name": "errors"], "thresholdRange": ["max": 200],
                        "interval": "2m", "templateVariables": ["env": "prod"],
                    ]
                ],
            ])
            try await harness.initialise()
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            try await harness.tick()
            try await harness.tick()
            try await harness.tick()
            #expect(
                harness.receiver.state.queries.withLock { $0 }.last
                    == #"sum(rate(errors{namespace="default",app="podinfo",env="prod"}[2m]))"#
            )
            #expect(harness.receiver.state.authorizations.withLock { $0 }.last == "Bearer s3cret")
            #expect(try await harness.canaryWeight() == 50)
            // A variable the template uses but the metric no longer defines: a failed check in Flagger's words.
            _ = try await harness.client.patch(
                "\(harness.canaries)/podinfo",
                [
                    "spec": [
                        "analysis": [
                            "metrics": [
                                [
                                    "name": "errors", "templateRef": ["name": "errors"],
                                    "thresholdRange": ["max": 200], "interval": "2m",
                                ]
                            ]
                        ]
                    ]
                ],
                type: .merge
            )
            try await harness.tick()
            #expect(try await harness.canary()["status", "failedChecks"] == 1, "\(harness.messages)")
            #expect(
                harness.messages.last?.hasPrefix("Metric template errors.default query render error: ") == true,
                "\(harness.messages.last ?? "")"
            )
            #expect(harness.messages.last?.contains("\"env\"") == true)
        }
    }

    @Test("a primary still rolling out progressDeadlineSeconds after promotion started counts as failed (we differ)")
    func primaryStuckDuringPromotion() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary(
                ["stepWeight": 50, "maxWeight": 50],
                spec: ["progressDeadlineSeconds": 60]
            )
            try await harness.initialise()
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            try await harness.tick()
            try await harness.tick()
            try await harness.tick()
            #expect(try await harness.phase() == "Promoting")
            try await harness.setReady("podinfo-primary", false)
            try await harness.tick()
            #expect(try await harness.phase() == "Promoting")
            #expect(harness.messages.last?.hasPrefix("podinfo-primary.default not ready: waiting for rollout") == true)
            harness.clock.advance(by: .seconds(61))
            try await harness.tick()
            #expect(try await harness.phase() == "Failed")
            #expect(try await harness.splitWeights()?.1 == 100)
            #expect(
                harness.messages.last?.hasPrefix("Promotion failed! podinfo-primary.default not ready after 60s")
                    == true
            )
        }
    }

    // Flagger's fake client accepts `http-metrics 8080` beside the main port 8080; kube-apiserver refuses a Service
    // with a port number twice, so the discovered duplicate is left out.
    @Test(
        "service ports: targetPort by number or by name, with port discovery",
        arguments: [
            (80, JSONValue.int(9898), Set(["http 80>9898", "http-metrics 8080>8080", "tcp-podinfod-2 8888>8888"])),
            (8080, JSONValue.string("http"), Set(["http 8080>http", "tcp-podinfod-2 8888>8888"])),
        ]
    )
    func targetPorts(port: Int, targetPort: JSONValue, expected: Set<String>) async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary(
                [:],
                spec: ["service": ["port": .int(Int64(port)), "targetPort": targetPort, "portDiscovery": true]]
            )
            try await harness.initialise()
            let service = try await harness.client.get("/api/v1/namespaces/default/services/podinfo-canary")
            let ports = (service["spec", "ports"]?.arrayValue ?? []).map { port -> String in
                let target = port["targetPort"]?.stringValue ?? port["targetPort"]?.intValue.map { String($0) } ?? ""
                return "\(port["name"]?.stringValue ?? "") \(port["port"]?.intValue ?? 0)>\(target)"
            }
            #expect(Set(ports) == expected)
        }
    }

    @Test("a DaemonSet target is not released: a warning event says so and nothing is created")
    func daemonSetTarget() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary(
                [:],
                spec: ["targetRef": ["apiVersion": "apps/v1", "kind": "DaemonSet", "name": "podinfo"]]
            )
            #expect(try await harness.tick() == .idle)
            #expect(
                harness.messages.last
                    == "DaemonSet podinfo.default cannot be released: Fledge releases Deployments only "
                    + "(set spec.targetRef.kind: Deployment)"
            )
            #expect(try await harness.client.getIfPresent("\(harness.deployments)/podinfo-primary") == nil)
        }
    }
}
