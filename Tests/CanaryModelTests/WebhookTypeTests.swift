import CanaryModel
import Testing

@Suite("Webhook types and alert severities")
struct WebhookTypeTests {
    @Test(
        "a hook's type as the worker reads it",
        arguments: [
            (nil, WebhookType.rollout), ("", .rollout), ("rollout", .rollout), ("pre-rollout", .preRollout),
            ("confirm-traffic-increase", .confirmTrafficIncrease), ("post-rollout", .postRollout), ("event", .event),
            ("pre_rollout", nil), ("Rollout", nil),
        ] as [(String?, WebhookType?)]
    )
    func type(_ field: String?, _ expected: WebhookType?) {
        #expect(CanaryWebhook(name: "hook", type: field, url: "http://hook.test/").webhookType == expected)
    }

    @Test("the events of passed checks open with the type's words")
    func labels() {
        #expect(WebhookType.confirmRollout.eventLabel == "Confirm-rollout")
        #expect(WebhookType.confirmTrafficIncrease.eventLabel == "Confirm-traffic-increase")
        #expect(WebhookType.preRollout.eventLabel == "Pre-rollout")
    }

    @Test("the schema lists the types and severities in Flagger's CRD order, empty first")
    func schemaOrder() {
        #expect(
            CanarySchema.webhookTypes == [
                "", "confirm-rollout", "pre-rollout", "rollout", "confirm-promotion", "post-rollout", "event",
                "rollback", "confirm-traffic-increase",
            ]
        )
        #expect(CanarySchema.alertSeverities == ["", "info", "warn", "error"])
    }
}
