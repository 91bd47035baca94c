import CanaryModel
import DevCluster
import Foundation
import JSONValue
import KubeClient
import Progression
import Synchronization
import Testing

@Suite("Webhooks during a release", .serialized)
struct WebhookScenarioTests {
    /// Every hook type pointing at the receiver, as in SCENARIOS.md (stepWeight 50, stepWeightPromotion 50, maxWeight 50).
    static func hooks(_ url: String) -> JSONValue {
        let types = [
            "confirm-rollout", "pre-rollout", "rollout", "confirm-traffic-increase", "confirm-promotion",
            "post-rollout",
            "rollback", "event",
        ]
        return .array(
            types.map { ["name": .string("\($0)-webhook"), "type": .string($0), "url": .string("\(url)/\($0)")] }
        )
    }

    @Test("each hook type is called in its phase, gates pass, and events reach the event hook in Flagger's order")
    func lifecycle() async throws {
        try await withHarness { harness in
            // The rollback hook must say no, or every tick would roll back.
            harness.receiver.state.statuses.withLock { $0["/rollback"] = 403 }
            try await harness.installWorkload()
            try await harness.installCanary([
                "stepWeight": 50, "maxWeight": 50, "stepWeightPromotion": 50,
                "webhooks": Self.hooks(harness.receiver.url),
            ])
            try await harness.initialise()
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            for _ in 0..<8 where try await harness.phase() != "Succeeded" { try await harness.tick() }
            #expect(try await harness.phase() == "Succeeded")
            let calls = harness.receiver.state.calls.withLock { $0 }
            func count(_ path: String) -> Int { calls.filter { $0.path == path }.count }
            #expect(count("/confirm-rollout") == 1)
            #expect(count("/pre-rollout") == 1)
            #expect(count("/rollout") >= 1)
            #expect(count("/confirm-traffic-increase") >= 1)
            #expect(count("/confirm-promotion") == 1)
            #expect(count("/post-rollout") == 1)
            let payload = try #require(calls.first { $0.path == "/pre-rollout" }?.body)
            #expect(Set(payload.objectValue?.keys.map { $0 } ?? []) == ["name", "namespace", "phase", "checksum"])
            #expect(calls.first { $0.path == "/confirm-rollout" }?.body["phase"] == "Initialized")
            #expect(calls.first { $0.path == "/post-rollout" }?.body["phase"] == "Succeeded")
            let events = calls.filter { $0.path == "/event" }.compactMap {
                $0.body["metadata", "eventMessage"]?.stringValue
            }
            let expected = [
                "Initialization done! podinfo.default",
                "Confirm-rollout check confirm-rollout-webhook passed",
                "New revision detected! Scaling up podinfo.default",
                "Starting canary analysis for podinfo.default",
                "Pre-rollout check pre-rollout-webhook passed",
                "Confirm-traffic-increase check confirm-traffic-increase-webhook passed",
                "Advance podinfo.default canary weight 50",
                "Confirm-promotion check confirm-promotion-webhook passed",
                "Copying podinfo.default template spec to podinfo-primary.default",
                "Advance podinfo.default primary weight 100",
                "Post-rollout check post-rollout-webhook passed",
                "Promotion completed! Scaling down podinfo.default",
            ]
            // Flagger's order, ignoring "not ready" waits in between.
            let relevant = events.filter { expected.contains($0) }
            #expect(relevant == expected, "\(events)")
        }
    }

