import CanaryModel
import Foundation
import JSONValue
import KubeModels
import Testing

@testable import Progression

/// One status write of the release machine as the merge patch the Releaser sends.
@Suite("Status changes")
struct StatusChangeTests {
    static let now = "2026-01-01T00:10:00Z"

    static func status(_ phase: CanaryPhase, condition: String, since: String = "2026-01-01T00:00:00Z") -> CanaryStatus
    {
        var status = CanaryStatus(phase: phase)
        status.conditions = [
            CanaryCondition(type: "Promoted", status: condition, message: "before", lastTransitionTime: since)
        ]
        return status
    }

    @Test("a new phase moves lastTransitionTime and the Promoted condition says the phase's words")
    func newPhase() {
        let patch = StatusChange.counters(phase: .progressing, transition: true).patch(
            current: Self.status(.succeeded, condition: "True"),
            generation: 3,
            now: Self.now
        )
        #expect(
            patch == [
                "status": [
                    "phase": "Progressing", "lastTransitionTime": .string(Self.now), "canaryWeight": 0,
                    "failedChecks": 0, "iterations": 0, "observedGeneration": 3,
                    "conditions": [
                        [
                            "type": "Promoted", "status": "Unknown", "reason": "Progressing",
                            "message": "New revision detected, progressing canary analysis.",
                            "lastUpdateTime": .string(Self.now), "lastTransitionTime": .string(Self.now),
                        ]
                    ],
                ]
            ]
        )
    }

    @Test("a weight step keeps the phase and the condition's transition time, back to the phase's words")
    func step() {
        let patch = StatusChange(canaryWeight: 10).patch(
            current: Self.status(.progressing, condition: "Unknown"),
            generation: nil,
            now: Self.now
        )
        #expect(
            patch == [
                "status": [
                    "canaryWeight": 10,
                    "conditions": [
                        [
                            "type": "Promoted", "status": "Unknown", "reason": "Progressing",
                            "message": "New revision detected, progressing canary analysis.",
                            "lastUpdateTime": .string(Self.now), "lastTransitionTime": "2026-01-01T00:00:00Z",
                        ]
                    ],
                ]
            ]
        )
    }

    @Test("a failed check writes its reason into the condition")
    func failedCheck() {
        let patch = StatusChange(failedChecks: 2, conditionMessage: "Halt podinfo.prod advancement success rate")
            .patch(current: Self.status(.progressing, condition: "Unknown"), generation: nil, now: Self.now)
        #expect(patch["status", "failedChecks"] == 2)
        #expect(patch["status", "phase"] == nil)
        #expect(patch["status", "lastTransitionTime"] == nil)
        #expect(patch["status", "conditions"]?[0]?["message"] == "Halt podinfo.prod advancement success rate")
    }

    @Test("the same phase written again moves lastTransitionTime only when asked to")
    func samePhase() {
        let current = Self.status(.progressing, condition: "Unknown")
        let quiet = StatusChange(phase: .progressing, conditionMessage: "waiting")
        #expect(quiet.patch(current: current, generation: nil, now: Self.now)["status", "lastTransitionTime"] == nil)
        var restart = quiet
        restart.transition = true
        #expect(
            restart.patch(current: current, generation: nil, now: Self.now)["status", "lastTransitionTime"]
                == .string(Self.now)
        )
    }

    @Test("a write of revisions alone leaves the condition alone")
    func revisionsOnly() {
        let patch = StatusChange(lastPromotedSpec: "rev1").patch(
            current: Self.status(.succeeded, condition: "True"),
            generation: nil,
            now: Self.now
        )
        #expect(patch == ["status": ["lastPromotedSpec": "rev1"]])
    }

    @Test("the facts of a Canary: names, the clamped analysis, the provider, the time since its transition")
    func facts() throws {
        var canary = Canary(
            metadata: ObjectMeta(name: "podinfo", namespace: "prod"),
            spec: CanarySpec(targetRef: LocalObjectReference(name: "podinfo"))
        )
        canary.status = CanaryStatus(phase: .progressing)
        canary.status?.lastTransitionTime = "2026-01-01T00:00:00Z"
        let now = try #require(ISO8601DateFormatter().date(from: "2026-01-01T00:01:30Z"))
        let facts = ReleaseFacts(
            canary: canary,
            defaultProvider: "kubernetes",
            action: .promote,
            primary: .ready,
            canaryReadiness: .ready,
            elapsed: { now.timeIntervalSince($0) }
        )
        #expect(facts.canary == "podinfo.prod")
        #expect(facts.targetName == "podinfo.prod")
        #expect(facts.primaryName == "podinfo-primary.prod")
        #expect(facts.provider == .kubernetes)
        #expect(facts.secondsSinceTransition == 90)
        #expect(facts.progressDeadlineSeconds == 600)
        #expect(facts.phase == .progressing)
    }
}
