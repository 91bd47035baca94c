import CanaryModel
import JSONValue
import KubeModels

/// Whether a workload can take traffic, judged from its own status as Flagger does.
public enum Readiness: Sendable, Equatable {
    case ready
    /// Not yet; check again next tick (no failed check).
    case waiting(String)
    /// Will never become ready (its progress deadline passed): roll back.
    case failed(String)
}

/// The pure rules of a release: readiness, weight arithmetic, revision detection. No I/O.
public enum ReleaseRules {
    /// Readiness of a Deployment: generation observed, every replica updated, no old replicas left, and at least
    /// `threshold` percent of the updated replicas available.
    ///
    /// Every count is read clamped (replicas to 0…2³¹−1, the threshold to 0–100), so no value in the object can make
    /// the arithmetic trap.
    public static func deploymentReadiness(_ deployment: Deployment, threshold: Int = 100) -> Readiness {
        func count(_ value: Int32?, _ absent: Int32) -> Int64 { Int64(max(value ?? absent, 0)) }
        let threshold = min(max(threshold, 0), 100)
        let generation = deployment.metadata.generation ?? 0
        let status = deployment.status
        let observed = status?.observedGeneration ?? 0
        guard generation <= observed else {
            return .waiting(
                "waiting for rollout to finish: observed deployment generation less than desired generation"
            )
        }
        if (status?.conditions ?? []).contains(where: {
            $0.type == "Progressing" && $0.reason == "ProgressDeadlineExceeded"
        }) {
            return .failed("deployment \"\(deployment.metadata.name ?? "")\" exceeded its progress deadline")
        }
        let desired = count(deployment.spec?.replicas, 1)
        let updated = count(status?.updatedReplicas, 0)
        let replicas = count(status?.replicas, 0)
        let available = count(status?.availableReplicas, 0)
        if updated < desired {
            return .waiting(
                "waiting for rollout to finish: \(updated) out of \(desired) new replicas have been updated"
            )
        }
        if replicas > updated {
            return .waiting("waiting for rollout to finish: \(replicas - updated) old replicas are pending termination")
        }
        let needed = Int64((Double(updated) * Double(threshold) / 100).rounded(.up))
        if available < needed {
            return .waiting(
                "waiting for rollout to finish: \(available) of \(updated) (readyThreshold \(threshold)%) updated replicas are available"
            )
        }
        return .ready
    }

    /// The canary weight after the next step: `stepWeight` added, or the next of `stepWeights`; never above
    /// `maxWeight` (Flagger overshoots; we clamp).
    public static func nextWeight(after current: Int, analysis: CanaryAnalysis) -> Int {
        let maximum = maxWeight(analysis)
        if let steps = analysis.stepWeights, !steps.isEmpty {
            let next = steps.first { $0 > current } ?? maximum
            return min(next, maximum)
        }
        let step = min(max(analysis.stepWeight ?? 0, 1), 100)
        return min(min(max(current, 0), 100) + step, maximum)
    }

    /// The weight at which promotion starts.
    public static func maxWeight(_ analysis: CanaryAnalysis) -> Int {
        if let steps = analysis.stepWeights, let last = steps.last { return min(analysis.maxWeight ?? last, 100) }
        return min(analysis.maxWeight ?? 100, 100)
    }

    /// The primary weight after one step of promotion traffic shifting.
    public static func promotionStep(primaryWeight: Int, analysis: CanaryAnalysis) -> Int {
        guard let step = analysis.stepWeightPromotion, step > 0 else { return 100 }
        return min(min(max(primaryWeight, 0), 100) + min(step, 100), 100)
    }

    /// What a target's revision means for the Canary.
    public enum RevisionChange: Sendable, Equatable {
        case unchanged
        /// A new revision: start (or restart) a release.
        case changed
    }

    /// Compares the target's pod-template hash and tracked config checksums with the status: a template equal to
    /// the last promoted one (a manual revert) starts nothing.
    public static func revision(
        status: CanaryStatus?,
        templateHash: String,
        configs: [String: String]
    ) -> RevisionChange {
        guard let status, let applied = status.lastAppliedSpec, !applied.isEmpty else { return .changed }
        if applied != templateHash {
            return status.lastPromotedSpec == templateHash ? .unchanged : .changed
        }
        let tracked = status.trackedConfigs ?? [:]
        if !configs.isEmpty || !tracked.isEmpty, tracked != configs { return .changed }
        return .unchanged
    }

    /// The `Promoted` condition of a phase: True for Initialized/Succeeded, False for Failed, Unknown otherwise.
    public static func promotedCondition(phase: CanaryPhase) -> (status: String, message: String) {
        switch phase {
        case .initialized: return ("True", "Deployment initialization completed.")
        case .succeeded: return ("True", "Canary analysis completed successfully, promotion finished.")
        case .failed: return ("False", "Canary analysis failed, Deployment scaled to zero.")
        case .waiting: return ("Unknown", "Waiting for approval.")
        case .waitingPromotion: return ("Unknown", "Waiting for approval.")
        case .progressing: return ("Unknown", "New revision detected, progressing canary analysis.")
        case .promoting: return ("Unknown", "Canary analysis completed, starting primary rolling update.")
        case .finalising: return ("Unknown", "Canary analysis completed, routing all traffic to primary.")
        default: return ("Unknown", "New Deployment detected, starting initialization.")
        }
    }

    /// The label whose value selects the target's pods (`app`, `name` or `app.kubernetes.io/name`), with its value.
    public static func selectorLabel(of workload: Deployment) -> (key: String, value: String)? {
        let labels = workload.spec?.selector?.matchLabels ?? [:]
        for key in ["app", "name", "app.kubernetes.io/name"] {
            if let value = labels[key] { return (key, value) }
        }
        return nil
    }
}

extension ReleaseRules {
    /// The reason in a readiness, for messages.
    public static func readinessText(_ readiness: Readiness) -> String {
        switch readiness {
        case .ready: return "ready"
        case .waiting(let why), .failed(let why): return why
        }
    }
}
