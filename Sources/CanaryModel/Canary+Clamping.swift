extension Canary {
    /// The most failed checks, iterations or steps counted; far beyond any real release, small enough that no
    /// arithmetic on it can overflow.
    public static let countLimit = 1_000_000

    /// The Canary with every number the worker computes with brought into range: weights and percentages to
    /// 0–100, counts to 0–``countLimit``, ports to 1–65535, replicas and seconds to 32-bit ranges.
    ///
    /// A Canary stored before Fledge's admission gate ran (Flagger's, or one written while the gate was down) or a
    /// status edited by hand can hold any integer; clamped, no value read from the cluster can make the worker trap.
    public func clampedForRelease() -> Canary {
        var canary = self
        func clamp(_ value: Int?, _ range: ClosedRange<Int>) -> Int? {
            value.map { min(max($0, range.lowerBound), range.upperBound) }
        }
        let counts = 0...Self.countLimit
        let percent = 0...100
        canary.spec.progressDeadlineSeconds = clamp(spec.progressDeadlineSeconds, 0...Int(Int32.max))
        for member in [\CanarySpec.analysis, \CanarySpec.canaryAnalysis] {
            guard var analysis = canary.spec[keyPath: member] else { continue }
            analysis.iterations = clamp(analysis.iterations, counts)
            // Flagger counts a threshold below 1 as 1: a release tolerates no failed check, not less than none.
            analysis.threshold = clamp(analysis.threshold, 1...Self.countLimit)
            analysis.maxWeight = clamp(analysis.maxWeight, percent)
            analysis.stepWeight = clamp(analysis.stepWeight, percent)
            analysis.stepWeights = analysis.stepWeights?.map { min(max($0, 0), 100) }
            analysis.stepWeightPromotion = clamp(analysis.stepWeightPromotion, percent)
            analysis.mirrorWeight = clamp(analysis.mirrorWeight, percent)
            analysis.primaryReadyThreshold = clamp(analysis.primaryReadyThreshold, percent)
            analysis.canaryReadyThreshold = clamp(analysis.canaryReadyThreshold, percent)
            analysis.webhooks = analysis.webhooks?.map { hook in
                var hook = hook
                hook.retries = clamp(hook.retries, 0...CanaryLimits.webhookRetries)
                return hook
            }
            canary.spec[keyPath: member] = analysis
        }
        if var service = canary.spec.service {
            service.port = clamp(service.port, 1...65535)
            canary.spec.service = service
        }
        if var scaler = canary.spec.autoscalerRef?.primaryScalerReplicas {
            scaler.minReplicas = clamp(scaler.minReplicas, 0...Int(Int32.max))
            scaler.maxReplicas = clamp(scaler.maxReplicas, 0...Int(Int32.max))
            canary.spec.autoscalerRef?.primaryScalerReplicas = scaler
        }
        if var status = canary.status {
            status.failedChecks = clamp(status.failedChecks, counts)
            status.iterations = clamp(status.iterations, counts)
            status.previousIterations = clamp(status.previousIterations, counts)
            status.canaryWeight = clamp(status.canaryWeight, percent)
            canary.status = status
        }
        return canary
    }
}
