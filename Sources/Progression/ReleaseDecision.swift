import CanaryModel

/// What one tick knows once it has read the Canary, its target and its primary: the input of
/// ``ReleaseRules/decide(_:)``.
public struct TickFacts: Sendable, Equatable {
    /// The Canary's phase (Initialized again for a `fledge retry` of a Failed release).
    public var phase: CanaryPhase
    /// Whether the target's template or tracked configs differ from the last applied revision.
    public var change: ReleaseRules.RevisionChange
    /// The primary's readiness.
    public var primary: Readiness
    /// Why the primary will never finish rolling out the promoted template, when that is so.
    public var primaryFailure: String?
    /// The canary's readiness, `.failed` once it has waited past `progressDeadlineSeconds` (we differ from Flagger).
    public var canary: Readiness
    public var skipAnalysis: Bool
    /// The `fledge.dev/action` read this tick.
    public var action: ReleaseAction?

    public init(
        phase: CanaryPhase,
        change: ReleaseRules.RevisionChange,
        primary: Readiness,
        primaryFailure: String? = nil,
        canary: Readiness,
        skipAnalysis: Bool = false,
        action: ReleaseAction? = nil
    ) {
        self.phase = phase
        self.change = change
        self.primary = primary
        self.primaryFailure = primaryFailure
        self.canary = canary
        self.skipAnalysis = skipAnalysis
        self.action = action
    }
}

/// What a tick does, decided from ``TickFacts`` alone; the ``Releaser`` carries it out.
public enum TickDecision: Sendable, Equatable {
    /// No release and nothing new.
    case idle
    /// The primary is not ready: wait (a warning, no failed check).
    case waitForPrimary(String)
    /// The primary will not finish rolling out the promoted template: the canary keeps the traffic, phase Failed.
    case failPromotion(String)
    /// `fledge abort`: roll back now.
    case abort
    /// A new revision: reset traffic to the primary, pass confirm-rollout, scale up, Progressing.
    case startRelease
    /// A newer revision during the analysis: traffic back to 100/0, counters reset.
    case restartAnalysis
    /// The canary is not ready yet: wait (a warning, no failed check).
    case waitForCanary(String)
    /// `skipAnalysis`: promote at once.
    case promoteSkippingAnalysis
    /// Go on with the release: rollback hooks, promotion steps, the failed-check threshold, checks and the next
    /// step. `canaryFailure` is set when the canary will never be ready (rolled back as not retriable).
    case proceed(canaryFailure: String?)
}

extension ReleaseRules {
    /// The phases in which a release is under way.
    public static let releasePhases: Set<CanaryPhase> = [
        .progressing, .waiting, .waitingPromotion, .promoting, .finalising,
    ]

    /// The release state machine's dispatch (BEHAVIOUR.md §3, with our differences of §8), in Flagger's order.
    public static func decide(_ facts: TickFacts) -> TickDecision {
        let phase = facts.phase
        let inRelease = releasePhases.contains(phase)
        if !inRelease, facts.change == .unchanged { return .idle }
        if !facts.skipAnalysis, facts.primary != .ready {
            if phase == .promoting || phase == .finalising, let failure = facts.primaryFailure {
                return .failPromotion(failure)
            }
            return .waitForPrimary(readinessText(facts.primary))
        }
        if facts.action == .abort, phase == .waiting { return .abort }
        if !inRelease || phase == .waiting { return .startRelease }
        if phase == .progressing || phase == .waitingPromotion, facts.change == .changed { return .restartAnalysis }
        // `fledge abort` needs no ready canary.
        if facts.action == .abort, phase == .progressing || phase == .waitingPromotion { return .abort }
        if case .waiting(let why) = facts.canary, phase != .promoting, phase != .finalising {
            return .waitForCanary(why)
        }
        if facts.skipAnalysis, phase == .progressing { return .promoteSkippingAnalysis }
        if case .failed(let why) = facts.canary { return .proceed(canaryFailure: why) }
        return .proceed(canaryFailure: nil)
    }

    /// The reason in a readiness, for messages.
    public static func readinessText(_ readiness: Readiness) -> String {
        switch readiness {
        case .ready: return "ready"
        case .waiting(let why), .failed(let why): return why
        }
    }
}
