import Dashboard
import JSONValue
import Testing

@Suite("Timelines built from a Canary's Events")
struct TimelineTests {
    /// The tutorial: 3.1.1 promoted in two steps (shortened), then 3.1.2 rolled back after failed checks.
    static let tutorial: [JSONValue] = [
        eventObject("Initialization done! podinfo.prod", second: 0),
        eventObject("New revision detected! Scaling up podinfo.prod", second: 10),
        eventObject("Starting canary analysis for podinfo.prod", second: 11),
        eventObject("Pre-rollout check acceptance-test passed", second: 12),
        eventObject("Advance podinfo.prod canary weight 5", second: 13),
        eventObject("Advance podinfo.prod canary weight 10", second: 20),
        eventObject("Copying podinfo.prod template spec to podinfo-primary.prod", second: 30),
        eventObject("Routing all traffic to primary", second: 40),
        eventObject("Promotion completed! Scaling down podinfo.prod", second: 50),
        eventObject("New revision detected! Scaling up podinfo.prod", second: 100),
        eventObject("Starting canary analysis for podinfo.prod", second: 101),
        eventObject("Advance podinfo.prod canary weight 5", second: 110),
        eventObject("Halt podinfo.prod advancement success rate 87.18% < 99%", second: 120, type: "Warning"),
        eventObject("Halt podinfo.prod advancement success rate 80.31% < 99%", second: 130, type: "Warning"),
        eventObject("Rolling back podinfo.prod failed checks threshold reached 2", second: 140, type: "Warning"),
        eventObject("Canary failed! Scaling down podinfo.prod", second: 141, type: "Warning"),
    ]

    @Test("the tutorial's Events make a promoted release and a rolled-back one")
    func tutorialReleases() throws {
        let (releases, others) = TimelineBuilder.releases(events: Array(Self.tutorial.reversed()), phase: "Failed")
        try #require(releases.count == 2)
        #expect(releases[0].outcome == "promoted")
        #expect(releases[0].peakWeight == 10)
        #expect(releases[0].steps.map(\.weight) == [0, 0, 0, 5, 10, 10, 0, 0])
        #expect(releases[0].steps.last?.kind == "promoted")
        #expect(releases[1].outcome == "rolled-back")
        #expect(releases[1].reason == "failed checks threshold reached 2")
        #expect(releases[1].failedChecks == 2)
        let failed = releases[1].steps.filter { $0.kind == "check-failed" }
        #expect(failed.map { $0.readings.first?.value } == [87.18, 80.31])
        #expect(failed.map(\.failedChecks) == [1, 2])
        #expect(releases[1].steps.last?.weight == 0)
        #expect(others.map(\.kind) == ["initialized"])
    }

    @Test("a release without its outcome Event is in progress, or closed by the Canary's phase")
    func openRelease() {
        let events = Array(Self.tutorial[9...11])
        #expect(TimelineBuilder.releases(events: events, phase: "Progressing").releases.last?.outcome == "in-progress")
        #expect(TimelineBuilder.releases(events: events, phase: "Succeeded").releases.last?.outcome == "promoted")
    }

    @Test("a release whose start expired begins at the first step left")
    func expiredStart() {
        let events = Array(Self.tutorial[5...8])
        let releases = TimelineBuilder.releases(events: events, phase: "Succeeded").releases
        #expect(releases.count == 1)
        #expect(releases.first?.steps.first?.weight == 10)
        #expect(releases.first?.outcome == "promoted")
    }

    @Test("a restarted analysis ends the release it interrupted as superseded")
    func restarted() {
        let events = [
            eventObject("New revision detected! Scaling up podinfo.prod", second: 1),
            eventObject("Advance podinfo.prod canary weight 5", second: 2),
            eventObject("New revision detected! Restarting analysis for podinfo.prod", second: 3),
            eventObject("Advance podinfo.prod canary weight 5", second: 4),
        ]
        let releases = TimelineBuilder.releases(events: events, phase: "Progressing").releases
        #expect(releases.map(\.outcome) == ["superseded", "in-progress"])
        #expect(releases.last?.steps.first?.kind == "restart")
    }

    @Test("only the last releases are kept")
    func keepsLastReleases() {
        var events: [JSONValue] = []
        for index in 0..<5 {
            events.append(eventObject("New revision detected! Scaling up podinfo.prod", second: index * 10))
            events.append(eventObject("Promotion completed! Scaling down podinfo.prod", second: index * 10 + 5))
        }
        #expect(
            TimelineBuilder.releases(events: events, phase: "Succeeded").releases.count == TimelineBuilder.releaseLimit
        )
    }

    @Test("events in the same second keep the order their names give")
    func sameSecondOrder() {
        let first = eventObject("Advance podinfo.prod canary weight 5", second: 7)
        var second = eventObject("Advance podinfo.prod canary weight 10", second: 7)
        second.setMember(["metadata", "name"], "podinfo.ffff")
        #expect(
            TimelineBuilder.ordered([second, first]).map { $0["message"]?.stringValue } == [
                "Advance podinfo.prod canary weight 5", "Advance podinfo.prod canary weight 10",
            ]
        )
    }

    @Test("the detail carries checks with their limits, hooks, the pending action and the summary")
    func detail() {
        let canary = canaryObject(
            phase: "Progressing",
            weight: 10,
            failedChecks: 1,
            annotations: ["fledge.dev/action": "promote"]
        )
        let detail = TimelineBuilder.detail(canary: canary, events: Self.tutorial, measurements: "none")
        #expect(detail.summary.phase == "Progressing")
        #expect(detail.summary.weight == 10)
        #expect(detail.summary.threshold == 5)
        #expect(detail.summary.lastEvent == "Canary failed! Scaling down podinfo.prod")
        #expect(detail.summary.lastEventType == "Warning")
        #expect(detail.checks.map(\.name) == ["request-success-rate", "request-duration"])
        #expect(detail.checks.map(\.min) == [99, nil])
        #expect(detail.checks.map(\.max) == [nil, 500])
        #expect(detail.checks.map(\.unit) == ["%", "ms"])
        #expect(detail.checks.map(\.interval) == ["1m", "30s"])
        #expect(detail.hooks == ["pre-rollout acceptance-test"])
        #expect(detail.maxWeight == 50)
        #expect(detail.pendingAction == "promote")
    }

    @Test("numbers from the cluster are clamped, never trusted")
    func clamps() {
        var canary = canaryObject(phase: "Progressing")
        canary.setMember(["status", "canaryWeight"], .int(Int64.max))
        canary.setMember(["status", "failedChecks"], .int(-4))
        let summary = TimelineBuilder.summary(canary: canary, events: [])
        #expect(summary.weight == 100)
        #expect(summary.failedChecks == 0)
        #expect(TimelineBuilder.summary(canary: [:], events: []).phase == "Initializing")
    }
}