    @Test("a confirm-rollout gate that says no keeps the release Waiting without failed checks")
    func waiting() async throws {
        try await withHarness { harness in
            harness.receiver.state.statuses.withLock { $0["/gate"] = 403 }
            try await harness.installWorkload()
            try await harness.installCanary([
                "webhooks": [
                    ["name": "gate", "type": "confirm-rollout", "url": .string("\(harness.receiver.url)/gate")]
                ]
            ])
            try await harness.initialise()
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            try await harness.tick()
            try await harness.tick()
            #expect(try await harness.phase() == "Waiting")
            #expect(try await harness.canary()["status", "failedChecks"]?.intValue ?? 0 == 0)
            // kubectl get canary shows why (the Promoted condition's message is a printer column).
            #expect(
                try await harness.canary()["status", "conditions"]?[0]?["message"]
                    == "Halt podinfo.default advancement waiting for approval gate"
            )
            harness.receiver.state.statuses.withLock { $0["/gate"] = 200 }
            try await harness.tick()
            #expect(try await harness.phase() == "Progressing")
        }
    }

    @Test("a failing pre-rollout hook counts failed checks until the rollback")
    func preRolloutFailure() async throws {
        try await withHarness { harness in
            harness.receiver.state.statuses.withLock { $0["/acceptance"] = 500 }
            try await harness.installWorkload()
            try await harness.installCanary([
                "threshold": 2,
                "webhooks": [
                    ["name": "acceptance", "type": "pre-rollout", "url": .string("\(harness.receiver.url)/acceptance")]
                ],
            ])
            try await harness.initialise()
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            for _ in 0..<4 { try await harness.tick() }
            #expect(try await harness.phase() == "Failed")
            #expect(
                harness.messages.contains {
                    $0.hasPrefix("Halt podinfo.default advancement pre-rollout check acceptance failed")
                        && $0.contains("hook said no")
                }
            )
        }
    }

    @Test(
        "fledge promote skips the remaining analysis; fledge abort rolls back; fledge retry runs a failed release again"
    )
    func actions() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary()
            try await harness.initialise()
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            try await harness.tick()
            try await harness.tick()
            try await harness.annotate("abort")
            try await harness.tick()
            #expect(try await harness.phase() == "Failed")
            #expect(try await harness.canary()["metadata", "annotations", ReleaseAction.annotation] == nil)
            try await harness.annotate("retry")
            try await harness.tick()
            #expect(try await harness.phase() == "Progressing")
            try await harness.tick()
            try await harness.annotate("promote")
            try await harness.tick()
            #expect(try await harness.phase() == "Promoting")
            // An action that cannot act is removed with a warning that says why.
            try await harness.annotate("abort")
            try await harness.tick()
            #expect(
                harness.messages.contains(
                    "Ignoring fledge.dev/action=abort: the release passed its analysis and is being promoted; "
                        + "it can no longer be aborted"
                )
            )
            for _ in 0..<3 where try await harness.phase() != "Succeeded" { try await harness.tick() }
            #expect(try await harness.phase() == "Succeeded")
            try await harness.annotate("retry")
            try await harness.tick()
            #expect(
                harness.messages.last
                    == "Ignoring fledge.dev/action=retry: only a Failed release can be retried (phase Succeeded)"
            )
            #expect(try await harness.canary()["metadata", "annotations", ReleaseAction.annotation] == nil)
            #expect(try await harness.phase() == "Succeeded")
        }
    }

    @Test("fledge abort rolls back a canary that is not ready; fledge promote on it says why it waits")
    func actionsOnUnreadyCanary() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary()
            try await harness.initialise()
            try await harness.setReady("podinfo", false)
            try await harness.settle()
            try await harness.tick()
            #expect(try await harness.phase() == "Progressing")
            try await harness.annotate("promote")
            try await harness.tick()
            #expect(try await harness.phase() == "Progressing")
            #expect(
                harness.messages.last
                    == "Ignoring fledge.dev/action=promote: the canary is not ready; run it again once it is"
            )
            try await harness.annotate("abort")
            try await harness.tick()
            #expect(try await harness.phase() == "Failed")
            #expect(harness.messages.contains("Rolling back podinfo.default aborted by fledge abort"))
            // With the primary not ready the tick stops early; the action is answered, not dropped silently.
            try await harness.setReady("podinfo-primary", false)
            try await harness.annotate("retry")
            try await harness.tick()
            #expect(
                harness.messages.last
                    == "Ignoring fledge.dev/action=retry: podinfo-primary.default is not ready; run it again once it is"
            )
        }
    }

    @Test(
        "alerts through a release: Flagger's texts and facts, warn-level gate waits announced once, muteAlert, severity"
    )
    func alertsDuringRelease() async throws {
        try await withHarness { harness in
            harness.receiver.state.statuses.withLock {
                $0["/gate"] = 403
                $0["/quiet"] = 403
            }
            _ = try await harness.client.create(
                "/apis/flagger.app/v1beta1/namespaces/default/alertproviders",
                [
                    "apiVersion": "flagger.app/v1beta1", "kind": "AlertProvider", "metadata": ["name": "on-call"],
                    "spec": ["type": "slack", "address": .string("\(harness.receiver.url)/slack")],
                ]
            )
            try await harness.installWorkload()
            try await harness.installCanary([
                "stepWeight": 50, "maxWeight": 50,
                "alerts": [
                    ["name": "everything", "severity": "info", "providerRef": ["name": "on-call"]],
                    ["name": "errors-only", "severity": "error", "providerRef": ["name": "on-call"]],
                ],
                "webhooks": [
                    [
                        "name": "quiet", "type": "confirm-traffic-increase", "muteAlert": true,
                        "url": .string("\(harness.receiver.url)/quiet"),
                    ],
                    ["name": "gate", "type": "confirm-promotion", "url": .string("\(harness.receiver.url)/gate")],
                ],
            ])
            try await harness.initialise()
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            for _ in 0..<2 { try await harness.tick() }
            #expect(
                harness.events.all.last?.message
                    == "Halt podinfo.default advancement waiting for traffic increase approval quiet"
            )
            #expect(harness.events.all.last?.warning == true)
            #expect(
                try await harness.canary()["status", "conditions"]?[0]?["message"]
                    == "Halt podinfo.default advancement waiting for traffic increase approval quiet"
            )
            harness.receiver.state.statuses.withLock { $0["/quiet"] = 200 }
            try await harness.tick()
            #expect(try await harness.canaryWeight() == 50)
            #expect(
                try await harness.canary()["status", "conditions"]?[0]?["message"]
                    == "New revision detected, progressing canary analysis."
            )
            for _ in 0..<2 { try await harness.tick() }
            #expect(try await harness.phase() == "WaitingPromotion")
            let slack = harness.receiver.state.calls.withLock { $0 }.filter { $0.path == "/slack" }
            let texts = slack.compactMap { $0.body["attachments"]?[0]?["text"]?.stringValue }
            #expect(
                texts == [
                    "New Deployment detected, initialization completed.",
                    "New revision detected, progressing canary analysis.",
                    "Halt podinfo.default advancement waiting for promotion approval gate",
                ],
                "\(texts)"
            )
            let fields = slack.first?.body["attachments"]?[0]?["fields"]?.arrayValue ?? []
            let facts = fields.map { field -> String in
                let title = field["title"]?.stringValue ?? ""
                let value = field["value"]?.stringValue ?? ""
                return "\(title): \(value)"
            }
            #expect(
                facts == [
                    "Target: Deployment/podinfo.default", "Failed checks threshold: 10", "Progress deadline: 600s",
                    "Traffic routing: Weight step: 50 max: 50",
                ]
            )
            #expect(slack.last?.body["attachments"]?[0]?["fields"] == [])
            let warnings = harness.events.all.filter { $0.message.contains("waiting for promotion approval") }
            #expect(warnings.count == 1)
            #expect(warnings.first?.warning == true)
        }
    }
}
