import CanaryModel
import JSONValue
import KubeModels
import Progression
import Testing

@Suite("Release rules as tables")
struct ReleaseRulesTests {
    static func deployment(
        generation: Int64 = 1,
        observed: Int64 = 1,
        replicas: Int64 = 4,
        updated: Int64 = 4,
        total: Int64 = 4,
        available: Int64 = 4,
        reason: String = "NewReplicaSetAvailable"
    ) -> JSONValue {
        [
            "metadata": ["name": "podinfo", "generation": .int(generation)],
            "spec": ["replicas": .int(replicas)],
            "status": [
                "observedGeneration": .int(observed), "replicas": .int(total), "updatedReplicas": .int(updated),
                "availableReplicas": .int(available),
                "conditions": [["type": "Progressing", "status": "True", "reason": .string(reason)]],
            ],
        ]
    }

    @Test(
        "readiness follows the deployment's own status (SCENARIOS.md)",
        arguments: [
            (
                deployment(generation: 2, observed: 1), 100,
                "observed deployment generation less than desired generation"
            ),
            (deployment(reason: "ProgressDeadlineExceeded"), 100, "FAILED"),
            (deployment(updated: 2), 100, "2 out of 4 new replicas have been updated"),
            (deployment(total: 6), 100, "2 old replicas are pending termination"),
            (deployment(available: 3), 100, "3 of 4 (readyThreshold 100%) updated replicas are available"),
            (deployment(available: 2), 50, "READY"),
            (deployment(available: 1), 50, "1 of 4 (readyThreshold 50%) updated replicas are available"),
            (deployment(), 100, "READY"),
        ]
    )
    func readiness(deployment: JSONValue, threshold: Int, expected: String) throws {
        let typed = try JSONValueDecoder().decode(Deployment.self, from: deployment)
        switch ReleaseRules.deploymentReadiness(typed, threshold: threshold) {
        case .ready: #expect(expected == "READY")
        case .failed: #expect(expected == "FAILED")
        case .waiting(let why): #expect(why.hasSuffix(expected), "\(why)")
        }
    }

    static func analysis(step: Int? = nil, steps: [Int]? = nil, max: Int? = nil) -> CanaryAnalysis {
        var analysis = CanaryAnalysis()
        analysis.stepWeight = step
        analysis.stepWeights = steps
        analysis.maxWeight = max
        return analysis
    }

    @Test(
        "canary weights step to the maximum and never past it (we clamp the last step)",
        arguments: [
            (analysis(step: 20, max: 50), [20, 40, 50]),
            (analysis(step: 50, max: 100), [50, 100]),
            (analysis(steps: [1, 2, 10, 80]), [1, 2, 10, 80]),
            (analysis(step: 5, max: 100), Array(stride(from: 5, through: 100, by: 5))),
        ]
    )
    func weights(analysis: CanaryAnalysis, expected: [Int]) {
        var weights: [Int] = []
        var weight = 0
        while weight < ReleaseRules.maxWeight(analysis), weights.count < 50 {
            weight = ReleaseRules.nextWeight(after: weight, analysis: analysis)
            weights.append(weight)
        }
        #expect(weights == expected)
    }

    @Test("a template equal to the last promoted one starts nothing; a new one or a changed config does")
    func revisions() {
        var status = CanaryStatus(phase: .succeeded)
        status.lastAppliedSpec = "b"
        status.lastPromotedSpec = "a"
        status.trackedConfigs = ["configmap/x": "1"]
        #expect(ReleaseRules.revision(status: status, templateHash: "a", configs: ["configmap/x": "1"]) == .unchanged)
        #expect(ReleaseRules.revision(status: status, templateHash: "c", configs: ["configmap/x": "1"]) == .changed)
        #expect(ReleaseRules.revision(status: status, templateHash: "b", configs: ["configmap/x": "2"]) == .changed)
        #expect(ReleaseRules.revision(status: status, templateHash: "b", configs: ["configmap/x": "1"]) == .unchanged)
        #expect(ReleaseRules.revision(status: nil, templateHash: "b", configs: [:]) == .changed)
    }
}
