import CanaryModel
import Progression
import Testing

/// The release state machine's dispatch as a table: BEHAVIOUR.md §3 in Flagger's order, with our differences.
@Suite("Release decisions")
struct ReleaseDecisionTests {
    static let notReady = Readiness.waiting("waiting for rollout to finish")
    static let dead = Readiness.failed("deployment \"podinfo\" exceeded its progress deadline")

    static let rows: [(String, TickFacts, TickDecision)] = [
        (
            "nothing new after a release",
            TickFacts(phase: .succeeded, change: .unchanged, primary: .ready, canary: .ready), .idle
        ),
        (
            "nothing new after a failure",
            TickFacts(phase: .failed, change: .unchanged, primary: .ready, canary: .ready), .idle
        ),
        (
            "a new revision starts a release",
            TickFacts(phase: .initialized, change: .changed, primary: .ready, canary: .ready), .startRelease
        ),
        (
            "a new revision after a failure",
            TickFacts(phase: .failed, change: .changed, primary: .ready, canary: .ready), .startRelease
        ),
        (
            "waiting for confirm-rollout asks again",
            TickFacts(phase: .waiting, change: .unchanged, primary: .ready, canary: .ready), .startRelease
        ),
        (
            "a new revision waits for the primary",
            TickFacts(phase: .succeeded, change: .changed, primary: notReady, canary: .ready),
            .waitForPrimary("waiting for rollout to finish")
        ),
        (
            "skipAnalysis does not wait for the primary",
            TickFacts(phase: .succeeded, change: .changed, primary: notReady, canary: .ready, skipAnalysis: true),
            .startRelease
        ),
        (
            "a primary stuck while promoting fails the promotion",
            TickFacts(phase: .promoting, change: .unchanged, primary: dead, primaryFailure: "exceeded", canary: .ready),
            .failPromotion("exceeded")
        ),
        (
            "a primary still rolling out while promoting is waited for",
            TickFacts(phase: .finalising, change: .unchanged, primary: notReady, canary: .ready),
            .waitForPrimary("waiting for rollout to finish")
        ),
        (
            "a newer revision restarts the analysis",
            TickFacts(phase: .progressing, change: .changed, primary: .ready, canary: notReady),
            .restartAnalysis
        ),
        (
            "a newer revision while waiting for promotion restarts too",
            TickFacts(phase: .waitingPromotion, change: .changed, primary: .ready, canary: .ready),
            .restartAnalysis
        ),
        (
            "a newer revision while promoting does not restart",
            TickFacts(phase: .promoting, change: .changed, primary: .ready, canary: .ready),
            .proceed(canaryFailure: nil)
        ),
        (
            "fledge abort while waiting for confirm-rollout",
            TickFacts(phase: .waiting, change: .unchanged, primary: .ready, canary: .ready, action: .abort),
            .abort
        ),
        (
            "fledge abort needs no ready canary",
            TickFacts(phase: .progressing, change: .unchanged, primary: .ready, canary: notReady, action: .abort),
            .abort
        ),
        (
            "fledge abort while promoting is not obeyed",
            TickFacts(phase: .promoting, change: .unchanged, primary: .ready, canary: .ready, action: .abort),
            .proceed(canaryFailure: nil)
        ),
        (
            "a canary not ready yet is waited for, no failed check",
            TickFacts(phase: .progressing, change: .unchanged, primary: .ready, canary: notReady),
            .waitForCanary("waiting for rollout to finish")
        ),
        (
            "a canary past its deadline is rolled back as not retriable (we differ)",
            TickFacts(phase: .progressing, change: .unchanged, primary: .ready, canary: dead),
            .proceed(canaryFailure: "deployment \"podinfo\" exceeded its progress deadline")
        ),
        (
            "the canary's readiness does not hold back promotion",
            TickFacts(phase: .promoting, change: .unchanged, primary: .ready, canary: notReady),
            .proceed(canaryFailure: nil)
        ),
        (
            "skipAnalysis promotes at once once the canary is ready",
            TickFacts(phase: .progressing, change: .unchanged, primary: .ready, canary: .ready, skipAnalysis: true),
            .promoteSkippingAnalysis
        ),
        (
            "a ready canary goes on with the analysis",
            TickFacts(phase: .progressing, change: .unchanged, primary: .ready, canary: .ready),
            .proceed(canaryFailure: nil)
        ),
    ]

    @Test("each situation leads to one decision", arguments: rows)
    func decision(_ name: String, facts: TickFacts, expected: TickDecision) {
        #expect(ReleaseRules.decide(facts) == expected, "\(name)")
    }
}
