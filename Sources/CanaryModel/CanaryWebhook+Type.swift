/// The types of `analysis.webhooks[]`, named as Flagger names them: when each hook is called and what its answer
/// means.
public enum WebhookType: String, Sendable, Hashable, CaseIterable {
    /// Before a new revision is scaled up; a refusal pauses the release in phase Waiting.
    case confirmRollout = "confirm-rollout"
    /// Once, before any traffic moves to the canary; a failure is a failed check.
    case preRollout = "pre-rollout"
    /// At every analysis step, before the metrics; a failure is a failed check. An empty type means this.
    case rollout
    /// Before the primary is promoted; a refusal pauses the release in phase WaitingPromotion.
    case confirmPromotion = "confirm-promotion"
    /// After the release ends, promoted or rolled back; the answer is only reported.
    case postRollout = "post-rollout"
    /// With every event the controller records.
    case event
    /// At every analysis step; the first that answers success rolls the release back.
    case rollback
    /// Before each weight step; a refusal holds the weight where it is.
    case confirmTrafficIncrease = "confirm-traffic-increase"

    /// The words that open the event of a passed check, e.g. `Confirm-rollout` in `Confirm-rollout check gate passed`.
    public var eventLabel: String { rawValue.prefix(1).uppercased() + rawValue.dropFirst() }
}

extension CanaryWebhook {
    /// The hook's ``WebhookType``: `rollout` when the type is absent or empty, nil for a type Flagger does not know.
    public var webhookType: WebhookType? {
        guard let type, !type.isEmpty else { return .rollout }
        return WebhookType(rawValue: type)
    }
}
